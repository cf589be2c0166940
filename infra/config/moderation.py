"""Moderation of ideas, story pages, pictures and clip frames besides the offline word list:
one settings model per provider, each with the function environment it needs (never a key).
OpenAI and Ollama moderation go where the story writer's calls go, so their environment takes
the stage's text provider."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from infra.config.base import OfflineSettings, ProviderSettings
from infra.config.checks import (
    GUARDRAIL_ARN,
    GUARDRAIL_ID,
    GUARDRAIL_VERSION,
    REGION,
    blank_model_problems,
    parameter_name_problems,
)
from infra.config.text import OllamaText, OpenAIText, TextProvider
from kidstory.config.settings import (
    DEFAULT_OLLAMA_MODERATION_MODEL,
    DEFAULT_OPENAI_MODERATION_MODEL,
)


class OfflineModeration(OfflineSettings):
    provider: Literal["offline"] = Field(alias="moderation_provider")
    reads_pictures: ClassVar[bool] = False

    def environment(self, text: TextProvider) -> dict[str, str]:
        return {"MODERATION_PROVIDER": self.provider}

    def key_parameter(self, text: TextProvider) -> str | None:
        return None


class OpenAIModeration(ProviderSettings):
    provider: Literal["openai"] = Field(alias="moderation_provider")
    model: str | None = Field(default=None, alias="moderation_model")
    own_key_parameter: str | None = Field(default=None, alias="moderation_key_parameter")
    """Name of the SSM SecureString parameter holding the OpenAI API key for moderation; when
    llm_provider is openai too, the story writer's (provider_key_parameter, the default)."""
    reads_pictures: ClassVar[bool] = True

    def key_parameter(self, text: TextProvider) -> str | None:
        """The parameter holding the OpenAI key that moderation uses."""
        if self.own_key_parameter:
            return self.own_key_parameter
        return text.key_parameter if isinstance(text, OpenAIText) else None

    def environment(self, text: TextProvider) -> dict[str, str]:
        environment: dict[str, str] = {"MODERATION_PROVIDER": self.provider}
        if self.model:
            environment["OPENAI_MODERATION_MODEL"] = self.model
        if isinstance(text, OpenAIText) and text.base_url:  # the stage's OpenAI gateway
            environment["OPENAI_BASE_URL"] = text.base_url
        parameter = self.key_parameter(text)
        if parameter:
            environment["OPENAI_API_KEY_PARAMETER"] = parameter
        return environment

    def problems(self, stage: str) -> list[str]:
        problems = blank_model_problems(
            "moderation_model", self.model, DEFAULT_OPENAI_MODERATION_MODEL
        )
        if self.own_key_parameter:
            problems += parameter_name_problems(
                "moderation_key_parameter",
                self.own_key_parameter,
                f"/kidstory/{stage}/openai-api-key",
            )
        return problems


class BedrockModeration(ProviderSettings):
    provider: Literal["bedrock"] = Field(alias="moderation_provider")
    guardrail_id: str | None = Field(default=None, alias="guardrail_id")
    """The Bedrock guardrail's id or ARN."""
    guardrail_version: str | None = Field(default=None, alias="guardrail_version")
    """Its version: a number, or DRAFT (the default)."""
    guardrail_region: str | None = Field(default=None, alias="guardrail_region")
    """Its Region when guardrail_id is an id; default: the stack's Region."""
    reads_pictures: ClassVar[bool] = True

    @property
    def arn_region(self) -> str | None:
        """The Region named by guardrail_id when it is an ARN."""
        found = GUARDRAIL_ARN.fullmatch(self.guardrail_id or "")
        return found.group("region") if found else None

    def key_parameter(self, text: TextProvider) -> str | None:
        return None

    def environment(self, text: TextProvider) -> dict[str, str]:
        environment: dict[str, str] = {"MODERATION_PROVIDER": self.provider}
        if self.guardrail_id:
            environment["BEDROCK_GUARDRAIL_ID"] = self.guardrail_id
            environment["BEDROCK_GUARDRAIL_VERSION"] = self.guardrail_version or "DRAFT"
            if self.guardrail_region:
                environment["BEDROCK_GUARDRAIL_REGION"] = self.guardrail_region
        return environment

    def problems(self, stage: str) -> list[str]:
        problems = []
        guardrail, region = self.guardrail_id, self.guardrail_region
        if not guardrail:
            problems.append(
                "guardrail_id is required when moderation_provider is bedrock: the id (or ARN) "
                "of the Bedrock guardrail to apply, e.g. abcd1234efgh"
            )
        elif not (GUARDRAIL_ID.fullmatch(guardrail) or GUARDRAIL_ARN.fullmatch(guardrail)):
            problems.append(
                "guardrail_id must be a guardrail id (lower-case letters and digits) or its ARN "
                f"(arn:aws:bedrock:<region>:<account>:guardrail/<id>), not {guardrail!r}"
            )
        version = self.guardrail_version
        if version is not None and not GUARDRAIL_VERSION.fullmatch(version):
            problems.append(f"guardrail_version must be a version number or DRAFT, not {version!r}")
        if region is not None and not REGION.fullmatch(region):
            problems.append(
                f"guardrail_region must be an AWS Region such as us-east-1, not {region!r}"
            )
        if region and self.arn_region and region != self.arn_region:
            problems.append(
                f"guardrail_region {region} is not the Region of the guardrail ARN "
                f"({self.arn_region}); leave it out"
            )
        return problems


class OllamaModeration(ProviderSettings):
    """A safety model on the story writer's Ollama (and behind its gateway's key, if any). It
    reads text only: pictures get the structural check alone."""

    provider: Literal["ollama"] = Field(alias="moderation_provider")
    model: str | None = Field(default=None, alias="moderation_model")
    """The safety model Ollama serves (default llama-guard3:1b)."""
    reads_pictures: ClassVar[bool] = False

    def key_parameter(self, text: TextProvider) -> str | None:
        return text.key_parameter if isinstance(text, OllamaText) else None

    def environment(self, text: TextProvider) -> dict[str, str]:
        environment: dict[str, str] = {"MODERATION_PROVIDER": self.provider}
        if self.model:
            environment["OLLAMA_MODERATION_MODEL"] = self.model
        if isinstance(text, OllamaText):
            if text.base_url:
                environment["OLLAMA_BASE_URL"] = text.base_url
            if text.key_parameter:
                environment["OLLAMA_API_KEY_PARAMETER"] = text.key_parameter
        return environment

    def problems(self, stage: str) -> list[str]:
        return blank_model_problems("moderation_model", self.model, DEFAULT_OLLAMA_MODERATION_MODEL)


ModerationProvider = Annotated[
    OfflineModeration | OpenAIModeration | BedrockModeration | OllamaModeration,
    Field(discriminator="provider"),
]
