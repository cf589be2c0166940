"""Observability in one place: the Powertools logger (JSON lines, the job id on each), metrics
(CloudWatch embedded metric format, namespace KidStory) and the X-Ray tracer.

Every metric has two dimensions, service=kidstory and stage=<the stack's stage>, so that a dev
and a prod stack in one account and Region keep their figures apart; the stack gives every
function its stage in `STAGE` (a process outside a stack, such as a test, counts as `local`).
ProviderLatency alone has a third, kind (text, image or video). Alarms need fixed dimensions:
these are the only sets.

The API function does without the tracer: it loads the X-Ray SDK, which costs about 0.4 s of
cold start, and Lambda's active tracing already traces the API's invocations."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "kidstory"
NAMESPACE = "KidStory"
STAGE = os.environ.get("STAGE") or "local"
if "STAGE" not in os.environ and "AWS_LAMBDA_FUNCTION_NAME" in os.environ:
    # on Lambda its metrics would count as another stage's and miss every alarm
    raise RuntimeError("STAGE is not set: the stack gives every function its stage")

ProviderKind = Literal["text", "image", "video", "narration"]

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
metrics.set_default_dimensions(stage=STAGE)


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


@contextmanager
def about_job(job_id: str) -> Iterator[None]:
    """Every line logged inside carries `job_id`, for a function that works on several jobs in
    one invocation (a batch of webhook notices, a sweep). A function that works on one job
    appends it for the whole invocation, `logger.thread_safe_append_keys(job_id=...)`, and its
    `inject_lambda_context(clear_state=True)` drops it before the next. Both keep the id to the
    thread (and the threads it starts with its context, as LangGraph does), so that invocations
    run side by side in one process, as in the local stack, do not mix their ids."""
    logger.thread_safe_append_keys(job_id=job_id)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(["job_id"])


def count(name: str, value: int = 1) -> None:
    """A business or provider count: StoriesCompleted, ImagesGenerated, ProviderThrottled..."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def seconds(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=value)


def provider_latency(kind: ProviderKind, value: float) -> None:
    """ProviderLatency of one call, by kind. Its dimensions differ from the other metrics', so
    it goes out at once as its own record (Powertools' single_metric) rather than with the rest
    at the end of the invocation."""
    if is_metrics_disabled():
        return
    with single_metric(
        name="ProviderLatency",
        unit=MetricUnit.Seconds,
        value=value,
        namespace=NAMESPACE,
        default_dimensions={"service": SERVICE, "stage": STAGE},
    ) as metric:
        metric.add_dimension(name="kind", value=kind)


@contextmanager
def provider_call(kind: ProviderKind) -> Iterator[None]:
    """Times the provider call inside as ProviderLatency of `kind`, when the provider answered
    (a call that raised is not timed: its error is recorded, and a throttle counted, instead)."""
    started = time.monotonic()
    yield
    provider_latency(kind, time.monotonic() - started)
