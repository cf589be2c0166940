"""Settings: one validated model per process, read from the environment once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from kidstory.providers.models import ModelUnusable, check_usable, default_model

ProviderName = Literal["offline", "openai", "anthropic", "ollama", "bedrock"]
# Pictures and clips: only the offline provider so far.
MediaProviderName = Literal["offline"]


class SettingsError(RuntimeError):
    """The environment does not describe a usable configuration."""


class Settings(BaseModel):
    """Every setting of the service; each field is read from the upper-case environment variable."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=1, description="DynamoDB table of jobs, stories and assets")
    media_bucket: str = Field(min_length=1, description="S3 bucket holding images and videos")
    story_retention_days: int | None = Field(
        default=None, ge=1, description="Jobs and stories expire this long after they were made"
    )
    state_machine_arn: str | None = Field(default=None, description="StoryWorkflow ARN (API)")
    event_bus_name: str | None = Field(default=None, description="Bus for story events")
    media_base_url: str | None = Field(
        default=None,
        description="Public base URL of the media (CloudFront); unset: the API serves it",
    )
    api_key: str = Field(default="", description="Bearer key clients must send; empty: no auth")
    require_api_key: bool = Field(
        default=False, description="Refuse requests without a valid key even if API_KEY is empty"
    )
    rate_limit_per_minute: int = Field(
        default=100, ge=1, description="Cost units one caller may spend per minute"
    )
    daily_quota: int = Field(
        default=2000, ge=1, description="Cost units one caller may spend a day"
    )
    max_request_size_mb: float = Field(default=10, gt=0)
    cors_origins: str = Field(default="", description='Comma-separated origins, or "*"')
    llm_provider: ProviderName = "offline"
    image_provider: MediaProviderName = "offline"
    video_provider: MediaProviderName = "offline"
    openai_api_key: SecretStr | None = Field(default=None, description="Needed by openai")
    openai_base_url: str | None = Field(default=None, description="Gateway or proxy for OpenAI")
    openai_text_model: str = Field(default=default_model("openai", "text"), min_length=1)
    anthropic_api_key: SecretStr | None = Field(default=None, description="Needed by anthropic")
    anthropic_base_url: str | None = Field(default=None, description="Gateway for Anthropic")
    anthropic_text_model: str = Field(default=default_model("anthropic", "text"), min_length=1)
    ollama_base_url: str = Field(default="http://localhost:11434", min_length=1)
    ollama_text_model: str = Field(default=default_model("ollama", "text"), min_length=1)
    bedrock_text_model: str = Field(default=default_model("bedrock", "text"), min_length=1)
    bedrock_region: str = Field(
        default="us-east-1", min_length=1, description="Region of Bedrock runtime calls"
    )
    provider_timeout_seconds: float = Field(
        default=60, gt=0, description="Longest wait for one answer from a provider"
    )
    provider_repair_attempts: int = Field(
        default=1, ge=0, le=2, description="Times an unusable model answer is asked for again"
    )
    webhook_allow_private_targets: bool = Field(
        default=False, description="Deliver webhooks to private addresses (local runs only)"
    )
    webhook_retry_delays: str = Field(
        default="60,300,1800,7200,21600",
        pattern=r"^\d+(,\d+)*$",
        description="Seconds before each next webhook try (SQS allows up to 43200)",
    )
    video_max_checks: int = Field(default=60, ge=1)
    offline_text_seconds: float = Field(default=0, ge=0, description="Simulated story latency")
    offline_image_seconds: float = Field(default=0, ge=0, description="Simulated image latency")
    offline_video_seconds: float = Field(default=0, ge=0, description="Simulated video latency")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        names = {name.upper(): name for name in cls.model_fields}
        values = {names[key]: value for key, value in environ.items() if key in names}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = "; ".join(
                f"{str(issue['loc'][0]).upper()}: {issue['msg']}" for issue in error.errors()
            )
            raise SettingsError(f"invalid configuration: {problems}") from None

    def require_state_machine_arn(self) -> str:
        if not self.state_machine_arn:
            raise SettingsError("invalid configuration: STATE_MACHINE_ARN: Field required")
        return self.state_machine_arn

    def webhook_retry_delay(self, tries_so_far: int) -> int:
        delays = [int(delay) for delay in self.webhook_retry_delays.split(",")]
        return min(delays[min(max(tries_so_far, 1), len(delays)) - 1], 43_200)

    def require_event_bus_name(self) -> str:
        if not self.event_bus_name:
            raise SettingsError("invalid configuration: EVENT_BUS_NAME: Field required")
        return self.event_bus_name

    @property
    def auth_required(self) -> bool:
        return bool(self.api_key) or self.require_api_key

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_size_mb * 1024 * 1024)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def text_model(self) -> tuple[str, str] | None:
        """The story writer's model: (the variable that sets it, its id); None when offline."""
        models = {
            "openai": self.openai_text_model,
            "anthropic": self.anthropic_text_model,
            "ollama": self.ollama_text_model,
            "bedrock": self.bedrock_text_model,
        }
        if self.llm_provider not in models:
            return None
        return f"{self.llm_provider.upper()}_TEXT_MODEL", models[self.llm_provider]

    @property
    def configured_models(self) -> dict[str, str]:
        """Every model id in use, by the variable that sets it."""
        return dict([self.text_model]) if self.text_model else {}

    @model_validator(mode="after")
    def _text_provider_is_usable(self) -> Settings:
        """The chosen text provider has its key, and its model is not retired."""
        keys = {"openai": self.openai_api_key, "anthropic": self.anthropic_api_key}
        if self.llm_provider in keys:
            key = keys[self.llm_provider]
            if key is None or not key.get_secret_value().strip():
                variable = f"{self.llm_provider.upper()}_API_KEY"
                raise SettingsError(
                    f"invalid configuration: {variable}: "
                    f"required when LLM_PROVIDER={self.llm_provider} "
                    f"(or {variable}_PARAMETER, the SSM parameter holding it)"
                )
        if self.text_model:
            variable, model_id = self.text_model
            try:
                check_usable(model_id, "text", datetime.now(UTC).date())
            except ModelUnusable as problem:
                raise SettingsError(f"invalid configuration: {variable}: {problem}") from None
        return self


@cache
def get_settings() -> Settings:
    """The process's settings, read at first use (a Lambda cold start) and kept. A provider key
    kept in SSM (`OPENAI_API_KEY_PARAMETER`, ...) is read into them here."""
    from kidstory.provider_secrets import with_provider_keys

    return Settings.from_environ(with_provider_keys(os.environ))
