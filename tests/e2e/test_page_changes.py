"""Living books: one page of a finished story regenerated or edited, as a job, every other page
left byte for byte as it was, and each page's earlier versions kept and listable."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.providers.errors import ContentRefused
from kidstory.providers.offline import OfflineImageProvider
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient
from tests.e2e.test_webhooks import Receiver

# 3-5: six pages; three pictures, on pages 1, 4 and 6; every page read aloud
IDEA = {
    "prompt": "A sleepy koala looks for the moon",
    "age_group": "3-5",
    "num_illustrations": 3,
    "narration": True,
}
PAGE_WITH_PICTURE = 4  # picture 2 of 3 (models.picture_page)
PAGE_WITHOUT_PICTURE = 2


def _story(client: ApiClient, **extra: Any) -> dict[str, Any]:
    accepted = client.generate(**IDEA | extra)
    assert accepted.status_code == 202, accepted.text
    job = client.wait_for(accepted.json()["job_id"])
    assert job["status"] == "completed", job["error"]
    story = client.story(job["story_id"]).json()
    assert len(story["pages"]) == 6 and len(story["images"]) == 3
    return dict(story)


def _regenerate(
    client: ApiClient, story_id: str, page: int, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    return client.http.post(
        f"/api/v1/stories/{story_id}/pages/{page}/regenerate", json=body, headers=headers
    )


def _edit(client: ApiClient, story_id: str, page: int, text: str) -> httpx.Response:
    return client.http.patch(f"/api/v1/stories/{story_id}/pages/{page}", json={"text": text})


def _finished(client: ApiClient, accepted: httpx.Response) -> dict[str, Any]:
    assert accepted.status_code == 202, accepted.text
    return client.wait_for(accepted.json()["job_id"])


def _media(client: ApiClient, story: dict[str, Any]) -> dict[str, bytes]:
    """Every picture, clip and page reading of a story, by what it is, as fetched."""
    links = {f"image {i['display_order']}": i["image_url"] for i in story["images"]}
    links |= {f"clip {v['display_order']}": v["video_url"] for v in story["videos"]}
    links |= {f"page {p['page']} read": p["audio_url"] for p in story["narration"]["pages"]}
    fetched = {}
    for name, url in links.items():
        response = client.http.get(url)
        assert response.status_code == 200, name
        fetched[name] = response.content
    return fetched


def _texts(story: dict[str, Any]) -> dict[str, str]:
    return {f"page {number} text": text for number, text in enumerate(story["pages"], start=1)}


def _unsigned(story: dict[str, Any]) -> Any:
    """The story with its media links' signatures left out (a link's expiry moves on by the
    hour): what the story says, and where its media is."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: strip(item) for key, item in value.items()}
        if isinstance(value, list):
            return [strip(item) for item in value]
        if isinstance(value, str) and "?expires=" in value:
            return value.split("?", 1)[0]
        return value

    return strip(story)


