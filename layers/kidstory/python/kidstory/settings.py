"""Settings: one validated model per process, read from the environment once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ProviderName = Literal["offline"]


class SettingsError(RuntimeError):
    """The environment does not describe a usable configuration."""


class Settings(BaseModel):
    """Every setting of the service; each field is read from the upper-case environment variable."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=1, description="DynamoDB table of jobs, stories and assets")
    media_bucket: str = Field(min_length=1, description="S3 bucket holding images and videos")
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
    image_provider: ProviderName = "offline"
    video_provider: ProviderName = "offline"
    webhook_allow_private_targets: bool = Field(
        default=False, description="Deliver webhooks to private addresses (local runs only)"
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

    @property
    def auth_required(self) -> bool:
        return bool(self.api_key) or self.require_api_key

    @property
    def max_request_bytes(self) -> int:
        return int(self.max_request_size_mb * 1024 * 1024)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]


@cache
def get_settings() -> Settings:
    """The process's settings, read at first use (a Lambda cold start) and kept."""
    return Settings.from_environ(os.environ)
