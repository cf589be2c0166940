"""A client can delete its story: the story, its pictures, clips and job are gone for good."""

from __future__ import annotations

from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient

IDEA = {"prompt": "A curious hedgehog visits the moon", "age_group": "6-8", "num_illustrations": 2}


def test_deleting_a_story_removes_it_its_media_and_its_job(
    client: ApiClient, local_stack: LocalStack
) -> None:
    accepted = client.generate(**IDEA, generate_videos=True).json()
    job = client.wait_for(accepted["job_id"])
    story = client.story(job["story_id"]).json()
    media = [image["image_url"] for image in story["images"]] + [
        video["video_url"] for video in story["videos"]
    ]
    assert all(client.http.get(url).status_code == 200 for url in media)

    deleted = client.http.delete(f"/api/v1/stories/{story['id']}")

    assert deleted.status_code == 204
    assert client.story(story["id"]).status_code == 404
    assert client.http.get(f"/api/v1/stories/jobs/{job['job_id']}").status_code == 404
    assert all(client.http.get(url).status_code == 404 for url in media)
    listed = client.http.get("/api/v1/stories", params={"limit": 100}).json()
    assert story["id"] not in [summary["id"] for summary in listed["stories"]]
    keys = local_stack.client("s3").list_objects_v2(
        Bucket=local_stack.template.names["MediaBucket"], Prefix=f"stories/{story['id']}/"
    )
    assert keys.get("KeyCount", 0) == 0
    assert client.http.delete(f"/api/v1/stories/{story['id']}").status_code == 404


def test_a_story_can_be_deleted_by_its_job_id(client: ApiClient) -> None:
    job = client.wait_for(client.generate(**IDEA).json()["job_id"])

    assert client.http.delete(f"/api/v1/stories/{job['job_id']}").status_code == 204
    assert client.story(job["story_id"]).status_code == 404


def test_another_key_cannot_delete_a_story(client: ApiClient, base_url: str) -> None:
    job = client.wait_for(client.generate(**IDEA).json()["job_id"])
    key, token = issue_key("someone else")
    story_table().put_api_key(key)

    refused = ApiClient(base_url, key=token).http.delete(f"/api/v1/stories/{job['story_id']}")

    assert refused.status_code == 404
    assert client.story(job["story_id"]).status_code == 200


def test_repeating_the_idempotency_key_of_a_deleted_story_gets_410(client: ApiClient) -> None:
    headers = {"Idempotency-Key": "deleted-story-key"}
    accepted = client.http.post("/api/v1/stories/generate", json=IDEA, headers=headers).json()
    job = client.wait_for(accepted["job_id"])
    assert client.http.delete(f"/api/v1/stories/{job['story_id']}").status_code == 204

    again = client.http.post("/api/v1/stories/generate", json=IDEA, headers=headers)

    assert again.status_code == 410
    assert "was deleted" in again.json()["detail"]
    assert "new Idempotency-Key" in again.json()["detail"]
    fresh = client.http.post(
        "/api/v1/stories/generate", json=IDEA, headers={"Idempotency-Key": "a-new-key"}
    )
    assert fresh.status_code == 202
    client.wait_for(fresh.json()["job_id"])
