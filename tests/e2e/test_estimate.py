"""Cost before the story: POST /api/v1/stories/estimate answers with units and US dollars and
makes nothing, charges nothing; max_cost_usd refuses a request whose estimate is above it."""

from __future__ import annotations

import pytest

from infra.local.emulator import LocalStack
from kidstory.access import issue_key
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient

IDEA = {"prompt": "A small cloud learns to rain gently", "age_group": "3-5", "num_illustrations": 2}


@pytest.fixture
def tight(base_url: str, local_stack: LocalStack) -> ApiClient:
    """A key that may spend 3 units a minute: one 3-unit story."""
    key, token = issue_key("Estimating school", rate_limit_per_minute=3)
    story_table().put_api_key(key)
    return ApiClient(base_url, key=token)


def test_an_estimate_makes_nothing_and_charges_nothing(tight: ApiClient) -> None:
    for options in ({}, {"generate_videos": True}, {"narration": True}, {"num_illustrations": 10}):
        answer = tight.http.post("/api/v1/stories/estimate", json=IDEA | options)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"units", "estimated_cost_usd", "breakdown", "assumptions"}
        kinds = {item["kind"] for item in body["breakdown"]}
        assert {"text", "pictures", "infrastructure"} <= kinds
        assert body["estimated_cost_usd"] == pytest.approx(
            sum(item["usd"] for item in body["breakdown"])
        )
    assert tight.http.get("/api/v1/stories").json()["total"] == 0
    # nothing was charged: the minute's 3 units are all there for a 3-unit story
    assert tight.generate(**IDEA).status_code == 202


def test_a_request_estimated_above_its_cap_is_refused_and_costs_nothing(tight: ApiClient) -> None:
    estimated = tight.http.post("/api/v1/stories/estimate", json=IDEA).json()
    assert estimated["estimated_cost_usd"] > 0

    refused = tight.generate(**IDEA, max_cost_usd=estimated["estimated_cost_usd"] / 2)

    assert refused.status_code == 422
    [issue] = refused.json()["detail"]
    assert issue["loc"] == ["body", "max_cost_usd"]
    assert "estimated at $" in issue["msg"]
    accepted = tight.generate(**IDEA, max_cost_usd=estimated["estimated_cost_usd"] * 2)
    assert accepted.status_code == 202, accepted.text  # the refusal spent none of the 3 units
    tight.wait_for(accepted.json()["job_id"])
