"""NarratePage: read one page aloud, with each word's timing, and store the audio in S3."""

from typing import Any

import kidstory.steps.narration  # noqa: F401  the step loads during init, not on the first call
from kidstory.observability import logger, metrics, tracer
from kidstory.steps.payloads import AssetRef
from kidstory.wiring import narration


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    given = AssetRef.model_validate(event)
    logger.thread_safe_append_keys(job_id=given.job_id)
    return narration().narrate_page(given).model_dump(mode="json")
