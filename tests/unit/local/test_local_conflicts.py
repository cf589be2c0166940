"""The local stack's switch for DynamoDB transaction conflicts (infra/local/conflicts.py): moto
cancels transactions with TransactionConflict as the policy says, the error reaches boto3 as
DynamoDB sends it, and the switch composes with the emulator's write lock."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from infra.local.conflicts import ConflictPolicy, injected
from infra.local.emulator import make_dynamodb_writes_atomic
from tests.unit.conftest import TABLE


def test_an_injected_conflict_reaches_boto3_as_dynamodb_reports_it(aws: None) -> None:
    client = boto3.client("dynamodb")
    put = {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}

    with injected("first=1"), pytest.raises(client.exceptions.TransactionCanceledException) as e:
        client.transact_write_items(TransactItems=[put])

    assert e.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in e.value.response["CancellationReasons"]] == ["TransactionConflict"]
    assert "Item" not in client.get_item(TableName=TABLE, Key=put["Put"]["Item"])  # not applied


def test_conflicts_follow_the_policy_and_stop_when_switched_off(aws: None) -> None:
    client = boto3.client("dynamodb")

    def put(n: int) -> dict[str, Any]:
        return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"p{n}"}, "sk": {"S": "s"}}}}

    with injected("first=2") as conflicts:
        for _ in range(2):  # the first two tries of one transaction conflict, the third passes
            with pytest.raises(client.exceptions.TransactionCanceledException):
                client.transact_write_items(TransactItems=[put(1), put(2)])
        client.transact_write_items(TransactItems=[put(1), put(2)])
        assert conflicts.injected == 2
    client.transact_write_items(TransactItems=[put(3)])  # switched off again


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        (None, None),
        ("", None),
        ("off", None),
        ("first=2", ConflictPolicy(first=2)),
        ("rate=0.3,seed=7", ConflictPolicy(rate=0.3, seed=7)),
        ("first=1, rate=0.2", ConflictPolicy(first=1, rate=0.2)),
    ],
)
def test_the_switch_reads_its_policy(text: str | None, policy: ConflictPolicy | None) -> None:
    assert ConflictPolicy.parse(text) == policy


@pytest.mark.parametrize("text", ["2", "first=-1", "rate=1.5", "later=3"])
def test_a_policy_that_cannot_be_read_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="LOCAL_DYNAMODB_CONFLICTS"):
        ConflictPolicy.parse(text)


def test_the_switch_composes_with_the_emulators_write_lock(aws: None) -> None:
    from moto.dynamodb.models import DynamoDBBackend

    make_dynamodb_writes_atomic()
    with injected("first=1"):
        wrapped = DynamoDBBackend.transact_write_items
        make_dynamodb_writes_atomic()  # as a second local stack in the process would
        assert DynamoDBBackend.transact_write_items is wrapped
        client = boto3.client("dynamodb")
        put = {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}}}
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(TransactItems=[put])
        client.transact_write_items(TransactItems=[put])  # a second try: injected once only
