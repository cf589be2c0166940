"""Stories made from a story, through the HTTP API on the local stack: a sequel keeps its
parent's hero and joins its series; a version in another language reuses its parent's pictures
byte for byte with no picture call; only the owner may ask; a repeated request makes one job;
generate writes in the language asked for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient, _clear_process_caches
from tests.e2e.fake_models import VERSION_TITLE, FakeModelServer
from tests.e2e.test_provider_families import make_story, openai_environment

PARENT_IDEA = "A brave little mouse goes on an adventure to find a magical cheese"


@pytest.fixture(scope="module")
def owner(base_url: str, local_stack: LocalStack) -> ApiClient:
    key, token = issue_key("Story owner")
    story_table().put_api_key(key)
    return ApiClient(base_url, key=token)


@pytest.fixture(scope="module")
def stranger(base_url: str, local_stack: LocalStack) -> ApiClient:
    key, token = issue_key("Someone else")
    story_table().put_api_key(key)
    return ApiClient(base_url, key=token)


@pytest.fixture(scope="module")
def parent(owner: ApiClient) -> dict[str, Any]:
    """A completed offline story of the owner's, with two pictures."""
    accepted = owner.generate(prompt=PARENT_IDEA, age_group="6-8", num_illustrations=2)
    assert accepted.status_code == 202, accepted.text
    job = owner.wait_for(accepted.json()["job_id"])
    assert job["status"] == "completed", job["error"]
    story: dict[str, Any] = owner.story(job["story_id"]).json()
    return story


def _completed(client: ApiClient, accepted: Any) -> dict[str, Any]:
    assert accepted.status_code == 202, accepted.text
    job = client.wait_for(accepted.json()["job_id"])
    assert job["status"] == "completed", job["error"]
    story: dict[str, Any] = client.story(job["story_id"]).json()
    return story


def test_a_sequel_keeps_the_parents_hero_word_for_word_and_joins_its_series(
    owner: ApiClient, parent: dict[str, Any]
) -> None:
    # an owl in the idea: the offline writer would make an owl the hero of a new story
    accepted = owner.http.post(
        f"/api/v1/stories/{parent['id']}/sequel",
        json={"prompt": "The owl and the lost kite in the garden"},
    )
    sequel = _completed(owner, accepted)

    assert sequel["character"] == parent["character"]
    stored_parent = story_table().get_story_item(parent["id"])
    stored_sequel = story_table().get_story_item(sequel["id"])
    assert stored_parent is not None and stored_sequel is not None
    assert stored_sequel.art_style == stored_parent.art_style
    assert stored_sequel.character == stored_parent.character
    for image in sequel["images"]:
        assert stored_parent.character.look in image["prompt_used"]
    assert sequel["series_id"] == parent["id"] and sequel["parent_id"] == parent["id"]
    assert sequel["age_group"] == parent["age_group"]  # unset: the parent's request
    assert len(sequel["images"]) == len(parent["images"])

    again = owner.story(parent["id"]).json()
    assert again["series_id"] == parent["id"]
    assert [(s["id"], s["relation"]) for s in again["sequels"]] == [(sequel["id"], "sequel")]
    assert again["versions"] == []


def test_only_the_owner_may_ask_for_a_sequel_or_a_version(
    owner: ApiClient, stranger: ApiClient, parent: dict[str, Any]
) -> None:
    for path, body in (
        ("sequel", {"prompt": "Another day in the garden"}),
        ("versions", {"language": "es"}),
    ):
        refused = stranger.http.post(f"/api/v1/stories/{parent['id']}/{path}", json=body)
        assert refused.status_code == 404, refused.text
        unknown = owner.http.post(f"/api/v1/stories/no-such-story/{path}", json=body)
        assert unknown.status_code == 404
    unchanged = owner.http.post(
        f"/api/v1/stories/{parent['id']}/versions", json={"language": "en", "age_group": "6-8"}
    )
    assert unchanged.status_code == 422
    assert unchanged.json()["detail"][0]["type"] == "version_unchanged"


def test_a_story_still_being_made_gets_409_for_a_sequel(owner: ApiClient) -> None:
    accepted = owner.generate(prompt=PARENT_IDEA, age_group="3-5", num_illustrations=3)
    job_id = accepted.json()["job_id"]

    early = owner.http.post(f"/api/v1/stories/{job_id}/sequel", json={"prompt": "More cheese"})

    assert early.status_code == 409, early.text
    assert owner.wait_for(job_id)["status"] == "completed"


