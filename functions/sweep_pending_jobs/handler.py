"""SweepPendingJobs: run every few minutes by a schedule; starts the workflow of jobs left
pending past the grace period (the API stopped between recording a job and starting it), and
fails, announcing story.failed, those pending past the maximum age (kidstory.sweeper)."""

from datetime import timedelta
from functools import cache
from typing import Any

import boto3

from kidstory.config.load import get_settings
from kidstory.executions import WorkflowStarter
from kidstory.observability import logger, metrics, tracer
from kidstory.sweeper import PendingJobSweeper
from kidstory.wiring import jobs, story_events


@cache
def sweeper() -> PendingJobSweeper:
    settings = get_settings()
    return PendingJobSweeper(
        jobs(settings),
        WorkflowStarter(boto3.client("stepfunctions"), settings.require_state_machine_arn()),
        story_events(settings),
        grace=timedelta(seconds=settings.pending_grace_seconds),
        max_age=timedelta(seconds=settings.pending_max_age_seconds),
    )


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = sweeper().sweep()
    logger.info(
        "swept pending jobs",
        extra={name: len(jobs) for name, jobs in report.model_dump().items()},
    )
    return report.model_dump(mode="json")
