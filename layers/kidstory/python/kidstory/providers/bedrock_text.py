"""Story text from a model on Amazon Bedrock, through the Converse API. No API key: the function's
IAM role needs bedrock:InvokeModel on the model (docs/configuration.md, Providers of story text).

The answer's JSON schema goes in Converse's `outputConfig` (structured outputs), except for
models that take a schema only as a forced tool call (Amazon Nova), whose tool input is the
answer."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)
from pydantic import BaseModel

from kidstory.config.models import find_model
from kidstory.providers.aws_calls import aws_client, aws_error
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
)
from kidstory.providers.prompts import AnswerRejected, Question
from kidstory.providers.structured_text import (
    AnswerT,
    StructuredTextProvider,
    self_contained_schema,
)

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

_THROTTLED = {"ThrottlingException", "TooManyRequestsException"}
_UNAVAILABLE = {
    "InternalServerException",
    "ServiceUnavailableException",
    "ModelNotReadyException",
    "ModelErrorException",
}
_REFUSED_STOPS = {"guardrail_intervened", "content_filtered"}


def bedrock_client(region: str | None, *, timeout_seconds: float) -> Any:
    """A bedrock-runtime client that gives up after `timeout_seconds` and never retries by
    itself: the state machine retries throttling and outages with its own back-off."""
    return aws_client("bedrock-runtime", region, timeout_seconds=timeout_seconds, attempts=1)


class BedrockTextProvider(StructuredTextProvider[Any]):
    name = "bedrock"

    def __init__(
        self,
        model: str,
        *,
        client: Any,
        timeout_seconds: float,
        repair_attempts: int,
    ) -> None:
        super().__init__(
            model, client=client, timeout_seconds=timeout_seconds, repair_attempts=repair_attempts
        )
        known = find_model(model)
        self._schema_by_tool = known is not None and known.schema_by_tool

    @classmethod
    def from_settings(cls, settings: Settings) -> BedrockTextProvider:
        client = bedrock_client(
            settings.bedrock_region, timeout_seconds=settings.provider_timeout_seconds
        )
        return cls(
            settings.bedrock_text_model,
            client=client,
            timeout_seconds=settings.provider_timeout_seconds,
            repair_attempts=settings.provider_repair_attempts,
        )

    def _answer(self, question: Question, answer_type: type[AnswerT]) -> AnswerT:
        request = self._request(question, answer_type)
        try:
            response = self._client.converse(**request)
        except (ClientError, BotoCoreError) as error:
            raise provider_error(error) from error
        used = response.get("usage") or {}
        self._used(used.get("inputTokens"), used.get("outputTokens"))
        stop = response.get("stopReason")
        if stop in _REFUSED_STOPS:
            raise ContentRefused(f"Bedrock stopped the answer ({stop})")
        content = response.get("output", {}).get("message", {}).get("content", [])
        if self._schema_by_tool:
            tool_inputs = [block["toolUse"]["input"] for block in content if "toolUse" in block]
            if not tool_inputs:
                raise AnswerRejected(f"the model stopped ({stop}) without calling the tool")
            return answer_type.model_validate(tool_inputs[0])
        text = "".join(block["text"] for block in content if "text" in block)
        if not text.strip():
            raise AnswerRejected(f"the model stopped ({stop}) without an answer")
        return answer_type.model_validate_json(text)

    def _request(self, question: Question, answer_type: type[BaseModel]) -> dict[str, Any]:
        schema = self_contained_schema(answer_type)
        name = answer_type.__name__
        request: dict[str, Any] = {
            "modelId": self.model,
            "system": [{"text": question.instructions}],
            "messages": [{"role": "user", "content": [{"text": question.request}]}],
        }
        if self._schema_by_tool:
            request["toolConfig"] = {
                "tools": [
                    {
                        "toolSpec": {
                            "name": name,
                            "description": "Give the answer",
                            "inputSchema": {"json": schema},
                        }
                    }
                ],
                "toolChoice": {"tool": {"name": name}},
            }
        else:
            request["outputConfig"] = {
                "textFormat": {
                    "type": "json_schema",
                    "structure": {"jsonSchema": {"schema": json.dumps(schema), "name": name}},
                }
            }
        return request


def provider_error(error: ClientError | BotoCoreError) -> ProviderError:
    """Our error for a Bedrock (botocore) error."""
    return aws_error(
        "Bedrock",
        error,
        throttled=_THROTTLED,
        unavailable=_UNAVAILABLE,
        timed_out={"ModelTimeoutException"},
    )
