"""What every model-backed text provider shares: the questions asked, structured answers
validated with pydantic, and a bounded repair when an answer is unusable.

A provider subclass makes one API call in `_answer` and maps its SDK's errors to
`kidstory.providers.errors`; everything else lives here.
"""

from __future__ import annotations

import email.utils
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from kidstory import usage
from kidstory.models import ScenePrompt, StoryText
from kidstory.providers.base import Medium, PageBrief, StoryBrief, VersionBrief
from kidstory.providers.errors import ProviderError
from kidstory.providers.prompts import (
    AnswerRejected,
    Question,
    RewrittenPage,
    ScenePlan,
    WrittenStory,
    page_question,
    scene_question,
    writer_question,
)
from kidstory.providers.version_prompts import RetoldStory, version_question

AnswerT = TypeVar("AnswerT", bound=BaseModel)
ResultT = TypeVar("ResultT")

_PROBLEM_CHARS = 600


ClientT = TypeVar("ClientT")


class StructuredTextProvider(ABC, Generic[ClientT]):
    """Writes stories and plans scenes through a model that answers in JSON; `client` is the
    provider's SDK client (injected, so tests pass one with a fake transport)."""

    name: str

    def __init__(
        self, model: str, *, client: ClientT, timeout_seconds: float, repair_attempts: int
    ) -> None:
        self.model = model
        self._client = client
        self.timeout_seconds = timeout_seconds
        self.repair_attempts = repair_attempts

    def write_story(self, brief: StoryBrief) -> StoryText:
        def accept(answer: WrittenStory) -> StoryText:
            return brief.hero_kept(answer.story(brief))

        return self._ask(writer_question(brief), WrittenStory, accept)

    def plan_scenes(
        self, brief: StoryBrief, story: StoryText, medium: Medium, count: int
    ) -> list[ScenePrompt]:
        return self._ask(
            scene_question(brief, story, medium, count),
            ScenePlan,
            lambda plan: plan.scene_prompts(story, medium, count),
        )

    def write_version(self, brief: VersionBrief) -> StoryText:
        return self._ask(version_question(brief), RetoldStory, lambda answer: answer.story(brief))

    def rewrite_page(self, brief: PageBrief) -> str:
        return self._ask(page_question(brief), RewrittenPage, lambda answer: answer.page(brief))

    def _ask(
        self,
        question: Question,
        answer_type: type[AnswerT],
        accept: Callable[[AnswerT], ResultT],
    ) -> ResultT:
        """Ask, and ask again (at most `repair_attempts` times) with what was wrong."""
        asked, problem = question, ""
        for attempt in range(self.repair_attempts + 1):
            try:
                if attempt == 0:
                    return accept(self._answer(asked, answer_type))
                with usage.redo("repair"):  # a cost cap may refuse it
                    return accept(self._answer(asked, answer_type))
            except (ValidationError, AnswerRejected) as unusable:
                problem = describe_problem(unusable)
                asked = question.with_problem(problem)
        tries = self.repair_attempts + 1
        raise ProviderError(
            f"{self.name} model {self.model} gave no usable answer in {tries} tries: {problem}"
        )

    @abstractmethod
    def _answer(self, question: Question, answer_type: type[AnswerT]) -> AnswerT:
        """One call to the model: its answer as `answer_type`, its tokens reported with
        `_used` as soon as the model answered (an unusable answer is billed too).

        Raises pydantic's ValidationError or AnswerRejected when the answer is unusable (the
        question is then asked again), and a `kidstory.providers.errors` class otherwise."""

    def _used(self, input_tokens: int | None, output_tokens: int | None) -> None:
        """Report a call's tokens, as the model's answer counted them (kidstory.usage)."""
        usage.report(self.name, self.model, usage.INPUT_TOKENS, input_tokens or 0)
        usage.report(self.name, self.model, usage.OUTPUT_TOKENS, output_tokens or 0)


def describe_problem(unusable: ValidationError | AnswerRejected) -> str:
    """A short account of what was wrong with an answer, to send back to the model."""
    if isinstance(unusable, ValidationError):
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or 'answer'}: {error['msg']}"
            for error in unusable.errors(include_url=False, include_input=False)
        ]
        text = "; ".join(problems)
    else:
        text = str(unusable)
    return text if len(text) <= _PROBLEM_CHARS else text[: _PROBLEM_CHARS - 1] + "…"


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait, from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = _number(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return milliseconds / 1000
    value = lowered.get("retry-after")
    seconds = _number(value)
    if seconds is not None or value is None:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def self_contained_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with every `$ref` written out, for APIs that do not follow refs."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str):
                target = definitions[reference.rsplit("/", 1)[-1]]
                merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
                return inline(merged)
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item) for item in node]
        return node

    inlined: dict[str, Any] = inline(schema)
    return inlined


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None
