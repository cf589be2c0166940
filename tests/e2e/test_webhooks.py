"""Clients that give a webhook_url are told when their story is ready, or that it failed."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kidstory.providers.errors import ContentRefused
from kidstory.providers.offline import OfflineImageProvider
from tests.e2e.conftest import ApiClient


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], dict]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/story"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notice_for(self, job_id: str, timeout: float = 30) -> tuple[dict[str, str], dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for headers, body in self.received:
                if body["job_id"] == job_id:
                    return headers, body
            time.sleep(0.1)
        raise AssertionError(f"no webhook for job {job_id}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def test_webhook_is_told_when_the_story_is_completed(client: ApiClient, receiver: Receiver) -> None:
    accepted = client.generate(
        prompt="A penguin learns to paint",
        age_group="6-8",
        num_illustrations=1,
        webhook_url=receiver.url,
    ).json()
    job = client.wait_for(accepted["job_id"])

    headers, notice = receiver.notice_for(job["job_id"])

    assert notice["event"] == "story.completed"
    assert notice["status"] == "completed"
    assert notice["story_id"] == job["story_id"]
    assert headers["webhook-id"]
    time.sleep(1.5)  # a second delivery of the same event would have arrived by now
    assert [body["job_id"] for _, body in receiver.received].count(job["job_id"]) == 1


def test_webhook_is_told_when_the_story_failed(
    client: ApiClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: OfflineImageProvider, spec: object) -> object:
        raise ContentRefused("not for children")

    monkeypatch.setattr(OfflineImageProvider, "generate_image", refuse)
    accepted = client.generate(
        prompt="A penguin learns to paint",
        age_group="6-8",
        num_illustrations=1,
        webhook_url=receiver.url,
    ).json()
    job = client.wait_for(accepted["job_id"])

    _, notice = receiver.notice_for(job["job_id"])

    assert notice["event"] == "story.failed"
    assert notice["status"] == "failed"
    assert "not for children" in notice["error"]
