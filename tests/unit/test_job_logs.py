"""Every line a function logs while it works on a job carries that job's id (`job_id`), and no
id outlives the work it belongs to: a warm container's next invocation starts without it."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from pytest_socket import enable_socket

from kidstory import wiring
from kidstory.config import load
from kidstory.media_store import MediaStore
from kidstory.models import Job, JobStatus, StoryRequest
from kidstory.observability import logger
from kidstory.providers.base import Medium, StoryBrief
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.steps.payloads import JobOutcome
from kidstory.steps.write_story import StoryWriting
from kidstory.store.story_table import StoryTable
from kidstory.sweeper import SweepReport
from tests.unit.conftest import BUCKET, TABLE, JsonLines
from tests.unit.test_sweeper import FakeEvents, FakeStarter, _job, _sweeper
from tests.unit.test_webhooks import Receiver, _job_with_webhook

JOB = "job-7"
ASSET = {
    "job_id": JOB,
    "story_id": "story-7",
    "asset_id": "asset-7",
    "kind": "image",
    "display_order": 0,
}
CLIP = ASSET | {"kind": "video"}
# each workflow function with an event of job JOB, as the state machine (or EventBridge) sends it
WORKFLOW_EVENTS: dict[str, dict[str, Any]] = {
    "write_story": {"job_id": JOB},
    "generate_image": ASSET,
    "start_video": CLIP,
    "check_video": CLIP | {"operation_id": "op-7", "checks": 1},
    "assemble": {"job_id": JOB, "story_id": "story-7", "media": [[], []]},
    "mark_failed": {"job_id": JOB, "error": {"Error": "States.Timeout"}},
    "end_orphaned_job": {"detail": {"name": JOB, "status": "TIMED_OUT"}},
}
# the step each of them builds (kidstory.wiring)
STEPS = {
    "write_story": "story_writing",
    "generate_image": "pictures",
    "start_video": "clips",
    "check_video": "clips",
    "assemble": "outcomes",
    "mark_failed": "outcomes",
    "end_orphaned_job": "outcomes",
}


# imported as Lambda imports them, at start-up (the X-Ray SDK opens its socket then)
HANDLERS = {
    name: importlib.import_module(f"{name}.handler")
    for name in [*WORKFLOW_EVENTS, "sweep_pending_jobs"]
}


class Context:
    function_name = "KidStoryFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:KidStoryFunction"
    aws_request_id = "request-1"


class LoggingSteps:
    """Workflow steps that log while they work, as a step or a provider may, and answer as the
    real ones do."""

    def __getattr__(self, step: str) -> Any:
        def work(given: Any) -> JobOutcome:
            logger.info("working", extra={"step": step})
            logger.warning("a provider is slow", extra={"step": step})
            return JobOutcome(job_id=JOB, story_id="story-7", status=JobStatus.FAILED)

        return work


class LoggingEvents:
    def publish(self, outcome: JobOutcome) -> None:
        logger.info("published", extra={"status": outcome.status})


@pytest.fixture
def settings_of_the_unit_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The functions' settings and adapters, read again from this test's environment."""
    for name, value in {
        "TABLE_NAME": TABLE,
        "MEDIA_BUCKET": BUCKET,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }.items():
        monkeypatch.setenv(name, value)
    cached = (load.get_settings, wiring.jobs, wiring.webhook_secrets)
    for function in cached:
        function.cache_clear()
    yield
    for function in cached:
        function.cache_clear()


