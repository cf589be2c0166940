"""Observability in one place: the Powertools logger (JSON lines, the job id on each), metrics
(CloudWatch embedded metric format, namespace KidStory) and the X-Ray tracer.

The API function uses the logger only: the tracer loads the X-Ray SDK, which costs about 0.4 s
of cold start, and Lambda's active tracing already traces the API's invocations."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

logger = Logger(service="kidstory")
# One dimension, service: alarms need metrics with fixed dimensions, and a stage uses one
# provider per capability, named in the logs.
metrics = Metrics(namespace="KidStory", service="kidstory")


@cache
def tracer() -> Tracer:
    from aws_lambda_powertools import Tracer

    return Tracer(service="kidstory")


def count(name: str, value: int = 1) -> None:
    """A business or provider count: StoriesCompleted, ImagesGenerated, ProviderThrottled..."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def seconds(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=value)
