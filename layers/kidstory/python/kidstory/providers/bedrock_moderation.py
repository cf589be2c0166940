"""Moderation by an Amazon Bedrock guardrail (ApplyGuardrail), for ideas (source INPUT) and story
pages (source OUTPUT): an intervention becomes a refusal a parent can read, named after what the
guardrail found. Runs after the offline word list (kidstory.safety.LayeredModerator), never
instead of it. No API key: the function's role needs bedrock:ApplyGuardrail on the guardrail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from kidstory.providers.bedrock_text import bedrock_client, provider_error
from kidstory.safety import ALLOWED, ModerationSource, Verdict, refused_for

if TYPE_CHECKING:
    from kidstory.settings import Settings

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


class BedrockGuardrailModerator:
    """One ApplyGuardrail call per text, with the guardrail's id (or ARN) and version."""

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
        try:
            response = self._client.apply_guardrail(
                guardrailIdentifier=self.guardrail,
                guardrailVersion=self.version,
                source=self.source,
                content=[{"text": {"text": text}}],
            )
        except (ClientError, BotoCoreError) as error:
            raise provider_error(error) from error
        if response.get("action") != "GUARDRAIL_INTERVENED":
            return ALLOWED
        category, subject = what_intervened(response.get("assessments", []))
        return refused_for(category, subject)


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
