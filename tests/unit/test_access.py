"""Keys are stored hashed and checked in constant time; limits count what a request costs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from kidstory.access import (
    Charge,
    RateLimited,
    Window,
    issue_key,
    parse_token,
    request_cost,
    secret_matches,
)
from kidstory.clients.key_admin import main as key_admin
from kidstory.models import StoryRequest
from kidstory.store.story_table import StoryTable
from tests.unit.conftest import TABLE

NOW = datetime(2026, 11, 25, 9, 30, 15, tzinfo=UTC)


def test_a_token_is_shown_once_and_only_its_hash_is_kept() -> None:
    key, token = issue_key("School")

    key_id, secret = parse_token(token)  # type: ignore[misc]

    assert key_id == key.key_id
    assert secret not in key.model_dump_json()
    assert secret_matches(key, secret)
    assert not secret_matches(key, secret[:-1] + "x")


@pytest.mark.parametrize("token", ["", "your_api_key", "ks_", "ks_abc", "sk_abc_def", "ks__x"])
def test_other_tokens_are_not_ours(token: str) -> None:
    assert parse_token(token) is None


@pytest.mark.parametrize(
    ("options", "cost"),
    [
        ({"num_illustrations": 1}, 2),
        ({"num_illustrations": 10}, 11),
        ({"num_illustrations": 3, "generate_videos": True}, 16),
        ({"num_illustrations": 3, "generate_images": False, "generate_videos": True}, 13),
        ({"num_illustrations": 5, "generate_images": False}, 1),
    ],
)
def test_a_request_costs_by_what_it_makes(options: dict, cost: int) -> None:
    request = StoryRequest.model_validate({"prompt": "x", "age_group": "3-5"} | options)

    assert request_cost(request) == cost


def test_windows_are_fixed_and_say_when_they_reset() -> None:
    minute = Window("per-minute", 60, 100)

    assert minute.key("key:a", NOW) == f"key:a#per-minute#{int(NOW.timestamp()) - 15}"
    assert minute.resets_in(NOW) == 45


def test_limits_are_shared_and_all_or_nothing(table: StoryTable) -> None:
    windows = [Window("per-minute", 60, 5), Window("daily", 86_400, 7)]

    table.charge(Charge("key:a", 3, windows, NOW))
    with pytest.raises(RateLimited, match="per-minute limit of 5") as refused:
        table.charge(Charge("key:a", 3, windows, NOW))
    assert refused.value.retry_after_seconds == 45
    table.charge(Charge("key:b", 3, windows, NOW))  # another caller has its own windows
    later = NOW.replace(minute=31)
    table.charge(Charge("key:a", 3, windows, later))  # a new minute; the day now holds 6
    with pytest.raises(RateLimited, match="daily limit of 7"):
        table.charge(Charge("key:a", 2, windows, later.replace(minute=32)))


def test_keys_are_created_listed_and_revoked_by_command(
    table: StoryTable, capsys: pytest.CaptureFixture[str]
) -> None:
    assert key_admin(["--table", TABLE, "create", "--name", "Reading app"]) == 0
    created = capsys.readouterr().out
    key_id = created.split("key id: ")[1].split()[0]
    token = created.split("token:  ")[1].split()[0]
    assert parse_token(token) == (key_id, token.split("_", 2)[2])

    assert key_admin(["--table", TABLE, "revoke", key_id]) == 0
    assert key_admin(["--table", TABLE, "list"]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "revoked" in listed and "Reading app" in listed
    assert key_admin(["--table", TABLE, "revoke", "nosuchkey"]) == 1


def test_the_key_admin_finds_the_local_stack_on_its_aws_port(
    table: StoryTable, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoints: list[str | None] = []
    make_client = boto3.client

    def recorded(service: str, **options: Any) -> Any:
        endpoints.append(options.pop("endpoint_url", None))
        return make_client(service, **options)  # moto answers in this process

    monkeypatch.setattr(boto3, "client", recorded)
    monkeypatch.setenv("LOCAL_AWS_PORT", "5123")

    assert key_admin(["--local", "--table", TABLE, "list"]) == 0

    assert endpoints == ["http://127.0.0.1:5123"]
