"""The story writer's text provider: one settings model per provider, each with the function
environment it needs (ids, endpoints and the name of the key's parameter, never a key)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from infra.config.base import OfflineSettings, ProviderSettings
from infra.config.checks import (
    URL,
    BedrockCall,
    bedrock_model_problems,
    blank_model_problems,
    parameter_name_problems,
    required_key_problems,
)
from kidstory.config.models import default_model
from kidstory.config.settings import Settings

# Where the story writer calls Bedrock when the stage names no Region: its own default.
DEFAULT_BEDROCK_REGION: str = Settings.model_fields["bedrock_region"].default


class OfflineText(OfflineSettings):
    provider: Literal["offline"] = Field(alias="llm_provider")

    @property
    def key_parameter(self) -> None:
        return None

    def environment(self) -> dict[str, str]:
        return {"LLM_PROVIDER": self.provider}


class _HttpText(ProviderSettings):
    """A provider called over HTTP(S) with a key read from an SSM SecureString parameter."""

    model: str | None = Field(default=None, alias="text_model")
    base_url: str | None = Field(default=None, alias="provider_base_url")
    key_parameter: str | None = Field(default=None, alias="provider_key_parameter")
    """Name of the SSM SecureString parameter holding the API key; the key itself never enters
    the template."""

    provider: str

    def environment(self) -> dict[str, str]:
        prefix = self.provider.upper()
        environment: dict[str, str] = {"LLM_PROVIDER": self.provider}
        if self.model:
            environment[f"{prefix}_TEXT_MODEL"] = self.model
        if self.base_url:
            environment[f"{prefix}_BASE_URL"] = self.base_url
        if self.key_parameter:
            environment[f"{prefix}_API_KEY_PARAMETER"] = self.key_parameter
        return environment

    def problems(self, stage: str) -> list[str]:
        problems = blank_model_problems("text_model", self.model)
        example = f"/kidstory/{stage}/{self.provider}-api-key"
        problems += self.key_problems(example)
        if self.base_url and not URL.fullmatch(self.base_url):
            problems.append(f"provider_base_url must be an http(s) URL, not {self.base_url!r}")
        return problems

    def key_problems(self, example: str) -> list[str]:
        return required_key_problems(
            "provider_key_parameter",
            self.key_parameter,
            f"llm_provider is {self.provider}",
            example,
        )


class OpenAIText(_HttpText):
    provider: Literal["openai"] = Field(alias="llm_provider")


class AnthropicText(_HttpText):
    provider: Literal["anthropic"] = Field(alias="llm_provider")


class OllamaText(_HttpText):
    """Ollama takes a key only behind a gateway that asks for one: the parameter is optional,
    the server's URL is not."""

    provider: Literal["ollama"] = Field(alias="llm_provider")

    def key_problems(self, example: str) -> list[str]:
        if not self.key_parameter:
            return []
        return parameter_name_problems("provider_key_parameter", self.key_parameter, example)

    def problems(self, stage: str) -> list[str]:
        problems = super().problems(stage)
        if not self.base_url:
            problems.append(
                "provider_base_url is required when llm_provider is ollama: the URL of an Ollama "
                "server the function can reach (localhost would be the function itself)"
            )
        return problems


class BedrockText(ProviderSettings):
    provider: Literal["bedrock"] = Field(alias="llm_provider")
    model: str | None = Field(default=None, alias="text_model")
    region: str | None = Field(default=None, alias="bedrock_region")

    @property
    def key_parameter(self) -> None:
        return None

    @property
    def model_id(self) -> str:
        """The Bedrock model or cross-Region inference profile the story writer calls."""
        return self.model or default_model("bedrock", "text")

    @property
    def source_region(self) -> str:
        """The Region the story writer calls Bedrock in."""
        return self.region or DEFAULT_BEDROCK_REGION

    def environment(self) -> dict[str, str]:
        return {
            "LLM_PROVIDER": self.provider,
            "BEDROCK_TEXT_MODEL": self.model_id,
            "BEDROCK_REGION": self.source_region,
        }

    def problems(self, stage: str) -> list[str]:
        return blank_model_problems("text_model", self.model) + bedrock_model_problems(
            BedrockCall(
                model_setting="text_model",
                model=self.model_id,
                example="amazon.nova-pro-v1:0",
                region_setting="bedrock_region",
                region=self.region,
                source_region=self.source_region,
            )
        )


TextProvider = Annotated[
    OfflineText | OpenAIText | AnthropicText | OllamaText | BedrockText,
    Field(discriminator="provider"),
]
