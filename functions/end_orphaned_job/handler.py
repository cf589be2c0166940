"""EndOrphanedJob: when a StoryWorkflow execution times out, is aborted or fails without
reaching MarkFailed, fail its job and announce story.failed, so no job stays processing."""

from typing import Any

import kidstory.steps.outcome  # noqa: F401  the step loads during init, not on the first call
from kidstory.observability import logger, metrics, tracer
from kidstory.steps.payloads import ExecutionEnded
from kidstory.wiring import outcomes, story_events


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any] | None:
    ended = ExecutionEnded.model_validate(event["detail"])
    logger.thread_safe_append_keys(job_id=ended.name)
    outcome = outcomes().end_orphaned_job(ended)
    if outcome is None:
        logger.info("nothing to announce", extra={"status": ended.status})
        return None
    story_events().publish(outcome)
    logger.warning(
        "announced the job of a stopped execution",
        extra={"execution_status": ended.status, "job_status": outcome.status},
    )
    return outcome.model_dump(mode="json")
