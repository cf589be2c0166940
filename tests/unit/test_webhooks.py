"""Webhooks go only to public addresses, pinned to the address that was checked, signed with
the owner's secret; every attempt is recorded."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pytest_socket import enable_socket
from standardwebhooks.webhooks import Webhook

from kidstory.models import Job, StoryRequest, utc_now
from kidstory.store.story_table import StoryTable
from kidstory.webhooks import (
    EventEnvelope,
    StoryEvent,
    WebhookFailed,
    WebhookRefused,
    WebhookTarget,
    check_target,
    deliver,
    message_id,
    post_notice,
)

NAMES = {
    "hooks.example": ["93.184.216.34"],
    "internal.example": ["10.1.2.3"],
    "mixed.example": ["93.184.216.34", "10.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "metadata.example": ["169.254.169.254"],
    "v6private.example": ["fd12:3456::1"],
}


def resolve(host: str, port: int) -> list[str]:
    """Names resolve from the table above, as DNS would answer for them."""
    if host in NAMES:
        return NAMES[host]
    raise OSError(f"{host}: Name or service not known")


REFUSED = [
    "http://hooks.example/",  # not https
    "ftp://hooks.example/",
    "file:///etc/passwd",
    "https://user:secret@hooks.example/",
    "https://127.0.0.1/",
    "https://localhost/",
    "https://0.0.0.0/",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/",  # shared address space (CGNAT)
    "https://198.18.0.1/",  # benchmarking
    "https://224.0.0.1/",  # multicast
    "https://255.255.255.255/",
    "https://[::1]/",
    "https://[::]/",
    "https://[fe80::1]/",  # link-local
    "https://[fd00::1]/",  # unique local
    "https://[ff02::1]/",  # multicast
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "https://[::ffff:169.254.169.254]/",
    "https://2130706433/",  # 127.0.0.1 as a decimal number
    "https://0x7f000001/",  # hexadecimal
    "https://017700000001/",  # octal
    "https://0177.0.0.1/",  # octal, dotted
    "https://0x7f.0.0.1/",
    "https://127.1/",  # short form
    "https://internal.example/",  # a name that resolves to a private address
    "https://mixed.example/",  # one of its addresses is private
    "https://metadata.example/",
    "https://v6private.example/",
    "https://hooks.example:99999/",  # invalid port
    # IPv6 spellings of IPv4 addresses that are not public
    "https://[::127.0.0.1]/",  # IPv4-compatible loopback
    "https://[::169.254.169.254]/",
    "https://[::ffff:0:7f00:1]/",  # IPv4-translated loopback
    "https://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata service
    "https://[64:ff9b::7f00:1]/",  # NAT64 of loopback
    "https://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
    "https://[64:ff9b:1::808:808]/",  # local-use NAT64: translated to whatever its network likes
    "https://[2002:7f00:1::]/",  # 6to4 of loopback
    "https://[2002:a9fe:a9fe::]/",  # 6to4 of the metadata service
    "https://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
    # ports that are not the web's own or unprivileged
    "https://hooks.example:0/",
    "https://hooks.example:25/",
    "https://hooks.example:22/",
    "https://hooks.example:1023/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_targets_are_refused(url: str) -> None:
    with pytest.raises(WebhookRefused):
        check_target(url, resolve=resolve)


def test_there_are_at_least_25_refused_vectors() -> None:
    assert len(REFUSED) >= 25


@pytest.mark.parametrize(
    "url",
    [
        "https://[64:ff9b::808:808]/hook",  # NAT64 of a public address
        "https://[2002:808:808::1]/hook",  # 6to4 of a public address
        "https://[2606:4700::1111]/hook",
        "https://hooks.example:443/hook",
        "https://hooks.example:80/hook",
        "https://hooks.example:8443/hook",
        "https://hooks.example:1024/hook",
    ],
)
def test_public_addresses_and_ports_are_accepted(url: str) -> None:
    assert check_target(url, resolve=resolve).path == "/hook"


def test_a_public_host_is_pinned_to_the_address_that_was_checked() -> None:
    target = check_target("https://hooks.example/story/done?x=1", resolve=resolve)

    assert target == WebhookTarget(
        "https", "hooks.example", 443, "/story/done?x=1", "93.184.216.34"
    )
    assert target.host_header == "hooks.example"


def test_a_name_that_does_not_resolve_is_retried_later() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(WebhookFailed):
        check_target("https://gone.example/", resolve=nowhere)


class Receiver:
    """A receiver on loopback, reached through a pinned address (the only sockets here)."""

    def __init__(self, status: int = 204) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                self.send_response(status)
                if status in (301, 302, 307):
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def loopback() -> Iterator[None]:
    enable_socket()
    yield


def test_the_request_goes_to_the_checked_address_with_the_original_host(loopback: None) -> None:
    receiver = Receiver()
    target = WebhookTarget("http", "hooks.example", receiver.port, "/in?k=v", "127.0.0.1")

    status = post_notice(target, b'{"a": 1}', {"Content-Type": "application/json"})

    assert status == 204
    [(path, headers, body)] = receiver.requests
    assert path == "/in?k=v"
    assert headers["Host"] == f"hooks.example:{receiver.port}"
    assert body == b'{"a": 1}'
    receiver.server.shutdown()


def test_redirects_are_not_followed(loopback: None) -> None:
    receiver = Receiver(status=307)
    target = WebhookTarget("http", "hooks.example", receiver.port, "/", "127.0.0.1")

    assert post_notice(target, b"{}", {}) == 307
    assert len(receiver.requests) == 1
    receiver.server.shutdown()


class SlowReceiver:
    """A receiver that answers one byte every `every` seconds, for `limit` seconds at most, or
    one that answers with a body of `body_bytes`."""

    def __init__(
        self,
        *,
        every: float = 0.2,
        limit: float = 15.0,
        body_bytes: int = 0,
        think: float = 0.0,
    ) -> None:
        self.finished = threading.Event()
        self._think = think
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._every, self._limit, self._body_bytes = every, limit, body_bytes
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            connection.recv(65536)
            time.sleep(self._think)  # works on the notice before it answers
            try:
                if self._body_bytes:
                    connection.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    chunk = b"x" * 65536
                    for _ in range(self._body_bytes // len(chunk)):
                        connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    connection.sendall(b"0\r\n\r\n")
                else:
                    answer = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                    started = time.monotonic()
                    for byte in answer:
                        if time.monotonic() - started > self._limit:
                            return
                        connection.sendall(bytes([byte]))
                        time.sleep(self._every)
            except OSError:
                pass  # the caller hung up
            finally:
                self.finished.set()


def test_a_receiver_that_trickles_its_answer_fails_the_try_at_the_deadline(
    loopback: None,
) -> None:
    # 47 bytes, one every 0.2 s: about 9 s, each read well within any per-read timeout
    receiver = SlowReceiver(every=0.2)
    target = WebhookTarget("http", "hooks.example", receiver.port, "/", "127.0.0.1")

    with pytest.raises(WebhookFailed, match="no complete answer within 1 s"):
        post_notice(target, b"{}", {}, deadline_seconds=1.0)

    assert receiver.finished.wait(5)  # it was cut off, not waited for


def test_a_receiver_may_take_its_time_within_the_deadline(loopback: None) -> None:
    # longer than the connect timeout (3 s), and longer than any one read of the old 5 s limit
    # would need to be: only the whole try is bounded
    receiver = SlowReceiver(every=0, think=4.0)
    target = WebhookTarget("http", "hooks.example", receiver.port, "/", "127.0.0.1")

    assert post_notice(target, b"{}", {}) == 204


def test_a_large_answer_is_not_read_and_fails_the_try(loopback: None) -> None:
    receiver = SlowReceiver(body_bytes=64 * 1024 * 1024)
    target = WebhookTarget("http", "hooks.example", receiver.port, "/", "127.0.0.1")

    with pytest.raises(WebhookFailed, match="answer over 8192 bytes"):
        post_notice(target, b"{}", {})

    assert receiver.finished.wait(5)


def _queued_event(job: Job, detail_type: str = "story.completed") -> EventEnvelope:
    return EventEnvelope.model_validate(
        {
            "id": "evt-1",
            "detail-type": detail_type,
            "source": "kidstory",
            "time": "2026-11-25T09:10:01Z",
            "detail": {"job_id": job.job_id, "story_id": "s-1", "status": "completed"},
        }
    )


def _job_with_webhook(table: StoryTable, port: int) -> Job:
    job = Job(
        request=StoryRequest(
            prompt="An otter",
            age_group="3-5",
            num_illustrations=1,
            webhook_url=f"http://127.0.0.1:{port}/hook",
        ),
        owner="key:abc",
    )
    table.put_job(job)
    return job


def test_a_notice_is_signed_with_the_owners_secret_and_recorded(
    table: StoryTable, loopback: None
) -> None:
    receiver = Receiver()
    job = _job_with_webhook(table, receiver.port)

    attempt = deliver(_queued_event(job), table, table, allow_private=True)

    assert attempt is not None and attempt.delivered
    [(_, headers, body)] = receiver.requests
    secret = table.webhook_secrets("key:abc").current
    verified = Webhook(secret).verify(body, headers)
    assert verified["event"] == "story.completed" and verified["job_id"] == job.job_id
    assert headers["webhook-id"] == f"msg_{job.job_id}_completed"
    stored = table.get_job(job.job_id)
    assert stored is not None and len(stored.webhook_attempts) == 1
    receiver.server.shutdown()


def test_a_notice_carries_what_the_job_cost_as_its_event_says(
    table: StoryTable, loopback: None
) -> None:
    receiver = Receiver()
    job = _job_with_webhook(table, receiver.port)
    event = _queued_event(job)
    cost = {
        "usd": 0.0021,
        "items": [
            {
                "kind": "infrastructure",
                "provider": "aws",
                "model": "lambda",
                "unit": "story",
                "quantity": 1,
                "usd": 0.0021,
                "calls": 0,
                "retries": 0,
            }
        ],
    }
    event = event.model_copy(update={"detail": event.detail.model_copy(update={"cost": cost})})

    deliver(event, table, table, allow_private=True)

    [(_, _, body)] = receiver.requests
    assert json.loads(body)["cost"] == cost
    receiver.server.shutdown()


def test_a_rejected_notice_is_recorded_and_tried_again_later(
    table: StoryTable, loopback: None
) -> None:
    receiver = Receiver(status=500)
    job = _job_with_webhook(table, receiver.port)

    with pytest.raises(WebhookFailed, match="answered 500"):
        deliver(_queued_event(job), table, table, allow_private=True)

    stored = table.get_job(job.job_id)
    assert stored is not None and stored.webhook_attempts[0]["status_code"] == 500
    receiver.server.shutdown()


def test_a_refused_url_is_recorded_and_not_tried_again(table: StoryTable) -> None:
    job = _job_with_webhook(table, 8080)  # http and loopback: refused outside the local stack

    attempt = deliver(_queued_event(job), table, table)

    assert attempt is not None and attempt.error is not None
    assert attempt.error.startswith("refused: webhook URLs must use https")


def test_after_a_rotation_notices_carry_both_signatures_for_a_day(table: StoryTable) -> None:
    old = table.webhook_secrets("key:abc").current
    rotated = table.rotate_webhook_secret("key:abc")

    now = utc_now()
    assert rotated.previous == old
    assert rotated.signing_keys(now) == [rotated.current, old]
    assert rotated.signing_keys(now + timedelta(hours=25)) == [rotated.current]


def test_the_message_id_is_the_same_for_every_announcement_of_an_outcome() -> None:
    event = StoryEvent(job_id="j-1", status="failed")

    assert message_id(event) == message_id(event.model_copy()) == "msg_j-1_failed"
