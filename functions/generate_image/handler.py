"""GenerateImage: draw one illustration and store it in S3."""

from typing import Any

import kidstory.steps.pictures  # noqa: F401  the step loads during init, not on the first call
from kidstory.observability import logger, metrics, tracer
from kidstory.steps.payloads import AssetRef
from kidstory.wiring import pictures


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    given = AssetRef.model_validate(event)
    logger.thread_safe_append_keys(job_id=given.job_id)
    return pictures().generate_image(given).model_dump(mode="json")
