"""What a story cost, told to its caller: on deterministic offline runs the ledger's total is
the estimate's, item for item where they count the same thing; a throttled call and its retry
are in it; the webhook notice (made from the story.completed event) carries it; the caller's
month counts it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from infra.local.emulator import LocalStack
from kidstory import wiring
from kidstory.access import issue_key
from kidstory.config.load import get_settings
from kidstory.config.prices import ModelPrice, PriceTable
from kidstory.providers.base import GeneratedMedia, MediaSpec
from kidstory.providers.errors import ProviderThrottled
from kidstory.providers.offline import OfflineImageProvider
from kidstory.safety import OfflineModerator, Verdict
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient

IDEA = {"prompt": "A shy lighthouse keeper befriends a seal", "age_group": "3-5"}


class Notices:
    """A webhook receiver keeping each notice's body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        notices = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                notices.bodies.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def spender(base_url: str, local_stack: LocalStack) -> ApiClient:
    """A key of its own, so its month holds only this test's stories."""
    key, token = issue_key("Cost watcher", rate_limit_per_minute=1000, daily_quota=10_000)
    story_table().put_api_key(key)
    return ApiClient(base_url, key=token)


def _items(body: dict[str, Any], key: str) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for item in body[key]:
        found[item["kind"], item["unit"]] = found.get((item["kind"], item["unit"]), 0) + (
            item["quantity"] if key == "breakdown" or item["unit"] != "failed calls" else 0
        )
    return found


@pytest.mark.parametrize(
    "options",
    [
        {"num_illustrations": 1},
        {"num_illustrations": 3, "generate_videos": True},
        {"num_illustrations": 2, "narration": True},
        {
            "num_illustrations": 4,
            "age_group": "9-12",
            "generate_images": False,
            "generate_videos": True,
        },
    ],
)
def test_offline_a_story_costs_what_it_was_estimated_at(
    spender: ApiClient, options: dict[str, Any]
) -> None:
    body = IDEA | options
    estimated = spender.http.post("/api/v1/stories/estimate", json=body).json()
    accepted = spender.generate(**body)
    assert accepted.status_code == 202, accepted.text
    running = spender.job(accepted.json()["job_id"])

    job = spender.wait_for(accepted.json()["job_id"])

    assert running["cost"] is None or running["status"] in ("completed", "failed")
    assert job["status"] == "completed", job["error"]
    cost = job["cost"]
    assert cost["usd"] == pytest.approx(estimated["estimated_cost_usd"], abs=1e-9)
    assert cost["usd"] == pytest.approx(sum(item["usd"] for item in cost["items"]))
    ledger, estimate = _items(cost, "items"), _items(estimated, "breakdown")
    for counted in (
        ("pictures", "pictures"),
        ("clips", "clip seconds"),
        ("infrastructure", "story"),
    ):
        assert ledger.get(counted) == estimate.get(counted), counted
    # nothing failed: no picture or clip was made twice (the review may send a draft back,
    # and the revision is counted as a redo of the text)
    media = [item for item in cost["items"] if item["kind"] != "text"]
    assert all(item["retries"] == 0 for item in media), json.dumps(cost["items"])


def test_a_throttled_picture_and_its_retry_are_in_the_ledger_and_the_notice(
    spender: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    draw = OfflineImageProvider.generate_image
    throttled: list[str] = []

    def throttled_once(self: OfflineImageProvider, spec: MediaSpec) -> GeneratedMedia:
        if not throttled:
            throttled.append(spec.prompt)
            raise ProviderThrottled("429 Too Many Requests")
        return draw(self, spec)

    monkeypatch.setattr(OfflineImageProvider, "generate_image", throttled_once)
    notices = Notices()
    accepted = spender.generate(**IDEA, num_illustrations=1, webhook_url=notices.url)

    job = spender.wait_for(accepted.json()["job_id"])

    assert job["status"] == "completed", job["error"]
    pictures = {item["unit"]: item for item in job["cost"]["items"] if item["kind"] == "pictures"}
    assert pictures["failed calls"]["quantity"] == 1 and pictures["failed calls"]["usd"] == 0
    assert pictures["pictures"]["quantity"] == 1 and pictures["pictures"]["retries"] == 1
    deadline = time.monotonic() + 60
    while not notices.bodies:
        assert time.monotonic() < deadline, "no webhook notice"
        time.sleep(0.2)
    assert notices.bodies[0]["cost"] == job["cost"]  # from the story.completed event's detail
    notices.server.shutdown()

    spent = spender.http.get("/api/v1/usage").json()
    if spent["month"] == job["updated_at"][:7]:  # (not when the month turned in between)
        assert spent["jobs"] == 1 and spent["units"] == 2
        assert spent["usd"] == pytest.approx(job["cost"]["usd"])


def test_a_redraw_that_would_pass_the_cap_is_not_made_and_the_job_fails_saying_why(
    spender: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pictures at $0.004 in the ledger's table; the first picture fails its check
    ledger = wiring.ledger(get_settings())
    pictures = ModelPrice(
        input_per_million_tokens=0, output_per_million_tokens=0, per_picture=0.004
    )
    priced = ledger.prices.model_dump() | {"models": {"offline/*": pictures.model_dump()}}
    monkeypatch.setattr(ledger, "prices", PriceTable.model_validate(priced))
    check = OfflineModerator.check_picture
    checked: list[int] = []

    def refuses_the_first(self: OfflineModerator, content: bytes, content_type: str) -> Verdict:
        checked.append(len(content))
        if len(checked) == 1:
            return Verdict(allowed=False, reason="too dark to read")
        return check(self, content, content_type)

    monkeypatch.setattr(OfflineModerator, "check_picture", refuses_the_first)
    infrastructure = ledger.prices.infrastructure(pictures=1, clips=0, pages_read=0)
    cap = infrastructure + 0.006  # the first picture fits, a redraw would not

    accepted = spender.generate(**IDEA, num_illustrations=1, max_cost_usd=cap)
    assert accepted.status_code == 202, accepted.text
    job = spender.wait_for(accepted.json()["job_id"])

    assert job["status"] == "failed"
    assert "CostCapReached" in job["error"] and "redraw" in job["error"], job["error"]
    assert len(checked) == 1  # no second picture was drawn
    [drawn] = [item for item in job["cost"]["items"] if item["unit"] == "pictures"]
    assert drawn["quantity"] == 1 and drawn["usd"] == pytest.approx(0.004)
    assert job["cost"]["usd"] <= cap
