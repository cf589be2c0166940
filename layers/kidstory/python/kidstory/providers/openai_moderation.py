"""Moderation by OpenAI's moderations endpoint (omni-moderation-latest by default), for ideas,
story pages and pictures: a flagged category becomes a refusal a parent can read. Runs after the
offline word list or the structural picture check (kidstory.safety.LayeredModerator,
LayeredPictureModerator), never instead of them."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import openai

from kidstory.providers.errors import ContentRefused, ProviderError
from kidstory.providers.openai_text import openai_client_for, provider_error
from kidstory.safety import ALLOWED, Verdict, picture_refused_for, picture_within, refused_for

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

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
# OpenAI takes image files of up to 20 MB; a picture is sent as a data URL. Our pictures are
# far smaller: a larger one is scaled down first (kidstory.safety.picture_within).
PICTURE_MAX_BYTES = 20 * 1024 * 1024
PICTURE_MAX_SIDE = 8192


class OpenAIModerator:
    """One moderations call per text or picture. With `threshold`, a category scoring that much
    or more is refused too, even when OpenAI's own (adult-audience) flag stays down."""

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
        return self._moderate(text, refused_for)

    def check_picture(self, content: bytes, content_type: str) -> Verdict:
        """The picture, as a base64 data URL (omni-moderation models take images). Fails closed:
        an answer whose categories were not applied to an image (a text-only model) raises
        ProviderError, as do the errors of `check`."""
        data, kind = picture_within(
            content, content_type, max_bytes=PICTURE_MAX_BYTES, max_side=PICTURE_MAX_SIDE
        )
        url = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
        return self._moderate(
            [{"type": "image_url", "image_url": {"url": url}}], picture_refused_for, picture=True
        )

    def _moderate(
        self,
        given: str | list[Any],
        refusal: Callable[[str, str], Verdict],
        *,
        picture: bool = False,
    ) -> Verdict:
        try:
            response = self._client.moderations.create(
                model=self.model, input=given, timeout=self.timeout_seconds
            )
        except openai.OpenAIError as error:
            problem = provider_error(error, SERVICE)
            if isinstance(problem, ContentRefused):
                return refusal("content_policy", "something OpenAI's safety check refused")
            raise problem from error
        if not response.results:
            raise ProviderError(f"{SERVICE} answered without a result")
        result = response.results[0]
        flags: dict[str, Any] = result.categories.model_dump(by_alias=True)
        scores: dict[str, Any] = result.category_scores.model_dump(by_alias=True)
        judged = set(scores)
        if picture:
            judged = categories_applied_to_images(result)
            if not judged:
                raise ProviderError(
                    f"{SERVICE} did not look at the picture: {self.model} applied no category "
                    "to images (use an omni-moderation model)"
                )
        flagged = {name for name, on in flags.items() if on is True}
        if self.threshold is not None:
            flagged |= {
                name
                for name, score in scores.items()
                if name in judged and isinstance(score, int | float) and score >= self.threshold
            }
        if not flagged:
            if result.flagged:  # flagged without naming a category
                return refusal("flagged", "something our safety check does not allow")
            return ALLOWED
        worst = max(sorted(flagged), key=lambda name: float(scores.get(name) or 0))
        category, subject = SUBJECTS.get(worst, (worst, worst.replace("/", " ").replace("-", " ")))
        return refusal(category, subject)


def categories_applied_to_images(result: Any) -> set[str]:
    """The categories OpenAI says it judged the image by (`category_applied_input_types`): on
    a picture alone, the others score 0 and say nothing about it."""
    applied = getattr(result, "category_applied_input_types", None)
    if applied is None:
        return set()
    found: dict[str, Any] = applied.model_dump(by_alias=True)
    return {name for name, kinds in found.items() if isinstance(kinds, list) and "image" in kinds}
