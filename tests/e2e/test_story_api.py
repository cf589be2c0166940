"""A client's journey through the API: ask for a story, follow the job, read the story, fetch
every picture and clip. The synthesized state machine runs on emulated AWS."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ApiClient

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IDEA = "A brave little mouse goes on an adventure to find a magical cheese"


def _make_story(client: ApiClient, **options: object) -> tuple[dict, dict]:
    body = {"prompt": IDEA, "age_group": "6-8", "num_illustrations": 1} | options
    accepted = client.generate(**body)
    assert accepted.status_code == 202, accepted.text
    job = client.wait_for(accepted.json()["job_id"])
    assert job["status"] == "completed", job["error"]
    story = client.story(job["story_id"])
    assert story.status_code == 200, story.text
    return job, story.json()


def test_generate_answers_at_once_with_a_pending_job(client: ApiClient) -> None:
    accepted = client.generate(prompt=IDEA, age_group="3-5", num_illustrations=1)

    assert accepted.status_code == 202
    body = accepted.json()
    assert set(body) == {"job_id", "status", "message"}
    assert body["status"] == "pending"
    assert "job_id" in body["message"]
    client.wait_for(body["job_id"])


def test_completed_job_reports_its_story(client: ApiClient) -> None:
    job, story = _make_story(client, num_illustrations=2)

    seed_fields = {"job_id", "status", "story_id", "error", "created_at", "updated_at"}
    assert set(job) == seed_fields | {"progress", "webhook", "cost"}  # additions
    assert job["webhook"] is None
    assert job["error"] is None
    assert job["updated_at"] >= job["created_at"]
    assert story["id"] == job["story_id"]
    assert story["prompt"] == IDEA
    assert story["age_group"] == "6-8"
    assert story["title"] and len(story["content"]) > 200
    assert story["offline"] is True and "Offline" in story["notice"]
    readability = story["readability"]
    assert readability["fits_age_group"] is True
    assert 0 < readability["grade_level"] <= readability["band_max_grade"] == 6.0
    assert story["complete"] is True
    partial = client.http.get(f"/api/v1/stories/{story['id']}", params={"partial": "true"})
    assert partial.status_code == 200 and partial.json()["complete"] is True


@pytest.mark.parametrize(
    ("images", "videos", "count"),
    [(True, False, 3), (False, True, 2), (True, True, 2), (False, False, 1), (True, False, 10)],
    ids=["images-only", "videos-only", "both", "neither", "ten-images"],
)
def test_story_has_the_media_that_was_asked_for(
    client: ApiClient, images: bool, videos: bool, count: int
) -> None:
    _, story = _make_story(
        client, num_illustrations=count, generate_images=images, generate_videos=videos
    )

    assert [image["display_order"] for image in story["images"]] == (
        list(range(count)) if images else []
    )
    assert [video["display_order"] for video in story["videos"]] == (
        list(range(count)) if videos else []
    )
    assert len({image["id"] for image in story["images"]}) == len(story["images"])
    for image in story["images"]:
        assert image["prompt_used"] and image["scene_description"]
        fetched = client.http.get(image["image_url"])
        assert fetched.status_code == 200
        assert fetched.headers["content-type"] == "image/png"
        assert fetched.content.startswith(PNG_SIGNATURE)
    for video in story["videos"]:
        fetched = client.http.get(video["video_url"])
        assert fetched.status_code == 200
        assert fetched.headers["content-type"] == "video/mp4"
        assert fetched.content[4:8] == b"ftyp"


def test_the_hero_is_described_the_same_in_every_prompt(client: ApiClient) -> None:
    _, story = _make_story(client, num_illustrations=3, generate_videos=True)

    look = story["character"]["look"]
    prompts = [item["prompt_used"] for item in story["images"] + story["videos"]]
    assert len(prompts) == 6
    assert all(look in prompt for prompt in prompts)


def test_story_can_be_read_by_its_job_id(client: ApiClient) -> None:
    job, story = _make_story(client)

    by_job = client.story(job["job_id"])

    assert by_job.status_code == 200
    assert by_job.json()["id"] == story["id"]


def test_completed_stories_are_listed_newest_first(client: ApiClient) -> None:
    _, first = _make_story(client)
    _, second = _make_story(client)

    listed = client.http.get("/api/v1/stories", params={"limit": 2, "offset": 0}).json()

    assert set(listed) == {"stories", "total"}
    assert listed["total"] >= 2
    assert [summary["id"] for summary in listed["stories"]] == [second["id"], first["id"]]
    summary = listed["stories"][0]
    assert set(summary) == {"id", "title", "age_group", "prompt", "created_at", "num_images"}
    assert summary["num_images"] == 1
    further = client.http.get("/api/v1/stories", params={"limit": 1, "offset": 1}).json()
    assert [s["id"] for s in further["stories"]] == [first["id"]]
    assert further["total"] == listed["total"]


def test_a_running_job_reports_its_progress(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from kidstory.providers.offline import OfflineImageProvider

    original = OfflineImageProvider.generate_image

    def slow(self: OfflineImageProvider, spec: object) -> object:
        time.sleep(0.4)
        return original(self, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(OfflineImageProvider, "generate_image", slow)
    job_id = client.generate(prompt=IDEA, age_group="6-8", num_illustrations=3).json()["job_id"]

    seen = []
    while (job := client.job(job_id))["status"] not in ("completed", "failed"):
        seen.append(job["progress"])
        time.sleep(0.05)

    assert job["progress"] == {
        "stage": "done",
        "images_done": 3,
        "images_total": 3,
        "videos_done": 0,
        "videos_total": 0,
        "narration_done": 0,
        "narration_total": 0,
    }
    stages = [progress["stage"] for progress in seen]
    assert "illustrating" in stages
    assert stages == sorted(stages, key=["queued", "writing", "illustrating", "assembling"].index)
    done_counts = [p["images_done"] for p in seen if p["stage"] == "illustrating"]
    assert done_counts == sorted(done_counts) and done_counts[0] < 3
