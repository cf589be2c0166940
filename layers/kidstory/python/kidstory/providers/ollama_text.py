"""Story text from a model served by Ollama, through its OpenAI-compatible `/v1` API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx2
import openai

from kidstory.providers.errors import ContentRefused
from kidstory.providers.openai_text import openai_client, provider_error
from kidstory.providers.prompts import AnswerRejected, Question
from kidstory.providers.structured_text import AnswerT, StructuredTextProvider

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

# Ollama ignores the key, but the OpenAI client will not start without one.
_UNUSED_KEY = "ollama"


def ollama_client(
    base_url: str,
    *,
    timeout_seconds: float,
    api_key: str | None = None,
    http_client: httpx2.Client | None = None,
) -> openai.OpenAI:
    """An OpenAI client for the Ollama server at `base_url` (with or without `/v1`); `api_key`
    is sent as a bearer key, for a gateway in front of Ollama that asks for one."""
    root = base_url.rstrip("/").removesuffix("/v1")
    return openai_client(
        api_key=api_key or _UNUSED_KEY,
        base_url=f"{root}/v1",
        timeout_seconds=timeout_seconds,
        http_client=http_client,
    )


def ollama_client_for(settings: Settings, *, timeout_seconds: float) -> openai.OpenAI:
    """The client of the stage's Ollama server (OLLAMA_BASE_URL, with OLLAMA_API_KEY if set)."""
    key = settings.ollama_api_key
    return ollama_client(
        settings.ollama_base_url,
        timeout_seconds=timeout_seconds,
        api_key=key.get_secret_value() if key else None,
    )


class OllamaTextProvider(StructuredTextProvider[openai.OpenAI]):
    name = "ollama"

    @classmethod
    def from_settings(cls, settings: Settings) -> OllamaTextProvider:
        return cls(
            settings.ollama_text_model,
            client=ollama_client_for(settings, timeout_seconds=settings.provider_timeout_seconds),
            timeout_seconds=settings.provider_timeout_seconds,
            repair_attempts=settings.provider_repair_attempts,
        )

    def _answer(self, question: Question, answer_type: type[AnswerT]) -> AnswerT:
        try:
            completion = self._client.chat.completions.parse(
                model=self.model,
                messages=[
                    {"role": "system", "content": question.instructions},
                    {"role": "user", "content": question.request},
                ],
                response_format=answer_type,
                timeout=self.timeout_seconds,
            )
        except openai.LengthFinishReasonError as error:
            raise AnswerRejected("the answer was cut off before it was complete") from error
        except openai.OpenAIError as error:
            raise provider_error(error, "Ollama") from error
        used = completion.usage
        if used is not None:
            self._used(used.prompt_tokens, used.completion_tokens)
        if not completion.choices:
            raise AnswerRejected("the response held no answer")
        message = completion.choices[0].message
        if message.refusal:
            raise ContentRefused(f"Ollama refused: {message.refusal}")
        if message.parsed is None:
            raise AnswerRejected("the response held no answer")
        return message.parsed
