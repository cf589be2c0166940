"""Moderation by a safety model served by Ollama (Llama Guard 3 by default,
OLLAMA_MODERATION_MODEL), for ideas and story pages, through Ollama's OpenAI-compatible `/v1`
API: the model's "unsafe" and hazard categories (S1-S14) become a refusal a parent can read.
Runs after the offline moderation (kidstory.safety.LayeredModerator), never instead of it.

Llama Guard 3 (1b and 8b, the sizes Ollama serves) reads text only: pictures are judged by the
structural check alone when MODERATION_PROVIDER=ollama (kidstory.providers.picture_moderator)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import openai

from kidstory.providers.errors import ProviderError
from kidstory.providers.ollama_text import ollama_client_for
from kidstory.providers.openai_text import provider_error
from kidstory.safety import ALLOWED, ModerationSource, Verdict, refused_for

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

SERVICE = "Ollama moderation"
# Llama Guard 3's hazard categories (MLCommons taxonomy) -> (our category, plain words).
HAZARDS: dict[str, tuple[str, str]] = {
    "S1": ("violence", "violent crime"),
    "S2": ("illicit", "crime or breaking the law"),
    "S3": ("sexual", "sexual abuse"),
    "S4": ("sexual", "the sexual abuse of children"),
    "S5": ("defamation", "lies that hurt a real person's name"),
    "S6": ("specialized_advice", "dangerous medical, legal or money advice"),
    "S7": ("personal_information", "someone's private information"),
    "S8": ("intellectual_property", "someone else's copyrighted work"),
    "S9": ("weapons", "weapons that can hurt many people"),
    "S10": ("hate", "hate toward people"),
    "S11": ("self_harm", "self-harm"),
    "S12": ("sexual", "sexual content"),
    "S13": ("elections", "false information about elections"),
    "S14": ("code_abuse", "misuse of computer code"),
}
_ANSWER = re.compile(r"^\s*(safe|unsafe)\s*(?:\n\s*(S\d{1,2}(?:\s*,\s*S\d{1,2})*)\s*)?$", re.I)
# What a story page is shown as: the answer to a request for a story, which Llama Guard judges
# as the agent's turn.
_STORY_REQUEST = "Write a page of a children's story."


class OllamaModerator:
    """One chat completion per text, the text as the user's turn (an idea) or as the agent's
    answer (a page); Llama Guard answers "safe", or "unsafe" and its categories on the next
    line. Anything else fails closed."""

    name = "ollama"

    def __init__(
        self, model: str, *, client: openai.OpenAI, timeout_seconds: float, source: ModerationSource
    ) -> None:
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.source = source
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings, source: ModerationSource) -> OllamaModerator:
        return cls(
            settings.ollama_moderation_model,
            client=ollama_client_for(settings, timeout_seconds=settings.moderation_timeout_seconds),
            timeout_seconds=settings.moderation_timeout_seconds,
            source=source,
        )

    def check(self, text: str) -> Verdict:
        """Raises ProviderThrottled, ProviderUnavailable or ProviderTimeout when Ollama cannot
        answer now, ProviderError when it will not (a model that was not pulled) or when its
        answer is not a verdict."""
        messages: list[Any] = [{"role": "user", "content": text}]
        if self.source == "OUTPUT":
            messages = [
                {"role": "user", "content": _STORY_REQUEST},
                {"role": "assistant", "content": text},
            ]
        try:
            completion = self._client.chat.completions.create(
                model=self.model, messages=messages, temperature=0, timeout=self.timeout_seconds
            )
        except openai.OpenAIError as error:
            raise provider_error(error, SERVICE) from error
        answer = completion.choices[0].message.content if completion.choices else None
        return verdict_of(answer or "", self.model)


def verdict_of(answer: str, model: str) -> Verdict:
    """Our verdict for a Llama Guard answer; ProviderError for one that is not a verdict."""
    found = _ANSWER.match(answer)
    if not found or (found.group(1).lower() == "safe" and found.group(2)):
        raise ProviderError(
            f"{SERVICE}: {model} did not answer with a verdict ({answer[:80]!r}); is it a "
            "safety model such as llama-guard3?"
        )
    if found.group(1).lower() == "safe":
        return ALLOWED
    hazards = [code.strip().upper() for code in (found.group(2) or "").split(",") if code.strip()]
    if not hazards:
        return refused_for("unsafe", "something our safety check does not allow")
    category, subject = HAZARDS.get(hazards[0], (hazards[0].lower(), "something unsafe"))
    return refused_for(category, subject)
