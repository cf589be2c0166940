"""CheckVideo: see whether a clip is ready; store it when it is."""

from typing import Any

import kidstory.steps.clips  # noqa: F401  the step loads during init, not on the first call
from kidstory.observability import logger, metrics, tracer
from kidstory.steps.payloads import VideoPoll
from kidstory.wiring import clips


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    given = VideoPoll.model_validate(event)
    logger.thread_safe_append_keys(job_id=given.job_id)
    return clips().check_video(given).model_dump(mode="json")
