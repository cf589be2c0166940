"""Keys fail closed: with keys not required, only a request that sends no credentials at all is
the anonymous caller. A key that is sent and is unknown, revoked, mistyped or of another scheme
gets 401, as it would where keys are required."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kidstory.access import issue_key
from kidstory.config.settings import Settings
from kidstory.models import utc_now
from kidstory.store.story_table import StoryTable
from tests.unit.api.test_api_moderation import settings

__all__ = ["settings"]  # fixtures used here

STORIES = "/api/v1/stories"


@pytest.fixture
def client(settings: Settings, event_loop_sockets: None) -> TestClient:
    return TestClient(create_app(settings))


def story_table(client: TestClient) -> StoryTable:
    """The table the app checks keys in."""
    table: StoryTable = client.app.state.services.table  # type: ignore[attr-defined]
    return table


def test_no_credentials_is_the_anonymous_caller_when_keys_are_not_required(
    client: TestClient,
) -> None:
    assert client.get(STORIES).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer ks_unknown0000.c2VjcmV0",  # a key that was never issued
        "Bearer not-a-key-at-all",
        "Bearer ",
        "Basic dXNlcjpwYXNz",  # another scheme
        "bearer",
    ],
)
def test_credentials_that_are_sent_and_not_valid_are_refused(
    client: TestClient, authorization: str
) -> None:
    response = client.get(STORIES, headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_is_refused_at_once(client: TestClient) -> None:
    key, token = issue_key("short-lived")
    story_table(client).put_api_key(key)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(STORIES, headers=headers).status_code == 200

    story_table(client).revoke_api_key(key.key_id, utc_now())

    assert client.get(STORIES, headers=headers).status_code == 401
    assert (
        client.post(
            f"{STORIES}/generate",
            json={"prompt": "An otter", "age_group": "3-5", "num_illustrations": 1},
            headers=headers,
        ).status_code
        == 401
    )


def test_a_mistyped_key_is_refused(client: TestClient) -> None:
    key, token = issue_key("typo")
    story_table(client).put_api_key(key)

    response = client.get(STORIES, headers={"Authorization": f"Bearer {token[:-1]}x"})

    assert response.status_code == 401


def test_a_media_path_without_a_signature_refuses_a_wrong_key(client: TestClient) -> None:
    path = f"{STORIES}/images/stories/s-1/page-1.png"

    assert client.get(path).status_code == 404  # anonymous: not the owner
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
