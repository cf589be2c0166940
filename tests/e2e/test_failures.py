"""Whatever fails and wherever, the job ends `failed` with an error a person can read; passing
trouble is retried."""

from __future__ import annotations

import re
import threading

import pytest

from infra.local.emulator import LocalStack
from kidstory.providers.errors import ContentRefused, ProviderThrottled
from kidstory.providers.offline import OfflineImageProvider
from kidstory.providers.offline_text import OfflineTextProvider
from tests.e2e.conftest import ApiClient

IDEA = "A sleepy owl looks for the moon"


def _submit(client: ApiClient, **options: object) -> dict:
    body = {"prompt": IDEA, "age_group": "3-5", "num_illustrations": 2} | options
    accepted = client.generate(**body)
    assert accepted.status_code == 202, accepted.text
    return client.wait_for(accepted.json()["job_id"])


def test_a_refused_illustration_fails_the_job_with_the_reason(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: OfflineImageProvider, spec: object) -> object:
        raise ContentRefused("the image model refused this scene")

    monkeypatch.setattr(OfflineImageProvider, "generate_image", refuse)

    job = _submit(client)

    assert job["status"] == "failed"
    assert "ContentRefused: the image model refused this scene" in job["error"]
    assert job["story_id"] is None
    assert client.story(job["job_id"]).status_code == 404


def test_a_failing_story_writer_fails_the_job_with_the_reason(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: OfflineTextProvider, brief: object) -> object:
        raise RuntimeError("the writer fell asleep")

    monkeypatch.setattr(OfflineTextProvider, "write_story", broken)

    job = _submit(client)

    assert job["status"] == "failed"
    assert "the writer fell asleep" in job["error"]


def test_throttling_is_retried_until_the_image_is_made(
    client: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    lock = threading.Lock()
    original = OfflineImageProvider.generate_image

    def throttled_once(self: OfflineImageProvider, spec: object) -> object:
        with lock:
            calls.append("call")
            first = len(calls) == 1
        if first:
            raise ProviderThrottled("slow down", retry_after_seconds=1)
        return original(self, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(OfflineImageProvider, "generate_image", throttled_once)

    job = _submit(client, num_illustrations=1)

    assert job["status"] == "completed", job["error"]
    assert len(calls) == 2
    story = client.story(job["story_id"]).json()
    assert len(story["images"]) == 1


def test_an_aborted_execution_fails_its_job(
    client: ApiClient, local_stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = threading.Event()
    release = threading.Event()
    original = OfflineImageProvider.generate_image

    def slow(self: OfflineImageProvider, spec: object) -> object:
        started.set()
        release.wait(timeout=30)
        return original(self, spec)  # type: ignore[arg-type]

    monkeypatch.setattr(OfflineImageProvider, "generate_image", slow)
    accepted = client.generate(prompt=IDEA, age_group="3-5", num_illustrations=1).json()
    assert started.wait(timeout=30), "the image step never started"
    sfn = local_stack.client("stepfunctions")
    execution_arn = (
        local_stack.state_machine_arn.replace(":stateMachine:", ":execution:")
        + f":{accepted['job_id']}"
    )

    sfn.stop_execution(executionArn=execution_arn, cause="stopped by an operator")
    release.set()
    job = client.wait_for(accepted["job_id"])

    assert job["status"] == "failed"
    # Step Functions reports ABORTED; moto's interpreter, stopped inside a Map, ends FAILED
    assert re.search(r"stopped \((ABORTED|FAILED)\) before the story was finished", job["error"])
