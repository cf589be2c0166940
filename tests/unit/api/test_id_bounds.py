"""An id in a path that is longer than any of ours (they are 36-character UUIDs) names nothing:
the API answers the same 404 as for any unknown id, without asking DynamoDB (which would refuse
a key over its limits with a ValidationException, a 500 before this)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kidstory.access import parse_token
from kidstory.library import StoryLibrary
from kidstory.models import ID_MAX_LENGTH, could_be_id, new_id
from kidstory.store.story_table import StoryTable
from tests.unit.api.test_api_moderation import Starter, api_settings

LONG = "a" * (ID_MAX_LENGTH + 1)
HUGE = "b" * 3000  # over DynamoDB's 2048-byte partition key limit


class NoDynamoDB:
    """A DynamoDB client that fails the test if it is called at all."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        raise AssertionError(f"DynamoDB was called: {name}")


@pytest.fixture
def dynamodb() -> NoDynamoDB:
    return NoDynamoDB()


@pytest.fixture
def http(dynamodb: NoDynamoDB, event_loop_sockets: None) -> TestClient:
    table = StoryTable(dynamodb, "unused")
    stories = StoryLibrary(table, Starter(), media=None, per_minute=10, daily=50)  # type: ignore[arg-type]
    app = create_app(api_settings(), library=stories, table=table)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("story_id", [LONG, HUGE])
def test_ids_longer_than_ours_get_the_usual_404_without_a_lookup(
    http: TestClient, dynamodb: NoDynamoDB, story_id: str
) -> None:
    prefix = "/api/v1/stories"

    assert http.get(f"{prefix}/jobs/{story_id}").json() == {"detail": f"Job {story_id} not found"}
    assert http.get(f"{prefix}/{story_id}").json() == {"detail": f"Story {story_id} not found"}
    assert http.delete(f"{prefix}/{story_id}").json() == {"detail": f"Story {story_id} not found"}
    for path in (
        f"{prefix}/images/stories/{story_id}/{new_id()}.png",
        f"{prefix}/videos/stories/{story_id}/{new_id()}.mp4",
        f"{prefix}/images/stories/{new_id()}/{story_id}.png",
    ):
        assert http.get(path).json() == {"detail": "Media not found"}
    answers = [
        http.get(f"{prefix}/jobs/{story_id}"),
        http.get(f"{prefix}/{story_id}"),
        http.delete(f"{prefix}/{story_id}"),
        http.get(f"{prefix}/images/stories/{story_id}/x.png"),
    ]
    assert [answer.status_code for answer in answers] == [404] * 4
    assert dynamodb.calls == []


def test_a_token_naming_a_key_id_longer_than_ours_is_not_ours() -> None:
    assert parse_token(f"ks_{LONG}_secret") is None
    assert parse_token("ks_0123456789ab_secret") == ("0123456789ab", "secret")


def test_our_own_ids_are_within_the_bound() -> None:
    assert could_be_id(new_id())
    assert could_be_id("x" * ID_MAX_LENGTH)
    assert not could_be_id(LONG)
    assert not could_be_id("")