def test_a_repeated_sequel_or_version_request_with_its_key_makes_one_job(
    owner: ApiClient, parent: dict[str, Any]
) -> None:
    for path, body in (
        ("sequel", {"prompt": "A picnic by the river", "num_illustrations": 1}),
        ("versions", {"age_group": "3-5"}),
    ):
        headers = {"Idempotency-Key": f"derived-{path}-once"}
        url = f"/api/v1/stories/{parent['id']}/{path}"
        first = owner.http.post(url, json=body, headers=headers)
        second = owner.http.post(url, json=body, headers=headers)
        assert first.status_code == second.status_code == 202, (first.text, second.text)
        assert second.json()["job_id"] == first.json()["job_id"]
        assert second.headers["idempotent-replayed"] == "true"
        other = owner.http.post(
            url, json=body | {"webhook_url": None, "narration": True}, headers=headers
        )
        assert other.status_code == 422  # the same key with another request
        assert owner.wait_for(first.json()["job_id"])["status"] == "completed"


def test_generate_writes_in_the_language_asked_for_and_reads_it_aloud_in_it(
    owner: ApiClient,
) -> None:
    accepted = owner.generate(
        prompt=PARENT_IDEA, age_group="3-5", num_illustrations=1, language="es", narration=True
    )
    story = _completed(owner, accepted)

    assert story["language"] == "es"
    # the offline writer cannot write Spanish: it says so on the title and every page
    assert story["title"].endswith("[es · offline, not translated]")
    assert all(page.startswith("[es · offline, not translated] ") for page in story["pages"])
    assert story["narration"]["voice"] == "es"
    # its text is English, so it is measured as English, not by a Spanish formula
    assert story["readability"]["formula"] == "flesch-kincaid"


# a version made by a model (the OpenAI family, faked at the wire)


@pytest.fixture
def fake_openai(local_stack: LocalStack) -> Iterator[FakeModelServer]:
    """The text and picture providers are OpenAI's SDK talking to a fake model server."""
    with FakeModelServer() as server, pytest.MonkeyPatch.context() as patch:
        for name, value in openai_environment(server).items():
            patch.setenv(name, value)
        _clear_process_caches()
        yield server
    _clear_process_caches()


def test_a_spanish_version_reuses_the_parents_pictures_byte_for_byte_with_no_picture_call(
    client: ApiClient, fake_openai: FakeModelServer
) -> None:
    model = fake_openai.model
    parent = make_story(client, age_group="6-8", num_illustrations=2)
    pictures_before = len(model.of_kind("picture"))
    assert pictures_before == 2

    accepted = client.http.post(f"/api/v1/stories/{parent['id']}/versions", json={"language": "es"})
    version = _completed(client, accepted)

    assert len(model.of_kind("picture")) == pictures_before  # no picture was asked for
    assert not model.problems, model.problems
    (asked,) = model.of_kind("version")
    assert 'Spanish (BCP 47 "es")' in asked.body["instructions"]
    assert version["title"] == VERSION_TITLE and version["language"] == "es"
    assert version["parent_id"] == parent["id"] and version["series_id"] is None
    assert len(version["pages"]) == len(parent["pages"])
    assert version["readability"]["formula"] == "fernandez-huerta"
    assert version["character"] == parent["character"]
    assert [i["display_order"] for i in version["images"]] == [
        i["display_order"] for i in parent["images"]
    ]
    for mine, theirs in zip(version["images"], parent["images"], strict=True):
        assert mine["id"] != theirs["id"]  # its own copy, at its own key
        assert (
            client.http.get(mine["image_url"]).content
            == client.http.get(theirs["image_url"]).content
        )

    listed = client.story(parent["id"]).json()
    assert [(v["id"], v["language"]) for v in listed["versions"]] == [(version["id"], "es")]

    # deleting the parent leaves the version's pictures whole
    assert client.http.delete(f"/api/v1/stories/{parent['id']}").status_code == 204
    for image in version["images"]:
        fetched = client.http.get(image["image_url"])
        assert fetched.status_code == 200 and fetched.content.startswith(b"\x89PNG")