def _changed(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(name for name in before if before[name] != after[name])


@pytest.fixture
def other_key(base_url: str, local_stack: LocalStack) -> ApiClient:
    key, token = issue_key("Another school")
    story_table().put_api_key(key)
    return ApiClient(base_url, key=token)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def test_a_regenerated_picture_changes_that_page_only(client: ApiClient) -> None:
    story = _story(client)
    before_media, before_text = _media(client, story), _texts(story)
    book_before = client.http.get(f"/api/v1/stories/{story['id']}/book.epub").content

    job = _finished(client, _regenerate(client, story["id"], PAGE_WITH_PICTURE))

    assert job["status"] == "completed", job["error"]
    # what the change cost is its own: one picture drawn, no text written
    drawn = {(item["kind"], item["unit"]): item["quantity"] for item in job["cost"]["items"]}
    assert drawn[("pictures", "pictures")] == 1
    assert ("text", "output tokens") not in drawn
    after = client.story(story["id"]).json()
    after_media = _media(client, after)
    assert _changed(before_media, after_media) == ["image 1"]  # of 3 pictures, 6 readings
    assert _changed(before_text, _texts(after)) == []
    assert after["page_versions"] == [1, 1, 1, 2, 1, 1]
    # the same hero and art style: the scene's prompt, word for word, with the redraw after it
    old_prompt = story["images"][1]["prompt_used"]
    assert after["images"][1]["prompt_used"].startswith(old_prompt + " Redraw 2: ")
    # the book is bound again with the new picture (and only then shown)
    book = client.http.get(f"/api/v1/stories/{story['id']}/book.epub").content
    assert book != book_before
    with zipfile.ZipFile(io.BytesIO(book)) as epub:
        pictures = [epub.read(name) for name in epub.namelist() if name.endswith(".png")]
    assert after_media["image 1"] in pictures and before_media["image 1"] not in pictures


def test_two_regenerations_keep_both_earlier_versions(client: ApiClient) -> None:
    story = _story(client)
    for _ in range(2):
        job = _finished(client, _regenerate(client, story["id"], 1, text=True))
        assert job["status"] == "completed", job["error"]

    versions = client.http.get(f"/api/v1/stories/{story['id']}/pages/1/versions").json()

    assert versions["current_version"] == 3
    listed = versions["versions"]
    assert [(v["version"], v["change"], v["current"]) for v in listed] == [
        (1, "written", False),
        (2, "regenerated", False),
        (3, "regenerated", True),
    ]
    assert listed[0]["text"] == story["pages"][0]
    assert len({v["text"] for v in listed}) == 3
    assert listed[2]["text"] == client.story(story["id"]).json()["pages"][0]
    # each version's picture and reading is still served, and each is its own
    pictures = [client.http.get(v["image"]["image_url"]).content for v in listed]
    readings = [client.http.get(v["narration"]["audio_url"]).content for v in listed]
    assert len(set(pictures)) == 3 and len(set(readings)) == 3
    assert pictures[0] == client.http.get(story["images"][0]["image_url"]).content
    # another page has its one version
    untouched = client.http.get(f"/api/v1/stories/{story['id']}/pages/2/versions").json()
    assert [v["version"] for v in untouched["versions"]] == [1]
    assert untouched["versions"][0]["image"] is None  # page 2 has no picture


def test_an_unsafe_edit_is_refused_and_changes_nothing(client: ApiClient) -> None:
    story = _story(client)

    refused = _edit(client, story["id"], 3, "Then the pirates came with blood and guns.")

    assert refused.status_code == 422
    [issue] = refused.json()["detail"]
    assert issue["loc"] == ["body", "text"] and issue["type"] == "content_policy"
    assert "violence" in issue["msg"]
    assert _unsigned(client.story(story["id"]).json()) == _unsigned(story)


def test_an_edit_of_a_narrated_story_reads_that_page_again_only(client: ApiClient) -> None:
    story = _story(client)
    before_media, before_text = _media(client, story), _texts(story)
    text = "The koala yawned a big yawn. Then the koala saw a soft, round light."

    job = _finished(client, _edit(client, story["id"], PAGE_WITHOUT_PICTURE, text))

    assert job["status"] == "completed", job["error"]
    after = client.story(story["id"]).json()
    assert _changed(before_media, _media(client, after)) == ["page 2 read"]
    assert _changed(before_text, _texts(after)) == ["page 2 text"]
    assert after["pages"][1] == text
    reading = after["narration"]["pages"][1]
    assert [text[w["char_start"] : w["char_end"]] for w in reading["words"]] == [
        w["text"] for w in reading["words"]
    ]
    assert " ".join(w["text"] for w in reading["words"]).startswith("The koala yawned")
    assert after["readability"] is not None and after["page_versions"][1] == 2
    assert client.job(job["job_id"])["progress"]["narration_done"] == 1
    read = {(item["kind"], item["unit"]): item["quantity"] for item in job["cost"]["items"]}
    assert read[("narration", "characters")] == len(text)  # the page read again, no more


def test_another_key_gets_404_for_every_page_change(
    client: ApiClient, other_key: ApiClient
) -> None:
    story = _story(client)
    story_id = story["id"]

    answers = [
        _regenerate(other_key, story_id, 1),
        _edit(other_key, story_id, 1, "A kind new page."),
        other_key.http.get(f"/api/v1/stories/{story_id}/pages/1/versions"),
        # nor do pages the story does not have, for its owner
        _regenerate(client, story_id, 7),
        _edit(client, story_id, 7, "A kind new page."),
        client.http.get(f"/api/v1/stories/{story_id}/pages/7/versions"),
        _regenerate(client, str(uuid.uuid4()), 1),
    ]

    assert [answer.status_code for answer in answers] == [404] * len(answers)
    assert _unsigned(client.story(story_id).json()) == _unsigned(story)


def test_a_replayed_request_makes_no_second_job(client: ApiClient) -> None:
    story = _story(client)
    headers = {"Idempotency-Key": f"regenerate-{uuid.uuid4()}"}

    first = _regenerate(client, story["id"], 1, headers=headers)
    again = _regenerate(client, story["id"], 1, headers=headers)
    client.wait_for(first.json()["job_id"])
    late = _regenerate(client, story["id"], 1, headers=headers)
    other_body = _regenerate(client, story["id"], 1, headers=headers, text=True)

    assert first.status_code == again.status_code == late.status_code == 202
    assert first.json()["job_id"] == again.json()["job_id"] == late.json()["job_id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422
    after = client.story(story["id"]).json()
    assert after["page_versions"][0] == 2  # one change, not three
    versions = client.http.get(f"/api/v1/stories/{story['id']}/pages/1/versions").json()
    assert len(versions["versions"]) == 2


def test_one_change_at_a_time_and_nothing_to_regenerate(client: ApiClient) -> None:
    story = _story(client)

    running = _regenerate(client, story["id"], 1)
    meanwhile = _edit(client, story["id"], 3, "A kind new page.")
    client.wait_for(running.json()["job_id"])
    nothing = _regenerate(client, story["id"], 1, picture=False)
    no_picture = _regenerate(client, story["id"], PAGE_WITHOUT_PICTURE)

    assert running.status_code == 202
    assert meanwhile.status_code == 409
    for refused in (nothing, no_picture):
        assert refused.status_code == 422
        [issue] = refused.json()["detail"]
        assert issue["loc"] == ["body", "picture"] and issue["type"] == "nothing_to_regenerate"
    # once the first has ended, the next change may start
    assert _finished(client, _edit(client, story["id"], 3, "A kind new page."))["status"] == (
        "completed"
    )


def test_story_updated_is_announced_when_a_page_change_ends(
    client: ApiClient, receiver: Receiver
) -> None:
    story = _story(client)

    job = _finished(client, _regenerate(client, story["id"], 1, webhook_url=receiver.url))

    [(_, body)] = receiver.wait_for(job["job_id"])
    notice = json.loads(body)
    assert notice["event"] == "story.updated"
    assert notice["status"] == "completed" and notice["story_id"] == story["id"]


def test_a_failed_page_change_leaves_the_story_as_it_was(
    client: ApiClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = _story(client)
    before_media = _media(client, story)

    def refuse(self: OfflineImageProvider, spec: object) -> object:
        raise ContentRefused("not for children")

    monkeypatch.setattr(OfflineImageProvider, "generate_image", refuse)
    job = _finished(
        client, _regenerate(client, story["id"], 1, text=True, webhook_url=receiver.url)
    )

    assert job["status"] == "failed" and "not for children" in job["error"]
    assert _unsigned(client.story(story["id"]).json()) == _unsigned(story)
    assert _media(client, story) == before_media
    versions = client.http.get(f"/api/v1/stories/{story['id']}/pages/1/versions").json()
    assert [v["version"] for v in versions["versions"]] == [1]
    [(_, body)] = receiver.wait_for(job["job_id"])
    assert json.loads(body)["event"] == "story.updated"
    assert json.loads(body)["status"] == "failed"
    monkeypatch.undo()
    # the story is free for the next change
    assert _finished(client, _regenerate(client, story["id"], 1))["status"] == "completed"


def test_a_deleted_story_takes_its_pages_versions_with_it(client: ApiClient) -> None:
    story = _story(client)
    job = _finished(client, _regenerate(client, story["id"], 1, text=True))
    versions = client.http.get(f"/api/v1/stories/{story['id']}/pages/1/versions").json()
    links = [v["image"]["image_url"] for v in versions["versions"]]
    links += [v["narration"]["audio_url"] for v in versions["versions"]]
    assert all(client.http.get(link).status_code == 200 for link in links)

    assert client.http.delete(f"/api/v1/stories/{job['job_id']}").status_code == 204

    assert [client.http.get(link).status_code for link in links] == [404] * len(links)
    assert client.http.get(f"/api/v1/stories/{story['id']}/pages/1/versions").status_code == 404
    for job_id in (job["job_id"], story["job_id"]):
        assert client.http.get(f"/api/v1/stories/jobs/{job_id}").status_code == 404
