"""DynamoDB's real concurrency: transactions cancelled by concurrent writes (TransactionConflict)
are tried again, a little later, a bounded number of times; a failed condition is an answer and
is not. Whatever the conflicts, a caller is charged exactly for the jobs made for it, and when
they outlast the retries the API answers 503 with Retry-After, never a 429 or a 500. Conflicts
come from the local stack's switch (infra/local/conflicts.py) on moto in-process, or from
botocore's Stubber where a precise mix of reasons is needed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from fastapi.testclient import TestClient

from api.app import create_app
from infra.local.conflicts import injected
from kidstory.access import SHARED_KEY_CALLER, Caller, Charge, RateLimited, Window
from kidstory.config.settings import Settings
from kidstory.library import StoryLibrary, WorkflowUnavailable
from kidstory.media_store import MediaStore
from kidstory.models import Job, StoryRequest
from kidstory.store.story_table import StoryTable
from kidstory.transactions import ConflictRetry, TableBusy
from tests.unit.api.test_api_moderation import GENERATE, IDEA, Starter, settings
from tests.unit.conftest import BUCKET, TABLE

__all__ = ["settings"]  # fixtures used here

NOW = datetime(2026, 11, 25, 10, 30, 15, tzinfo=UTC)
WINDOWS = [Window("per-minute", 60, 10), Window("daily", 86_400, 50)]
REQUEST = StoryRequest(
    prompt="A gentle giraffe learns to whistle", age_group="3-5", num_illustrations=2
)
COST = 3  # the story and two pictures


class Waits:
    """The retry policy's waits, recorded instead of slept; jitter is the ceiling itself."""

    def __init__(self, attempts: int = 4) -> None:
        self.slept: list[float] = []
        self.policy = ConflictRetry(
            attempts=attempts, sleep=self.slept.append, jitter=lambda ceiling: ceiling
        )


@pytest.fixture
def waits() -> Waits:
    return Waits()


@pytest.fixture
def table(aws: None, waits: Waits) -> StoryTable:
    return StoryTable(boto3.client("dynamodb"), TABLE, conflicts=waits.policy)


def used(owner: str, window: Window, now: datetime = NOW) -> int:
    """The units counted in one of the owner's windows (0 if nothing was ever counted)."""
    found = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"LIMIT#{window.key(owner, now)}"}, "sk": {"S": "LIMIT"}}
    )
    return int(found["Item"]["used"]["N"]) if "Item" in found else 0


def jobs() -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    return [item for item in items if item["sk"]["S"] == "JOB"]


def library(table: StoryTable, starter: Any = None) -> StoryLibrary:
    return StoryLibrary(
        table,
        starter or Starter(),
        MediaStore(boto3.client("s3"), BUCKET),
        per_minute=10,
        daily=50,
    )


# charges


def test_a_charge_that_meets_conflicts_is_tried_again_and_counted_once(
    table: StoryTable, waits: Waits
) -> None:
    with injected("first=2"):
        table.charge(Charge("key:a", COST, WINDOWS, NOW))

    assert [used("key:a", window) for window in WINDOWS] == [COST, COST]
    assert waits.slept == [0.02, 0.04]  # capped exponential backoff (jitter at its ceiling)


def test_a_charge_whose_conflicts_outlast_the_retries_is_busy_and_counts_nothing(
    table: StoryTable, waits: Waits
) -> None:
    with injected("first=4"), pytest.raises(TableBusy):
        table.charge(Charge("key:a", COST, WINDOWS, NOW))

    assert len(waits.slept) == 3  # 4 tries in all
    assert [used("key:a", window) for window in WINDOWS] == [0, 0]
    table.charge(Charge("key:a", COST, WINDOWS, NOW))
    assert used("key:a", WINDOWS[0]) == COST


def test_a_full_window_is_an_answer_even_under_conflicts(table: StoryTable) -> None:
    table.charge(Charge("key:a", 9, WINDOWS, NOW))

    with injected("first=1"), pytest.raises(RateLimited, match="per-minute limit of 10"):
        table.charge(Charge("key:a", COST, WINDOWS, NOW))

    assert used("key:a", WINDOWS[0]) == 9


def cancelled(stubber: Stubber, *codes: str) -> None:
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        service_message="Transaction cancelled",
        modeled_fields={"CancellationReasons": [{"Code": code} for code in codes]},
    )


