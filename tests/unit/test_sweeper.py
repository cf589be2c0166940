"""The pending-job sweeper: a job whose workflow was never started (the API stopped between the
write and StartExecution) is started after the grace period, or failed and announced once too
old; a job that moved on is off the pending list, found without a scan."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest

from kidstory.config.errors import SettingsError
from kidstory.config.settings import Settings
from kidstory.executions import WorkflowStarter
from kidstory.models import Character, Job, JobStatus, Stage, Story, StoryRequest, utc_now
from kidstory.steps.payloads import JobOutcome
from kidstory.store.story_table import StoryTable
from kidstory.store.table import PENDING_LIST_KEY, job_key
from kidstory.sweeper import PendingJobSweeper, expired_reason
from tests.unit.conftest import TABLE

GRACE = timedelta(minutes=2)
MAX_AGE = timedelta(days=1)
OWNER = "key-1"


class FakeStarter:
    def __init__(self, failures: int = 0) -> None:
        self.started: list[str] = []
        self._failures = failures

    def start(self, job_id: str) -> str:
        if self._failures:
            self._failures -= 1
            raise RuntimeError("Step Functions is not answering")
        self.started.append(job_id)
        return f"arn:execution:{job_id}"


class FakeEvents:
    def __init__(self, failures: int = 0) -> None:
        self.published: list[JobOutcome] = []
        self._failures = failures

    def publish(self, outcome: JobOutcome) -> None:
        if self._failures:
            self._failures -= 1
            raise RuntimeError("EventBridge is not answering")
        self.published.append(outcome)


def _job(table: StoryTable, age: timedelta, *, key: str | None = None) -> Job:
    """A job written the way StoryLibrary.submit writes it, `age` ago, and never started."""
    job = Job(
        request=StoryRequest(prompt="A shy hedgehog", age_group="3-5", num_illustrations=1),
        owner=OWNER,
        created_at=utc_now() - age,
    )
    if key is None:
        table.put_job(job)
    else:
        assert table.put_job_once(job, key, "fingerprint") is None
    return job


def _sweeper(
    table: StoryTable, starter: FakeStarter | None = None, events: FakeEvents | None = None
) -> PendingJobSweeper:
    return PendingJobSweeper(
        table, starter or FakeStarter(), events or FakeEvents(), grace=GRACE, max_age=MAX_AGE
    )


def _listed(table: StoryTable) -> set[str]:
    return {job.job_id for job in table.pending_jobs(utc_now() + timedelta(days=365))}


def _item(job_id: str) -> dict[str, Any]:
    return boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={name: {"S": value} for name, value in job_key(job_id).items()}
    )["Item"]


def test_a_job_left_pending_past_the_grace_period_is_started(table: StoryTable) -> None:
    stranded = _job(table, timedelta(minutes=10), key="retry-1")
    starter = FakeStarter()

    report = _sweeper(table, starter).sweep()

    assert starter.started == [stranded.job_id]
    assert report.started == [stranded.job_id]
    # still pending until its execution's MarkProcessing: the next sweep would start it again,
    # which the execution name (the job id) makes harmless
    assert table.get_job(stranded.job_id).status is JobStatus.PENDING  # type: ignore[union-attr]


def test_a_job_within_the_grace_period_is_left_to_the_api(table: StoryTable) -> None:
    fresh = _job(table, timedelta(seconds=20))
    starter, events = FakeStarter(), FakeEvents()

    report = _sweeper(table, starter, events).sweep()

    assert starter.started == [] and events.published == []
    assert report.started == report.expired == report.unlisted == []
    assert _listed(table) == {fresh.job_id}


def test_jobs_are_found_on_the_sparse_index_oldest_first_without_a_scan(
    table: StoryTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = _job(table, timedelta(minutes=30))
    newer = _job(table, timedelta(minutes=5), key="k")
    _job(table, timedelta(seconds=5))
    client = boto3.client("dynamodb")
    monkeypatch.setattr(table, "_client", client)

    def no_scan(**_: object) -> None:
        raise AssertionError("the sweeper must not scan the table")

    monkeypatch.setattr(client, "scan", no_scan)
    starter = FakeStarter()

    _sweeper(table, starter).sweep()

    assert starter.started == [older.job_id, newer.job_id]
    item = _item(older.job_id)
    assert item["gsi1pk"] == {"S": PENDING_LIST_KEY}
    assert (
        item["gsi1sk"]["S"]
        == f"{older.created_at.isoformat(timespec='microseconds')}#{older.job_id}"
    )


def test_mark_processing_takes_the_job_off_the_list(table: StoryTable) -> None:
    job = _job(table, timedelta(minutes=10))
    # what the workflow's MarkProcessing task writes (infra/workflow/definition.py; tests/infra
    # pins it)
    boto3.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"JOB#{job.job_id}"}, "sk": {"S": "JOB"}},
        UpdateExpression=(
            "SET #status = :processing, updated_at = :now, progress.stage = :writing "
            "REMOVE gsi1pk, gsi1sk"
        ),
        ConditionExpression="#status IN (:pending, :processing)",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={
            ":pending": {"S": "pending"},
            ":processing": {"S": "processing"},
            ":writing": {"S": "writing"},
            ":now": {"S": utc_now().isoformat()},
        },
    )
    starter = FakeStarter()

    _sweeper(table, starter).sweep()

    assert _listed(table) == set()
    assert starter.started == []
    assert "gsi1pk" not in _item(job.job_id) and "gsi1sk" not in _item(job.job_id)


@pytest.mark.parametrize("status", [JobStatus.PROCESSING, JobStatus.FAILED, JobStatus.COMPLETED])
def test_every_update_that_moves_a_job_on_takes_it_off_the_list(
    table: StoryTable, status: JobStatus
) -> None:
    job = _job(table, timedelta(minutes=10))
    assert _listed(table) == {job.job_id}

    table.update_job(job.job_id, status, story_id="story-1", error=None)

    assert _listed(table) == set()
    assert table.get_job(job.job_id).status is status  # type: ignore[union-attr]


def test_a_job_ended_with_its_story_is_off_the_list(table: StoryTable) -> None:
    job = _job(table, timedelta(minutes=10))
    story = Story(
        id="story-1",
        job_id=job.job_id,
        owner=OWNER,
        title="The Shy Hedgehog",
        content="Once upon a time.",
        pages=["Once upon a time."],
        character=Character(name="Hazel", species="hedgehog", look="a small brown hedgehog"),
        art_style="soft watercolour",
        age_group="3-5",
        prompt="A shy hedgehog",
        status=JobStatus.COMPLETED,
    )

    table.finish_story(story, None)

    assert _listed(table) == set()
    stories, total = table.list_stories(OWNER, limit=10, offset=0)
    assert [s.id for s in stories] == ["story-1"] and total == 1


def test_pending_jobs_do_not_show_in_the_story_or_key_lists(table: StoryTable) -> None:
    _job(table, timedelta(minutes=10))

    assert table.list_stories(OWNER, limit=10, offset=0) == ([], 0)
    assert table.list_api_keys() == []


def test_a_job_pending_past_the_maximum_age_fails_and_is_announced(table: StoryTable) -> None:
    ancient = _job(table, timedelta(days=2))
    starter, events = FakeStarter(), FakeEvents()

    report = _sweeper(table, starter, events).sweep()

    assert starter.started == []
    assert report.expired == [ancient.job_id]
    job = table.get_job(ancient.job_id)
    assert job is not None and job.status is JobStatus.FAILED
    assert job.error == expired_reason(MAX_AGE)
    assert "could not be started within 24 hours" in job.error
    assert job.progress.stage is Stage.DONE
    assert events.published == [
        JobOutcome(job_id=ancient.job_id, story_id=None, status=JobStatus.FAILED, error=job.error)
    ]
    assert _listed(table) == set()


def test_an_announcement_cut_short_is_made_again_by_the_next_sweep(table: StoryTable) -> None:
    ancient = _job(table, timedelta(days=2))
    events = FakeEvents(failures=1)
    sweeper = _sweeper(table, events=events)

    first = sweeper.sweep()

    assert first.retry_later == [ancient.job_id]
    assert table.get_job(ancient.job_id).status is JobStatus.FAILED  # type: ignore[union-attr]
    assert _listed(table) == {ancient.job_id}  # kept until announced

    second = sweeper.sweep()

    assert second.unlisted == [ancient.job_id]
    assert [outcome.status for outcome in events.published] == [JobStatus.FAILED]
    assert _listed(table) == set()


def test_a_job_whose_start_failed_is_tried_again_next_time(table: StoryTable) -> None:
    stranded = _job(table, timedelta(minutes=10))
    starter = FakeStarter(failures=1)
    sweeper = _sweeper(table, starter)

    assert sweeper.sweep().retry_later == [stranded.job_id]
    assert table.get_job(stranded.job_id).status is JobStatus.PENDING  # type: ignore[union-attr]

    assert sweeper.sweep().started == [stranded.job_id]


def test_one_failing_job_does_not_hold_up_the_others(table: StoryTable) -> None:
    first = _job(table, timedelta(minutes=20))
    second = _job(table, timedelta(minutes=10))
    starter = FakeStarter(failures=1)

    report = _sweeper(table, starter).sweep()

    assert report.retry_later == [first.job_id]
    assert report.started == [second.job_id]


def test_a_listed_job_that_is_already_processing_is_only_taken_off(table: StoryTable) -> None:
    """A listing left by a MarkProcessing of an older definition, without REMOVE."""
    job = _job(table, timedelta(minutes=10))
    boto3.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"JOB#{job.job_id}"}, "sk": {"S": "JOB"}},
        UpdateExpression="SET #status = :processing",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":processing": {"S": "processing"}},
    )
    starter, events = FakeStarter(), FakeEvents()

    report = _sweeper(table, starter, events).sweep()

    assert report.unlisted == [job.job_id]
    assert starter.started == [] and events.published == []
    assert table.get_job(job.job_id).status is JobStatus.PROCESSING  # type: ignore[union-attr]
    assert _listed(table) == set()


def test_a_job_that_moved_on_after_the_index_was_read_is_not_failed(
    table: StoryTable,
) -> None:
    job = _job(table, timedelta(days=2))
    table.update_job(job.job_id, JobStatus.PROCESSING)

    assert table.expire_pending_job(job.job_id, "too old") is False
    assert table.get_job(job.job_id).status is JobStatus.PROCESSING  # type: ignore[union-attr]


def test_one_sweep_handles_at_most_its_batch(table: StoryTable) -> None:
    jobs = [_job(table, timedelta(minutes=30 - minute)) for minute in range(3)]
    starter = FakeStarter()
    sweeper = PendingJobSweeper(table, starter, FakeEvents(), grace=GRACE, max_age=MAX_AGE, batch=2)

    sweeper.sweep()

    assert starter.started == [jobs[0].job_id, jobs[1].job_id]


def test_the_real_starter_starts_one_execution_named_after_the_job(table: StoryTable) -> None:
    sfn = boto3.client("stepfunctions")
    machine = sfn.create_state_machine(
        name="StoryWorkflow",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
        roleArn="arn:aws:iam::123456789012:role/states",
    )["stateMachineArn"]
    stranded = _job(table, timedelta(minutes=10))
    sweeper = _sweeper(table, WorkflowStarter(sfn, machine))  # type: ignore[arg-type]

    sweeper.sweep()
    sweeper.sweep()  # still pending (nothing runs MarkProcessing here): started again, no harm

    [execution] = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert execution["name"] == stranded.job_id
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"job_id": stranded.job_id}


def test_the_sweeper_settings_have_defaults_and_are_checked() -> None:
    base = {"TABLE_NAME": "t", "MEDIA_BUCKET": "m"}
    settings = Settings.from_environ(base)
    assert settings.pending_grace_seconds == 120
    assert settings.pending_max_age_seconds == 86_400
    with pytest.raises(SettingsError, match="PENDING_MAX_AGE_SECONDS"):
        Settings.from_environ(
            base | {"PENDING_GRACE_SECONDS": "600", "PENDING_MAX_AGE_SECONDS": "600"}
        )
    with pytest.raises(SettingsError, match="PENDING_GRACE_SECONDS"):
        Settings.from_environ(base | {"PENDING_GRACE_SECONDS": "5"})


@pytest.mark.parametrize(
    ("max_age", "span"),
    [
        (timedelta(days=1), "within 24 hours of"),
        (timedelta(hours=1), "within 1 hour of"),
        (timedelta(minutes=90), "within 90 minutes of"),
    ],
)
def test_the_reason_says_how_long_the_job_waited(max_age: timedelta, span: str) -> None:
    assert span in expired_reason(max_age)
    assert expired_reason(max_age).endswith("Please ask for it again.")
