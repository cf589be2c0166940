"""Story text from Anthropic's Claude, through the Messages API with a structured-output schema.

The request is the one `messages.parse(output_format=...)` sends (`output_config.format` with
the SDK's own `transform_schema`), but made with `messages.create`: `parse` validates the text
before the caller can see `stop_reason`, so a refusal would look like malformed JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anthropic
import httpx2

from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.prompts import AnswerRejected, Question
from kidstory.providers.structured_text import (
    AnswerT,
    StructuredTextProvider,
    retry_after_seconds,
)

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

# The Messages API requires a limit: room for a whole story and any thinking before it.
ANSWER_MAX_TOKENS = 16_000


def anthropic_client(
    *,
    api_key: str,
    base_url: str | None,
    timeout_seconds: float,
    http_client: httpx2.Client | None = None,
) -> anthropic.Anthropic:
    """An Anthropic client that gives up after `timeout_seconds` and never retries by itself:
    the state machine retries throttling and outages with its own back-off."""
    return anthropic.Anthropic(
        api_key=api_key,
        base_url=base_url or None,
        timeout=timeout_seconds,
        max_retries=0,
        http_client=http_client,
    )


class AnthropicTextProvider(StructuredTextProvider[anthropic.Anthropic]):
    name = "anthropic"

    @classmethod
    def from_settings(cls, settings: Settings) -> AnthropicTextProvider:
        key = settings.anthropic_api_key
        client = anthropic_client(
            api_key=key.get_secret_value() if key else "",
            base_url=settings.anthropic_base_url,
            timeout_seconds=settings.provider_timeout_seconds,
        )
        return cls(
            settings.anthropic_text_model,
            client=client,
            timeout_seconds=settings.provider_timeout_seconds,
            repair_attempts=settings.provider_repair_attempts,
        )

    def _answer(self, question: Question, answer_type: type[AnswerT]) -> AnswerT:
        try:
            message = self._client.messages.create(
                model=self.model,
                max_tokens=ANSWER_MAX_TOKENS,
                system=question.instructions,
                messages=[{"role": "user", "content": question.request}],
                output_config={
                    "format": {
                        "type": "json_schema",
                        "schema": anthropic.transform_schema(answer_type),
                    }
                },
                timeout=self.timeout_seconds,
            )
        except anthropic.AnthropicError as error:
            raise provider_error(error) from error
        used = getattr(message, "usage", None)  # (a fake's answer may have none)
        if used is not None:
            self._used(used.input_tokens, used.output_tokens)
        if message.stop_reason == "refusal":
            raise ContentRefused("Anthropic refused to write this")
        if message.stop_reason == "max_tokens":
            raise AnswerRejected("the answer was cut off before it was complete")
        text = "".join(block.text for block in message.content if block.type == "text")
        if not text.strip():
            raise AnswerRejected(f"the response ({message.stop_reason}) held no answer")
        return answer_type.model_validate_json(text)


def provider_error(error: anthropic.AnthropicError) -> ProviderError:
    """Our error for an Anthropic SDK error."""
    if isinstance(error, anthropic.APITimeoutError):
        return ProviderTimeout("Anthropic did not answer in time")
    if isinstance(error, anthropic.APIConnectionError):
        return ProviderUnavailable(f"Anthropic could not be reached: {error}")
    if not isinstance(error, anthropic.APIStatusError):
        return ProviderError(f"Anthropic: {error}")
    status = error.status_code
    message = f"Anthropic answered {status}: {error.message}"
    if status == 429:
        return ProviderThrottled(
            message, retry_after_seconds=retry_after_seconds(error.response.headers)
        )
    if status == 408:
        return ProviderTimeout(message)
    if status >= 500:
        return ProviderUnavailable(message)
    return ProviderError(message)