def test_a_failed_condition_is_not_retried_even_beside_a_conflict(waits: Waits) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = StoryTable(client, TABLE, conflicts=waits.policy)
    with Stubber(client) as stubber:
        cancelled(stubber, "TransactionConflict", "ConditionalCheckFailed")
        with pytest.raises(RateLimited, match="daily limit of 50"):
            table.charge(Charge("key:a", COST, WINDOWS, NOW))
        stubber.assert_no_pending_responses()
    assert waits.slept == []


def test_a_transaction_cancelled_for_another_reason_is_not_taken_for_a_full_window(
    waits: Waits,
) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = StoryTable(client, TABLE, conflicts=waits.policy)
    with Stubber(client) as stubber:
        cancelled(stubber, "None", "ValidationError")
        with pytest.raises(client.exceptions.TransactionCanceledException):
            table.charge(Charge("key:a", COST, WINDOWS, NOW))
    assert waits.slept == []


def test_a_single_write_held_up_by_a_transaction_is_tried_again(waits: Waits) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    table = StoryTable(client, TABLE, conflicts=waits.policy)
    with Stubber(client) as stubber:
        stubber.add_client_error("update_item", service_error_code="TransactionConflictException")
        stubber.add_response("update_item", {})
        table.refund(Charge("key:a", COST, WINDOWS[:1], NOW))
        stubber.assert_no_pending_responses()
    assert len(waits.slept) == 1


# jobs, idempotency and what the caller is charged


def test_a_request_that_meets_conflicts_makes_one_job_and_is_charged_once(
    table: StoryTable,
) -> None:
    stories = library(table)

    with injected("first=2"):
        first = stories.submit(REQUEST, SHARED_KEY_CALLER, "key-1")
        again = stories.submit(REQUEST, SHARED_KEY_CALLER, "key-1")

    assert again.replayed and again.job.job_id == first.job.job_id
    assert len(jobs()) == 1
    assert used(SHARED_KEY_CALLER.owner, WINDOWS[1], first.job.created_at) == COST


def test_a_request_whose_conflicts_outlast_the_retries_makes_nothing_and_costs_nothing(
    table: StoryTable,
) -> None:
    stories = library(table)

    with injected("first=4"), pytest.raises(TableBusy):
        stories.submit(REQUEST, SHARED_KEY_CALLER, "key-1")

    assert jobs() == []
    assert table.get_idempotency(SHARED_KEY_CALLER.owner, "key-1") is None
    sent_again = stories.submit(REQUEST, SHARED_KEY_CALLER, "key-1")  # the client's retry
    assert not sent_again.replayed
    assert used(SHARED_KEY_CALLER.owner, WINDOWS[1], sent_again.job.created_at) == COST


def test_the_loser_of_a_race_for_one_key_is_not_charged(table: StoryTable) -> None:
    """Two requests with one Idempotency-Key both find it unused; the second to write gets the
    first's job back, and only the first is charged."""
    stories = library(table)
    winner = Job(request=REQUEST, owner=SHARED_KEY_CALLER.owner)
    stories.submit(REQUEST, SHARED_KEY_CALLER)  # 3 units already spent this minute
    charge = Charge(SHARED_KEY_CALLER.owner, COST, WINDOWS, winner.created_at)
    assert table.put_job_once(winner, "key-1", "same", charge) is None

    loser = Job(request=REQUEST, owner=SHARED_KEY_CALLER.owner)
    with injected("first=1"):
        earlier = table.put_job_once(loser, "key-1", "same", charge)

    assert earlier is not None and earlier.job_id == winner.job_id
    assert table.get_job(loser.job_id) is None
    assert used(SHARED_KEY_CALLER.owner, WINDOWS[1], winner.created_at) == 2 * COST


def test_a_request_over_the_limit_under_conflicts_gets_429_and_makes_no_job(
    table: StoryTable,
) -> None:
    caller = Caller(owner="key:tiny", rate_limit_per_minute=4)
    stories = library(table)
    stories.submit(REQUEST, caller, "key-1")

    with injected("first=1"), pytest.raises(RateLimited, match="per-minute limit of 4"):
        stories.submit(REQUEST, caller, "key-2")

    assert len(jobs()) == 1
    assert table.get_idempotency(caller.owner, "key-2") is None


