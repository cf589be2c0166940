"""Moderation by OpenAI's moderations endpoint (omni-moderation-latest by default), for ideas and
story pages: a flagged category becomes a refusal a parent can read. Runs after the offline word
list (kidstory.safety.LayeredModerator), never instead of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import openai

from kidstory.providers.errors import ContentRefused, ProviderError
from kidstory.providers.openai_text import openai_client_for, provider_error
from kidstory.safety import ALLOWED, Verdict, refused_for

if TYPE_CHECKING:
    from kidstory.settings import Settings

SERVICE = "OpenAI moderation"
# OpenAI's categories -> (our category, what it is in plain words). A category OpenAI adds later
# is named by its own words.
SUBJECTS: dict[str, tuple[str, str]] = {
    "sexual": ("sexual", "sexual content"),
    "sexual/minors": ("sexual", "sexual content"),
    "violence": ("violence", "violence"),
    "violence/graphic": ("violence", "graphic violence"),
    "self-harm": ("self_harm", "self-harm"),
    "self-harm/intent": ("self_harm", "self-harm"),
    "self-harm/instructions": ("self_harm", "self-harm"),
    "hate": ("hate", "hate toward people"),
    "hate/threatening": ("hate", "hate or threats toward people"),
    "harassment": ("harassment", "bullying or harassment"),
    "harassment/threatening": ("harassment", "threats against someone"),
    "illicit": ("illicit", "crime or breaking the law"),
    "illicit/violent": ("illicit", "weapons or violent crime"),
}


class OpenAIModerator:
    """One moderations call per text. With `threshold`, a category scoring that much or more is
    refused too, even when OpenAI's own (adult-audience) flag stays down."""

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        client: openai.OpenAI,
        timeout_seconds: float,
        threshold: float | None = None,
    ) -> None:
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.threshold = threshold
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIModerator:
        return cls(
            settings.openai_moderation_model,
            client=openai_client_for(settings),
            timeout_seconds=settings.moderation_timeout_seconds,
            threshold=settings.openai_moderation_threshold,
        )

    def check(self, text: str) -> Verdict:
        """Raises ProviderThrottled, ProviderUnavailable or ProviderTimeout when OpenAI cannot
        answer now, ProviderError when it will not (a wrong key, an unknown model)."""
        try:
            response = self._client.moderations.create(
                model=self.model, input=text, timeout=self.timeout_seconds
            )
        except openai.OpenAIError as error:
            problem = provider_error(error, SERVICE)
            if isinstance(problem, ContentRefused):
                return refused_for("content_policy", "something OpenAI's safety check refused")
            raise problem from error
        if not response.results:
            raise ProviderError(f"{SERVICE} answered without a result")
        result = response.results[0]
        flags: dict[str, Any] = result.categories.model_dump(by_alias=True)
        scores: dict[str, Any] = result.category_scores.model_dump(by_alias=True)
        flagged = {name for name, on in flags.items() if on is True}
        if self.threshold is not None:
            flagged |= {
                name
                for name, score in scores.items()
                if isinstance(score, int | float) and score >= self.threshold
            }
        if not flagged:
            if result.flagged:  # flagged without naming a category
                return refused_for("flagged", "something our safety check does not allow")
            return ALLOWED
        worst = max(sorted(flagged), key=lambda name: float(scores.get(name) or 0))
        category, subject = SUBJECTS.get(worst, (worst, worst.replace("/", " ").replace("-", " ")))
        return refused_for(category, subject)
