"""Story text from OpenAI, through the Responses API with a structured-output schema."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx2
import openai

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

# 429s that more waiting will not fix: the account is out of credit.
_NOT_TRANSIENT_CODES = {"insufficient_quota", "billing_hard_limit_reached"}
_CONTENT_POLICY_CODES = {"content_policy_violation", "content_filter", "moderation_blocked"}


def openai_client(
    *,
    api_key: str,
    base_url: str | None,
    timeout_seconds: float,
    http_client: httpx2.Client | None = None,
) -> openai.OpenAI:
    """An OpenAI client that gives up after `timeout_seconds` and never retries by itself: the
    state machine retries throttling and outages with its own back-off."""
    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url or None,
        timeout=timeout_seconds,
        max_retries=0,
        http_client=http_client,
    )


def openai_client_for(settings: Settings) -> openai.OpenAI:
    """The OpenAI client the settings describe (key, endpoint, timeout)."""
    key = settings.openai_api_key
    return openai_client(
        api_key=key.get_secret_value() if key else "",
        base_url=settings.openai_base_url,
        timeout_seconds=settings.provider_timeout_seconds,
    )


class OpenAITextProvider(StructuredTextProvider[openai.OpenAI]):
    name = "openai"

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAITextProvider:
        return cls(
            settings.openai_text_model,
            client=openai_client_for(settings),
            timeout_seconds=settings.provider_timeout_seconds,
            repair_attempts=settings.provider_repair_attempts,
        )

    def _answer(self, question: Question, answer_type: type[AnswerT]) -> AnswerT:
        try:
            response = self._client.responses.parse(
                model=self.model,
                instructions=question.instructions,
                input=question.request,
                text_format=answer_type,
                timeout=self.timeout_seconds,
            )
        except openai.OpenAIError as error:
            raise provider_error(error, "OpenAI") from error
        used = response.usage
        if used is not None:
            self._used(used.input_tokens, used.output_tokens)
        for item in response.output:
            if item.type == "message":
                for content in item.content:
                    if content.type == "refusal":
                        raise ContentRefused(f"OpenAI refused: {content.refusal}")
        details = response.incomplete_details
        if details is not None and details.reason == "content_filter":
            raise ContentRefused("OpenAI stopped the answer with its content filter")
        parsed = response.output_parsed
        if parsed is None:
            raise AnswerRejected(f"the response ({response.status}) held no answer")
        return parsed


def provider_error(error: openai.OpenAIError, service: str) -> ProviderError:
    """Our error for an OpenAI SDK error (also used for Ollama, through the same SDK)."""
    if isinstance(error, openai.APITimeoutError):
        return ProviderTimeout(f"{service} did not answer in time")
    if isinstance(error, openai.APIConnectionError):
        return ProviderUnavailable(f"{service} could not be reached: {error}")
    if isinstance(error, openai.ContentFilterFinishReasonError):
        return ContentRefused(f"{service} stopped the answer with its content filter")
    if not isinstance(error, openai.APIStatusError):
        return ProviderError(f"{service}: {error}")
    status, code = error.status_code, error.code
    message = f"{service} answered {status}: {error.message}"
    if status == 429 and code not in _NOT_TRANSIENT_CODES:
        return ProviderThrottled(
            message, retry_after_seconds=retry_after_seconds(error.response.headers)
        )
    if status == 408:
        return ProviderTimeout(message)
    if status >= 500:
        return ProviderUnavailable(message)
    if code in _CONTENT_POLICY_CODES:
        return ContentRefused(message)
    return ProviderError(message)
