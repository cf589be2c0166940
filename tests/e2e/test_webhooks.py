"""Clients that give a webhook_url are told, in a signed notice, when their story is ready or
that it failed; a receiver that is down is tried again."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from infra.local.emulator import LocalStack
from kidstory.providers.errors import ContentRefused
from kidstory.providers.offline import OfflineImageProvider
from tests.e2e.conftest import ApiClient

IDEA = {"prompt": "A penguin learns to paint", "age_group": "6-8", "num_illustrations": 1}


class Receiver:
    def __init__(self, answers: list[int] | None = None) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers = list(answers or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/story"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notices_for(self, job_id: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.received if json.loads(b)["job_id"] == job_id]

    def wait_for(self, job_id: str, count: int = 1, timeout: float = 30) -> list:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.notices_for(job_id)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{len(self.notices_for(job_id))} webhook(s) for job {job_id}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def _queue_drained(stack: LocalStack, timeout: float = 30) -> None:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName="WebhookQueue")["QueueUrl"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        if all(value == "0" for value in counts.values()):
            return
        time.sleep(0.2)
    raise AssertionError("the webhook queue did not drain")


def test_a_signed_notice_says_the_story_is_completed(
    client: ApiClient, receiver: Receiver, local_stack: LocalStack
) -> None:
    secret = client.http.get("/api/v1/webhooks/secret").json()["secret"]
    accepted = client.generate(**IDEA, webhook_url=receiver.url).json()
    job = client.wait_for(accepted["job_id"])

    [(headers, body)] = receiver.wait_for(job["job_id"])

    notice = Webhook(secret).verify(body, headers)
    assert notice["event"] == "story.completed"
    assert notice["status"] == "completed"
    assert notice["story_id"] == job["story_id"]
    assert headers["webhook-id"] == f"msg_{job['job_id']}_completed"
    _queue_drained(local_stack)
    assert len(receiver.notices_for(job["job_id"])) == 1
    delivery = client.job(job["job_id"])["webhook"]
    assert delivery == delivery | {"url": receiver.url, "delivered": True, "attempts": 1}
    assert delivery["last_status_code"] == 204


def test_a_notice_says_the_story_failed(
    client: ApiClient, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: OfflineImageProvider, spec: object) -> object:
        raise ContentRefused("not for children")

    monkeypatch.setattr(OfflineImageProvider, "generate_image", refuse)
    accepted = client.generate(**IDEA, webhook_url=receiver.url).json()
    job = client.wait_for(accepted["job_id"])

    [(_, body)] = receiver.wait_for(job["job_id"])

    notice = json.loads(body)
    assert notice["event"] == "story.failed"
    assert notice["status"] == "failed"
    assert "not for children" in notice["error"]


def test_a_receiver_that_fails_is_tried_again(client: ApiClient) -> None:
    receiver = Receiver(answers=[503, 500])
    accepted = client.generate(**IDEA, webhook_url=receiver.url).json()
    job = client.wait_for(accepted["job_id"])

    notices = receiver.wait_for(job["job_id"], count=3)

    assert len({headers["webhook-id"] for headers, _ in notices}) == 1
    deadline = time.monotonic() + 10
    while not (delivery := client.job(job["job_id"])["webhook"])["delivered"]:
        assert time.monotonic() < deadline, delivery
        time.sleep(0.1)
    assert delivery["attempts"] == 3
    receiver.server.shutdown()


def test_secrets_can_be_rotated(client: ApiClient) -> None:
    before = client.http.get("/api/v1/webhooks/secret").json()

    rotated = client.http.post("/api/v1/webhooks/secret/rotate").json()

    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != before["secret"]
    assert rotated["previous_secret_valid_until"] is not None
    assert client.http.get("/api/v1/webhooks/secret").json()["secret"] == rotated["secret"]