def test_a_request_whose_workflow_cannot_start_is_refunded(table: StoryTable) -> None:
    class Broken:
        def start(self, job_id: str) -> str:
            raise ConnectionError("Step Functions is unreachable")

    stories = library(table, Broken())

    with injected("first=1"), pytest.raises(WorkflowUnavailable):
        stories.submit(REQUEST, SHARED_KEY_CALLER, "key-1")

    (job,) = jobs()
    assert job["status"]["S"] == "failed"
    created = datetime.fromisoformat(job["created_at"]["S"])
    assert [used(SHARED_KEY_CALLER.owner, w, created) for w in WINDOWS] == [0, 0]


def test_a_replay_that_cannot_start_a_pending_job_gives_its_units_back_once(
    table: StoryTable,
) -> None:
    class Stopped:
        """The first request stopped before starting the workflow (a process that died)."""

        def start(self, job_id: str) -> str:
            raise SystemExit("gone")

    class Broken:
        def start(self, job_id: str) -> str:
            raise ConnectionError("Step Functions is unreachable")

    with pytest.raises(SystemExit):
        library(table, Stopped()).submit(REQUEST, SHARED_KEY_CALLER, "key-1")
    (pending,) = jobs()
    created = datetime.fromisoformat(pending["created_at"]["S"])
    assert [used(SHARED_KEY_CALLER.owner, w, created) for w in WINDOWS] == [COST, COST]

    replays = library(table, Broken())
    with pytest.raises(WorkflowUnavailable):
        replays.submit(REQUEST, SHARED_KEY_CALLER, "key-1")
    again = replays.submit(REQUEST, SHARED_KEY_CALLER, "key-1")  # the job has ended: as it is

    assert again.replayed and again.job.status.value == "failed"
    assert [used(SHARED_KEY_CALLER.owner, w, created) for w in WINDOWS] == [0, 0]


# the API's answer


@pytest.fixture
def busy_app(settings: Settings, waits: Waits, event_loop_sockets: None) -> TestClient:
    stories = library(StoryTable(boto3.client("dynamodb"), TABLE, conflicts=waits.policy))
    return TestClient(create_app(settings, library=stories), raise_server_exceptions=False)


def test_the_api_answers_503_with_retry_after_when_conflicts_outlast_the_retries(
    busy_app: TestClient,
) -> None:
    with injected("first=10"):
        busy = busy_app.post(GENERATE, json=IDEA, headers={"Idempotency-Key": "k"})

    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert "try again" in busy.json()["detail"]
    assert jobs() == []
    accepted = busy_app.post(GENERATE, json=IDEA, headers={"Idempotency-Key": "k"})
    assert accepted.status_code == 202


def test_the_api_answers_202_when_conflicts_give_way(busy_app: TestClient) -> None:
    with injected("first=3"):
        accepted = busy_app.post(GENERATE, json=IDEA)

    assert accepted.status_code == 202
    assert len(jobs()) == 1


def test_a_story_that_cannot_be_stored_is_an_error_not_an_ended_job(waits: Waits) -> None:
    """Only the job's own condition means "it has already ended"; a story item DynamoDB refuses
    (too large...) must fail the step, so the workflow fails the job instead of leaving it."""
    from botocore.exceptions import ClientError

    from kidstory.models import Story
    from kidstory.store.jobs import JobAlreadyEnded

    client = boto3.client("dynamodb", region_name="us-east-1")
    table = StoryTable(client, TABLE, conflicts=waits.policy)
    story = Story.model_validate(
        {
            "id": "s-1",
            "job_id": "j-1",
            "title": "T",
            "content": "C",
            "pages": ["C"],
            "character": {"name": "N", "species": "otter", "look": "brown"},
            "art_style": "watercolour",
            "age_group": "6-8",
            "prompt": "An otter",
            "owner": "key:a",
            "status": "completed",
        }
    )
    with Stubber(client) as stubber:
        cancelled(stubber, "None", "ValidationError")
        cancelled(stubber, "ConditionalCheckFailed", "None")
        with pytest.raises(ClientError, match="TransactionCanceledException"):
            table.finish_story(story, None)
        with pytest.raises(JobAlreadyEnded):
            table.finish_story(story, None)