@pytest.mark.parametrize("function", WORKFLOW_EVENTS)
def test_every_line_of_a_workflow_step_carries_its_job_id(
    function: str, logged: JsonLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = HANDLERS[function]
    monkeypatch.setattr(module, STEPS[function], LoggingSteps)
    if hasattr(module, "story_events"):
        monkeypatch.setattr(module, "story_events", LoggingEvents)

    module.handler(WORKFLOW_EVENTS[function], Context())

    lines = logged()
    assert len(lines) >= 2
    assert [line.get("job_id") for line in lines] == [JOB] * len(lines), lines


def test_the_next_invocation_of_a_warm_container_does_not_inherit_the_job_id(
    logged: JsonLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate_image = HANDLERS["generate_image"]
    sweep = HANDLERS["sweep_pending_jobs"]
    monkeypatch.setattr(generate_image, "pictures", LoggingSteps)
    monkeypatch.setattr(sweep, "sweeper", IdleSweeper)

    generate_image.handler(ASSET, Context())
    sweep.handler({}, Context())

    *during, swept = logged()
    assert {line.get("job_id") for line in during} == {JOB}
    assert swept["message"] == "swept pending jobs" and "job_id" not in swept


class IdleSweeper:
    def sweep(self) -> SweepReport:
        return SweepReport()


class LoggingWriter(OfflineTextProvider):
    """The offline writer, logging from the story graph's prompters, which LangGraph runs side by
    side on its own threads (its drafts come without scenes, so they plan them)."""

    def write_story(self, brief: StoryBrief) -> Any:
        story = super().write_story(brief)
        story.scene_plan = {}
        return story

    def plan_scenes(self, brief: StoryBrief, story: Any, medium: Medium, count: int) -> Any:
        logger.info("planning scenes", extra={"on_thread": threading.current_thread().name})
        return super().plan_scenes(brief, story, medium, count)


def test_lines_logged_on_the_story_graphs_threads_carry_the_job_id(
    table: StoryTable, media: MediaStore, logged: JsonLines, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = Job(
        request=StoryRequest(
            prompt="An otter", age_group="3-5", num_illustrations=1, generate_videos=True
        )
    )
    table.put_job(job)
    write_story = HANDLERS["write_story"]
    monkeypatch.setattr(
        write_story, "story_writing", lambda: StoryWriting(table, table, text=LoggingWriter)
    )

    write_story.handler({"job_id": job.job_id}, Context())

    planning = [line for line in logged() if line["message"] == "planning scenes"]
    assert len(planning) == 2  # pictures and clips
    assert [line.get("job_id") for line in planning] == [job.job_id] * 2


def test_each_webhook_notice_of_a_batch_is_logged_with_its_own_job_id(
    table: StoryTable,
    logged: JsonLines,
    monkeypatch: pytest.MonkeyPatch,
    settings_of_the_unit_stack: None,
) -> None:
    enable_socket()  # the receivers are on loopback
    accepting, refusing = Receiver(status=204), Receiver(status=500)
    delivered = _job_with_webhook(table, accepting.port)
    rejected = _job_with_webhook(table, refusing.port)
    deliver_webhook = importlib.import_module("deliver_webhook.handler")  # needs the Region
    sqs = boto3.client("sqs")
    monkeypatch.setattr(deliver_webhook, "sqs", sqs)
    deliver_webhook.queue_url.cache_clear()
    queue = sqs.create_queue(QueueName="webhooks")["QueueUrl"]
    for job in (delivered, rejected):
        sqs.send_message(QueueUrl=queue, MessageBody=_notice(job.job_id))
    received = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]

    answer = deliver_webhook.handler({"Records": [_record(m) for m in received]}, Context())
    logger.info("after the batch")

    *batch, after = logged()
    assert {(line["message"], line.get("job_id")) for line in batch} == {
        ("webhook attempt", delivered.job_id),
        ("webhook not delivered", rejected.job_id),
    }
    assert after["message"] == "after the batch" and "job_id" not in after
    assert len(answer["batchItemFailures"]) == 1
    deliver_webhook.queue_url.cache_clear()
    for receiver in (accepting, refusing):
        receiver.server.shutdown()


def test_each_job_of_a_sweep_is_logged_with_its_own_job_id(
    table: StoryTable, logged: JsonLines
) -> None:
    too_old = _job(table, timedelta(days=2))
    stranded = _job(table, timedelta(hours=1))

    _sweeper(table, FakeStarter(), FakeEvents()).sweep()
    first = [(line["message"], line.get("job_id")) for line in logged()]
    _sweeper(table, FakeStarter(failures=1), FakeEvents()).sweep()  # it is still pending
    second = [(line["message"], line.get("job_id")) for line in logged()][len(first) :]

    assert first == [
        ("failed a job left pending too long", too_old.job_id),
        ("started the workflow of a job left pending", stranded.job_id),
    ]
    assert second == [("could not sweep a pending job", stranded.job_id)]


def _notice(job_id: str) -> str:
    return (
        '{"id": "evt-7", "detail-type": "story.completed", "source": "kidstory", '
        f'"time": "2026-11-25T09:10:01Z", "detail": {{"job_id": "{job_id}", "status": '
        '"completed"}}'
    )


def _record(message: dict[str, Any]) -> dict[str, Any]:
    """A received message as Lambda's SQS event source passes it."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks",
        "awsRegion": "us-east-1",
    }
