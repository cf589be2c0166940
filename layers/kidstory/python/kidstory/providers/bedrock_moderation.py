"""Moderation by an Amazon Bedrock guardrail (ApplyGuardrail), for ideas (source INPUT), story
pages and pictures (source OUTPUT): an intervention becomes a refusal a parent can read, named
after what the guardrail found. Runs after the offline word list or the structural picture check
(kidstory.safety.LayeredModerator, LayeredPictureModerator), never instead of them. No API key:
the function's role needs bedrock:ApplyGuardrail on the guardrail."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from kidstory.providers.bedrock_text import bedrock_client, provider_error
from kidstory.providers.errors import ProviderError
from kidstory.safety import (
    ALLOWED,
    ModerationSource,
    Verdict,
    picture_refused_for,
    picture_within,
    refused_for,
)

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

# Content filter types -> (our category, what it is in plain words).
FILTER_SUBJECTS: dict[str, tuple[str, str]] = {
    "VIOLENCE": ("violence", "violence"),
    "SEXUAL": ("sexual", "sexual content"),
    "HATE": ("hate", "hate toward people"),
    "INSULTS": ("insults", "insults or name-calling"),
    "MISCONDUCT": ("misconduct", "crime or wrongdoing"),
    "PROMPT_ATTACK": ("prompt_attack", "instructions meant to trick the story writer"),
}
_CONFIDENCE = {"NONE": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3}
_ACTED = {"BLOCKED", "ANONYMIZED"}
_UNNAMED = ("guardrail", "something our safety rules do not allow")
# A guardrail's image content filters take PNG or JPEG of up to 4 MB and 8000x8000 pixels.
PICTURE_MAX_BYTES = 4 * 1024 * 1024
PICTURE_MAX_SIDE = 8000
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg"}


class BedrockGuardrailModerator:
    """One ApplyGuardrail call per text or picture, with the guardrail's id (or ARN) and
    version."""

    name = "bedrock"

    def __init__(
        self, guardrail: str, version: str, *, client: Any, source: ModerationSource
    ) -> None:
        self.guardrail = guardrail
        self.version = version
        self.source = source
        self._client = client

    @classmethod
    def from_settings(
        cls, settings: Settings, source: ModerationSource
    ) -> BedrockGuardrailModerator:
        assert settings.bedrock_guardrail_id, "checked by the settings"
        client = bedrock_client(
            settings.guardrail_region, timeout_seconds=settings.moderation_timeout_seconds
        )
        return cls(
            settings.bedrock_guardrail_id,
            settings.bedrock_guardrail_version,
            client=client,
            source=source,
        )

    def check(self, text: str) -> Verdict:
        """Raises ProviderThrottled, ProviderUnavailable or ProviderTimeout when Bedrock cannot
        answer now, ProviderError when it will not (no such guardrail, access denied)."""
        response = self._apply([{"text": {"text": text}}], self.source)
        return self._verdict(response, refused_for)

    def check_picture(self, content: bytes, content_type: str) -> Verdict:
        """The picture as an image block, always as source OUTPUT (a model drew it). Fails
        closed: a guardrail that says it guarded no image (its content filters are not set for
        images) raises ProviderError, as do the errors of `check`."""
        data, kind = picture_within(
            content, content_type, max_bytes=PICTURE_MAX_BYTES, max_side=PICTURE_MAX_SIDE
        )
        block = {"image": {"format": _FORMATS[kind], "source": {"bytes": data}}}
        response = self._apply([block], "OUTPUT")
        verdict = self._verdict(response, picture_refused_for)
        images = response.get("guardrailCoverage", {}).get("images", {})
        if verdict.allowed and not images.get("guarded"):
            raise ProviderError(
                f"the Bedrock guardrail {self.guardrail} did not check the picture (it guarded "
                f"{images.get('guarded', 0)} of {images.get('total', 1)} images): turn on the "
                "image modality of its content filters"
            )
        return verdict

    def _apply(self, content: list[dict[str, Any]], source: ModerationSource) -> dict[str, Any]:
        try:
            response: dict[str, Any] = self._client.apply_guardrail(
                guardrailIdentifier=self.guardrail,
                guardrailVersion=self.version,
                source=source,
                content=content,
            )
        except (ClientError, BotoCoreError) as error:
            raise provider_error(error) from error
        return response

    @staticmethod
    def _verdict(response: dict[str, Any], refusal: Callable[[str, str], Verdict]) -> Verdict:
        if response.get("action") != "GUARDRAIL_INTERVENED":
            return ALLOWED
        category, subject = what_intervened(response.get("assessments", []))
        return refusal(category, subject)


def what_intervened(assessments: list[dict[str, Any]]) -> tuple[str, str]:
    """(our category, plain words) of the first thing the guardrail acted on: a content filter
    (the most confident), a denied topic, a blocked word, profanity, personal information."""
    for assessment in assessments:
        filters = [
            item
            for item in assessment.get("contentPolicy", {}).get("filters", [])
            if item.get("action") in _ACTED
        ]
        if filters:
            worst = max(filters, key=lambda item: _CONFIDENCE.get(item.get("confidence", ""), 0))
            kind = str(worst.get("type", ""))
            return FILTER_SUBJECTS.get(kind, (kind.lower(), kind.lower().replace("_", " ")))
        for topic in assessment.get("topicPolicy", {}).get("topics", []):
            if topic.get("action") in _ACTED:
                words = str(topic.get("name", "")).replace("-", " ").replace("_", " ").lower()
                return "topic", words or "a subject we do not write about"
        words_found = assessment.get("wordPolicy", {})
        for word in words_found.get("customWords", []):
            if word.get("action") in _ACTED:
                return "words", f'words we do not use in children\'s stories ("{word["match"]}")'
        for word in words_found.get("managedWordLists", []):
            if word.get("action") in _ACTED:
                return "profanity", "rude language"
        personal = assessment.get("sensitiveInformationPolicy", {})
        for entity in [*personal.get("piiEntities", []), *personal.get("regexes", [])]:
            if entity.get("action") in _ACTED:
                return "personal_information", (
                    "personal information (such as a name, an address or a phone number)"
                )
    return _UNNAMED
