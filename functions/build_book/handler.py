"""BuildBook: bind a finished story as an EPUB 3 and print and screen PDFs, kept in S3."""

from typing import Any

import kidstory.steps.books  # noqa: F401  the step loads during init, not on the first call
from kidstory.observability import logger, metrics, tracer
from kidstory.steps.books import BookInput
from kidstory.wiring import books


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    given = BookInput.model_validate(event)
    logger.thread_safe_append_keys(job_id=given.job_id)
    return books().build_book(given).model_dump(mode="json")
