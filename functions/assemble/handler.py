"""Assemble: check every asset, finish the story and set the job terminal."""

from typing import Any

import kidstory.steps.outcome  # noqa: F401  the step loads during init, not on the first call
from kidstory.observability import logger, metrics, tracer
from kidstory.steps.payloads import AssembleInput
from kidstory.wiring import outcomes


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    given = AssembleInput.model_validate(event)
    logger.thread_safe_append_keys(job_id=given.job_id)
    return outcomes().assemble(given).model_dump(mode="json")
