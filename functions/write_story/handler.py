"""WriteStory: run the story graph, store the story and one record per illustration and clip."""

from typing import Any

# the step and LangGraph load during init, not on the first story
import kidstory.steps.write_story
import kidstory.story_graph  # noqa: F401
from kidstory.observability import logger, metrics, tracer
from kidstory.steps.payloads import JobRef
from kidstory.wiring import story_writing


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    given = JobRef.model_validate(event)
    logger.thread_safe_append_keys(job_id=given.job_id)
    return story_writing().write_story(given).model_dump(mode="json")
