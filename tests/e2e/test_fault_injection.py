"""Under faults, nothing is lost: with providers failing at random and throttling, every job
still ends completed or failed, every stored picture belongs to a stored story, and every
outcome reaches the client's webhook once."""

from __future__ import annotations

import json
import random
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.providers.base import MediaSpec, StoryBrief
from kidstory.providers.errors import ContentRefused, ProviderThrottled, ProviderUnavailable
from kidstory.providers.offline import OfflineImageProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient

JOBS = 50
FAILURE_RATE = 0.30


class Faults:
    """Seeded, thread-safe coin flips: 30% of provider calls fail (half of them throttling)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.injected = 0

    def maybe_fail(self, what: str) -> None:
        with self._lock:
            roll = self._random.random()
            if roll >= FAILURE_RATE:
                return
            self.injected += 1
        if roll < FAILURE_RATE / 2:
            raise ProviderThrottled(f"{what}: 429 Too Many Requests", retry_after_seconds=1)
        if roll < FAILURE_RATE * 0.9:
            raise ProviderUnavailable(f"{what}: 503 Service Unavailable")
        raise ContentRefused(f"{what}: refused by the provider's policy")


class Receiver:
    def __init__(self) -> None:
        self.ids: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.ids.append(self.headers["webhook-id"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_fifty_jobs_under_random_faults_all_end_and_lose_nothing(
    base_url: str, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults(seed=20261125)
    write, draw = OfflineTextProvider.write_story, OfflineImageProvider.generate_image

    def flaky_write(self: OfflineTextProvider, brief: StoryBrief) -> object:
        faults.maybe_fail("story")
        return write(self, brief)

    def flaky_draw(self: OfflineImageProvider, spec: MediaSpec) -> object:
        faults.maybe_fail("picture")
        return draw(self, spec)

    monkeypatch.setattr(OfflineTextProvider, "write_story", flaky_write)
    monkeypatch.setattr(OfflineImageProvider, "generate_image", flaky_draw)
    key, token = issue_key("fault injection", rate_limit_per_minute=10_000, daily_quota=100_000)
    story_table().put_api_key(key)
    client = ApiClient(base_url, key=token)
    receiver = Receiver()

    job_ids = []
    for number in range(JOBS):
        accepted = client.generate(
            prompt=f"A lucky rabbit finds clover number {number}",
            age_group="3-5",
            num_illustrations=2,
            webhook_url=receiver.url,
        )
        assert accepted.status_code == 202, accepted.text
        job_ids.append(accepted.json()["job_id"])
    jobs = [client.wait_for(job_id, timeout=240) for job_id in job_ids]

    statuses = [job["status"] for job in jobs]
    assert set(statuses) <= {"completed", "failed"}
    assert faults.injected > 10  # the faults really happened
    assert statuses.count("completed") > JOBS // 2  # retries carried most jobs through
    for job in jobs:
        if job["status"] == "failed":
            assert "refused by the provider's policy" in job["error"] or "Provider" in job["error"]

    bucket = local_stack.template.names["MediaBucket"]
    s3 = local_stack.client("s3")
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="stories/")
        for item in page.get("Contents", [])
    ]
    table = story_table()
    for media_key in keys:
        assert table.get_story(media_key.split("/")[1]) is not None, media_key

    expected = {f"msg_{job['job_id']}_{job['status']}" for job in jobs}
    deadline = time.monotonic() + 60
    while not expected <= set(receiver.ids):
        assert time.monotonic() < deadline, f"{len(expected - set(receiver.ids))} notices missing"
        time.sleep(0.2)
    mine = [webhook_id for webhook_id in receiver.ids if webhook_id in expected]
    assert sorted(mine) == sorted(expected)  # each outcome delivered once
    receiver.server.shutdown()
    print(
        json.dumps(
            {
                "jobs": JOBS,
                "faults_injected": faults.injected,
                "completed": statuses.count("completed"),
                "failed": statuses.count("failed"),
                "media_objects": len(keys),
            }
        )
    )
