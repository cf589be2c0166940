"""Idempotency and limits hold under DynamoDB's real concurrency: with the local stack's
transactions conflicting as they do on AWS (infra/local/conflicts.py), concurrent requests with
one Idempotency-Key make one job, charges are exact, a full window is still a 429, conflicts
that outlast the retries are a 503 with Retry-After, and jobs still complete."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from infra.local.conflicts import injected
from infra.local.emulator import LocalStack
from kidstory.access import Window, parse_token
from tests.e2e.conftest import ApiClient
from tests.e2e.test_access import IDEA, _key

COST = 2  # the story and one picture
GENERATE = "/api/v1/stories/generate"


def _client(base_url: str, name: str, **limits: int) -> tuple[ApiClient, str]:
    token = _key(name, **limits)
    parsed = parse_token(token)
    assert parsed is not None
    return ApiClient(base_url, key=token), f"key:{parsed[0]}"


def _spent_today(local_stack: LocalStack, owner: str, created_at: str) -> int:
    """The units counted in the owner's daily window."""
    day = Window("daily", 86_400, 1).key(owner, datetime.fromisoformat(created_at))
    found = local_stack.client("dynamodb").get_item(
        TableName=local_stack.name_of("AWS::DynamoDB::Table"),
        Key={"pk": {"S": f"LIMIT#{day}"}, "sk": {"S": "LIMIT"}},
        ConsistentRead=True,
    )
    return int(found["Item"]["used"]["N"]) if "Item" in found else 0


def test_ten_requests_at_once_with_one_key_under_conflicts_make_one_job_charged_once(
    base_url: str, local_stack: LocalStack
) -> None:
    client, owner = _client(base_url, "busy app")
    headers = {"Idempotency-Key": str(uuid.uuid4())}

    # what is checked is what the ten answers say, not how fast they come: they share this
    # process (and its one interpreter lock) with the stack's running workflows, books included
    with injected("first=2,rate=0.2,seed=11") as conflicts, ThreadPoolExecutor(10) as pool:
        answers = list(
            pool.map(
                lambda _: client.http.post(GENERATE, json=IDEA, headers=headers, timeout=120),
                range(10),
            )
        )
        assert conflicts.injected >= 2
        assert [answer.status_code for answer in answers] == [202] * 10
        (job_id,) = {answer.json()["job_id"] for answer in answers}
        job = client.wait_for(job_id)  # its workflow's transactions conflict too

    assert job["status"] == "completed", job["error"]
    assert _spent_today(local_stack, owner, job["created_at"]) == COST
    executions = local_stack.client("stepfunctions").list_executions(
        stateMachineArn=local_stack.state_machine_arn
    )["executions"]
    assert [e["name"] for e in executions].count(job_id) == 1


def test_a_full_window_under_conflicts_is_still_a_429_and_charges_nothing(
    base_url: str, local_stack: LocalStack
) -> None:
    # a daily quota: a minute's window could turn between the two requests
    client, owner = _client(base_url, "tiny and busy", daily_quota=3)

    with injected("first=2"):
        first = client.generate(**IDEA)
        second = client.generate(**IDEA)

    assert first.status_code == 202, first.text
    assert second.status_code == 429, second.text
    assert "daily limit of 3 units" in second.json()["detail"], second.text
    job = client.job(first.json()["job_id"])
    assert _spent_today(local_stack, owner, job["created_at"]) == COST
    client.wait_for(job["job_id"])


def test_conflicts_that_outlast_the_retries_get_503_and_cost_nothing(
    base_url: str, local_stack: LocalStack
) -> None:
    client, owner = _client(base_url, "unlucky")
    headers = {"Idempotency-Key": str(uuid.uuid4())}

    with injected("first=100"):
        busy = client.http.post(GENERATE, json=IDEA, headers=headers)

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    accepted = client.http.post(GENERATE, json=IDEA, headers=headers)  # the client's retry
    assert accepted.status_code == 202
    assert "idempotent-replayed" not in accepted.headers
    job = client.wait_for(accepted.json()["job_id"])
    assert _spent_today(local_stack, owner, job["created_at"]) == COST
