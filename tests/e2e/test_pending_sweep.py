"""A job whose workflow the API never started (its process stopped between recording the job and
StartExecution) is started by the pending-job sweeper and still becomes a story; one left
pending too long is failed and announced instead."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

import kidstory.sweeper
from infra.local.emulator import LocalStack
from kidstory.library import StoryLibrary
from kidstory.models import utc_now
from tests.e2e.conftest import ApiClient
from tests.e2e.test_webhooks import Receiver

IDEA = {"prompt": "A little tugboat pulls a big ship home", "age_group": "3-5"}
SWEEPER = "SweepPendingJobsFunction"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


def _stranded_job(client: ApiClient, monkeypatch: pytest.MonkeyPatch, **options: object) -> str:
    """Ask for a story through the API, as if its process died right after the job was written
    (before StartExecution): the client got its job id, and no workflow runs."""
    with monkeypatch.context() as crash:
        crash.setattr(StoryLibrary, "_start", lambda self, job, charge: None)
        accepted = client.generate(**(IDEA | {"num_illustrations": 1} | options))
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["job_id"])


def _executions_of(stack: LocalStack, job_id: str) -> list[dict]:
    sfn = stack.client("stepfunctions")
    return [
        execution
        for execution in sfn.list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
        if execution["name"] == job_id
    ]


def _clock(monkeypatch: pytest.MonkeyPatch, ahead: timedelta) -> None:
    """The sweeper's clock, `ahead` of now (it runs in this process, behind the local Lambda)."""
    real: Callable[[], datetime] = utc_now
    monkeypatch.setattr(kidstory.sweeper, "utc_now", lambda: real() + ahead)


def _job_item(stack: LocalStack, job_id: str) -> dict:
    return stack.client("dynamodb").get_item(
        TableName=stack.name_of("AWS::DynamoDB::Table"),
        Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
        ConsistentRead=True,
    )["Item"]


def test_a_job_stranded_by_a_crash_is_started_by_the_sweeper_and_completed(
    client: ApiClient, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = _stranded_job(client, monkeypatch)
    assert client.job(job_id)["status"] == "pending"
    assert _executions_of(local_stack, job_id) == []
    assert _job_item(local_stack, job_id)["gsi1pk"] == {"S": "PENDING"}

    # within the grace period the job is left to the API
    report = local_stack.invoke_function(SWEEPER)
    assert job_id not in report["started"]
    assert _executions_of(local_stack, job_id) == []

    _clock(monkeypatch, timedelta(minutes=10))
    report = local_stack.invoke_function(SWEEPER)

    assert job_id in report["started"]
    job = client.wait_for(job_id)
    assert job["status"] == "completed", job["error"]
    assert len(_executions_of(local_stack, job_id)) == 1
    story = client.story(job["story_id"])
    assert story.status_code == 200, story.text
    assert story.json()["job_id"] == job_id
    assert len(story.json()["images"]) == 1
    # MarkProcessing, as synthesized and run by the emulated Step Functions, took it off the list
    item = _job_item(local_stack, job_id)
    assert "gsi1pk" not in item and "gsi1sk" not in item
    assert job_id not in local_stack.invoke_function(SWEEPER)["started"]


def test_a_job_pending_past_the_maximum_age_fails_and_its_webhook_hears_it(
    client: ApiClient,
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    receiver: Receiver,
) -> None:
    job_id = _stranded_job(client, monkeypatch, webhook_url=receiver.url)

    _clock(monkeypatch, timedelta(days=2))
    report = local_stack.invoke_function(SWEEPER)

    assert job_id in report["expired"]
    job = client.job(job_id)
    assert job["status"] == "failed"
    assert job["error"].startswith("The story could not be started within 24 hours")
    assert _executions_of(local_stack, job_id) == []
    [(_, body)] = receiver.wait_for(job_id)
    notice = json.loads(body)
    assert notice["event"] == "story.failed"
    assert notice["error"] == job["error"]
