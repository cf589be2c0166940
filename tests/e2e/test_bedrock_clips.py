"""Clips from Luma Ray2 on Bedrock, through the real workflow on the local stack: the Bedrock
video provider's own client code runs inside StartVideo and CheckVideo, and only the HTTP
exchange with bedrock-runtime is faked (a botocore `before-send` hook that answers
StartAsyncInvoke and GetAsyncInvoke the way Bedrock does, writing the clip into the emulated
media bucket as Bedrock would)."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from botocore.awsrequest import AWSResponse

from infra.local.emulator import LocalStack
from infra.local.synth import synthesize
from kidstory.providers import bedrock_video
from kidstory.providers.offline_media import draw_illustration, render_video
from tests.e2e.conftest import ApiClient, _clear_process_caches

INVOCATIONS = "arn:aws:bedrock:us-west-2:123456789012:async-invoke/"


class Body:
    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def answer(url: str, status: int, body: dict[str, Any]) -> AWSResponse:
    return AWSResponse(
        url, status, {"Content-Type": "application/json"}, Body(json.dumps(body).encode())
    )


class FakeBedrock:
    """Bedrock's async invoke API: a job is in progress at its first check and done at the next,
    when its clip (animated from the start frame, if one was sent) appears in the bucket."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3
        self.started: list[dict[str, Any]] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self._ids = (f"{n:012d}" for n in itertools.count(1))
        self._lock = threading.Lock()

    def client(self, region: str | None, *, timeout_seconds: float) -> Any:
        client = real_bedrock_client(region, timeout_seconds=timeout_seconds)
        client.meta.events.register("before-send.bedrock-runtime", self._answer)
        return client

    def _answer(self, request: Any, **_: Any) -> AWSResponse:
        path = unquote(urlsplit(request.url).path)
        if request.method == "POST" and path == "/async-invoke":
            return self._start(request.url, json.loads(request.body))
        found = re.fullmatch(r"/async-invoke/(.+)", path)
        assert request.method == "GET" and found, f"unexpected call {request.method} {path}"
        return self._get(request.url, found.group(1))

    def _start(self, url: str, body: dict[str, Any]) -> AWSResponse:
        with self._lock:
            self.started.append(body)
            arn = INVOCATIONS + next(self._ids)
            uri = body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
            self.jobs[arn] = {"body": body, "uri": uri, "checks": 0}
        return answer(url, 200, {"invocationArn": arn})

    def _get(self, url: str, arn: str) -> AWSResponse:
        with self._lock:
            job = self.jobs[arn]
            job["checks"] += 1
            done = job["checks"] > 1
        folder = f"{job['uri']}/{arn.rsplit('/', 1)[-1]}"
        if done:
            bucket, _, prefix = folder.removeprefix("s3://").partition("/")
            self.s3.put_object(Bucket=bucket, Key=f"{prefix}/output.mp4", Body=self._clip(job))
            self.s3.put_object(Bucket=bucket, Key=f"{prefix}/manifest.json", Body=b"{}")
        return answer(
            url,
            200,
            {
                "invocationArn": arn,
                "modelArn": "arn:aws:bedrock:us-west-2::foundation-model/luma.ray-v2:0",
                "status": "Completed" if done else "InProgress",
                "submitTime": "2026-11-25T09:10:00Z",
                "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": folder}},
            },
        )

    @staticmethod
    def _clip(job: dict[str, Any]) -> bytes:
        model_input = job["body"]["modelInput"]
        start = model_input.get("keyframes", {}).get("frame0")
        still = (
            base64.b64decode(start["source"]["data"])
            if start
            else draw_illustration(model_input["prompt"], palette_seed="bedrock")
        )
        return render_video(still, seconds=1, label="Fake Bedrock clip")


real_bedrock_client = bedrock_video.bedrock_client


@pytest.fixture
def bedrock(local_stack: LocalStack, tmp_path: Path) -> Iterator[FakeBedrock]:
    """The clip functions on VIDEO_PROVIDER=bedrock, as a stage with video_provider bedrock
    configures them (its settings and its grants), for this test only."""
    fake = FakeBedrock(local_stack.client("s3"))
    stage = synthesize(
        tmp_path / "cdk.out", overrides={"video_provider": "bedrock", "video_region": "us-west-2"}
    )
    with pytest.MonkeyPatch.context() as patch, local_stack.grants_of(stage):
        patch.setenv("VIDEO_PROVIDER", "bedrock")
        patch.setenv("BEDROCK_VIDEO_MODEL", "luma.ray-v2:0")
        patch.setenv("BEDROCK_VIDEO_REGION", "us-west-2")
        patch.setenv("VIDEO_POLL_SECONDS", "1")
        patch.setattr(bedrock_video, "bedrock_client", fake.client)
        _clear_process_caches()
        try:
            yield fake
        finally:
            _clear_process_caches()
    _clear_process_caches()


def test_a_story_with_bedrock_clips_serves_each_clip_from_its_own_key(
    client: ApiClient, local_stack: LocalStack, bedrock: FakeBedrock
) -> None:
    accepted = client.generate(
        prompt="A little penguin learns to slide on the ice",
        age_group="3-5",
        num_illustrations=2,
        generate_images=True,
        generate_videos=True,
    )
    assert accepted.status_code == 202, accepted.text

    job = client.wait_for(accepted.json()["job_id"])

    assert job["status"] == "completed", job["error"]
    story = client.story(job["story_id"]).json()
    pictures = {image["display_order"]: image for image in story["images"]}
    assert [video["display_order"] for video in story["videos"]] == [0, 1]
    for video in story["videos"]:
        fetched = client.http.get(video["video_url"])
        assert fetched.status_code == 200
        assert fetched.headers["content-type"] == "video/mp4"
        assert fetched.content[4:8] == b"ftyp"
        assert urlsplit(video["video_url"]).path.endswith(
            f"stories/{story['id']}/{video['id']}.mp4"
        )

    assert len(bedrock.started) == 2
    media_bucket = os.environ["MEDIA_BUCKET"]
    for request in bedrock.started:
        assert request["modelId"] == "luma.ray-v2:0"
        uri = request["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        clip_id = uri.rsplit("/", 1)[-1]
        assert uri == f"s3://{media_bucket}/stories/{story['id']}/{clip_id}"
        order = next(v["display_order"] for v in story["videos"] if v["id"] == clip_id)
        start = request["modelInput"].get("keyframes", {}).get("frame0")
        if start is not None:  # its page's picture was ready first: the clip animates it
            picture = client.http.get(pictures[order]["image_url"]).content
            assert base64.b64decode(start["source"]["data"]) == picture
    # what Bedrock wrote beside the clips is gone
    listed = local_stack.client("s3").list_objects_v2(
        Bucket=media_bucket, Prefix=f"stories/{story['id']}/"
    )
    keys = sorted(item["Key"] for item in listed.get("Contents", []))
    assert all(key.count("/") == 2 for key in keys), keys
