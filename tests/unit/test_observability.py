"""Metrics name the stage that emitted them, so that dev and prod deployed to one account and
Region keep their figures, dashboards and alarms apart."""

from __future__ import annotations

import json

import pytest
from pytest_socket import enable_socket

from kidstory.observability import provider_call
from kidstory.providers.errors import ProviderThrottled
from tests.fresh_interpreter import last_line
from tests.unit.conftest import JsonLines

EMIT_BOTH_KINDS = """
import contextlib, io, json
from kidstory import observability
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    observability.count("StoriesCompleted")
    observability.metrics.flush_metrics()
    observability.provider_latency("video", 2.5)
print(json.dumps(printed.getvalue().splitlines()))
"""


def test_every_metric_carries_the_stage_the_stack_gives_the_function(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enable_socket()  # the child process needs none, but this keeps pytest-socket out of it
    monkeypatch.setenv("STAGE", "prod")

    counted, timed = (json.loads(line) for line in json.loads(last_line(EMIT_BOTH_KINDS)))

    assert (counted["service"], counted["stage"], counted["StoriesCompleted"]) == (
        "kidstory",
        "prod",
        [1.0],
    )
    assert (timed["service"], timed["stage"], timed["kind"]) == ("kidstory", "prod", "video")
    assert timed["ProviderLatency"] == [2.5]


def test_a_provider_call_that_raised_is_not_timed(emitted: JsonLines) -> None:
    with pytest.raises(ProviderThrottled), provider_call("image"):
        raise ProviderThrottled("429 Too Many Requests")

    assert emitted() == []


def test_a_function_on_lambda_without_its_stage_does_not_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its metrics would otherwise count as the `local` stage's and miss every alarm."""
    enable_socket()
    monkeypatch.delenv("STAGE", raising=False)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "KidStory-dev-WriteStory")
    code = (
        "try:\n    import kidstory.observability\n"
        "except RuntimeError as error:\n    print(error)\n"
        "else:\n    print('started')"
    )

    assert last_line(code) == "STAGE is not set: the stack gives every function its stage"
