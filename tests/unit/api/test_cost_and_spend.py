"""A caller sees what a job cost once it has ended (not while it runs), and what its jobs cost
this calendar month (UTC, by the service's clock)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kidstory.job_cost import JobCost, JobCostItem
from kidstory.library import StoryLibrary
from kidstory.models import Job, JobStatus, StoryRequest
from kidstory.store.spend import spend_update
from kidstory.store.story_table import StoryTable
from tests.unit.api.test_api_moderation import Starter, api_settings
from tests.unit.conftest import TABLE

COST = JobCost(
    usd=0.0123,
    items=[
        JobCostItem(
            kind="pictures",
            provider="openai",
            model="gpt-image-2",
            unit="pictures",
            quantity=3,
            usd=0.0123,
            calls=3,
            retries=1,
        )
    ],
)


def http(table: StoryTable, now: datetime) -> TestClient:
    library = StoryLibrary(
        table,
        Starter(),
        media=None,
        per_minute=10,
        daily=50,
        clock=lambda: now,  # type: ignore[arg-type]
    )
    return TestClient(create_app(api_settings(), library=library, table=table))


@pytest.fixture
def job(table: StoryTable) -> Job:
    request = StoryRequest(prompt="An otter", age_group="3-5", num_illustrations=3)  # type: ignore[arg-type]
    job = Job(request=request)
    table.put_job(job)
    return job


def test_a_running_job_has_no_cost_and_an_ended_one_has_its_ledger_s(
    table: StoryTable, job: Job, event_loop_sockets: None
) -> None:
    client = http(table, datetime(2026, 12, 1, tzinfo=UTC))
    table.update_job(job.job_id, JobStatus.PROCESSING)
    assert client.get(f"/api/v1/stories/jobs/{job.job_id}").json()["cost"] is None

    table.update_job(job.job_id, JobStatus.COMPLETED, cost=COST)

    assert client.get(f"/api/v1/stories/jobs/{job.job_id}").json()["cost"] == COST.model_dump()


def test_the_month_s_spend_is_the_jobs_that_ended_in_it(
    table: StoryTable, job: Job, event_loop_sockets: None
) -> None:
    for month, usd in (("2026-11", 1.5), ("2026-12", 0.25), ("2026-12", 0.5)):
        update = spend_update(TABLE, "anonymous", month, usd, 4)
        table._client.update_item(**update)
    table._client.update_item(**spend_update(TABLE, "anonymous", "2026-12", None, 2))

    december = http(table, datetime(2026, 12, 31, 23, 59, tzinfo=UTC)).get("/api/v1/usage")
    january = http(table, datetime(2027, 1, 1, tzinfo=UTC)).get("/api/v1/usage")

    assert december.status_code == 200
    assert december.json() == {
        "month": "2026-12",
        "usd": 0.75,
        "units": 10,
        "jobs": 3,
        "unpriced_jobs": 1,
    }
    assert january.json() == {
        "month": "2027-01",
        "usd": 0,
        "units": 0,
        "jobs": 0,
        "unpriced_jobs": 0,
    }
