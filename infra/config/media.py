"""The picture and clip providers: one settings model per provider, each with the function
environment it needs (never a key)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from infra.config.base import OfflineSettings, ProviderSettings
from infra.config.checks import (
    BedrockCall,
    bedrock_model_problems,
    blank_model_problems,
    required_key_problems,
)
from kidstory.config.models import default_model
from kidstory.config.settings import DEFAULT_BEDROCK_MEDIA_REGION


class OfflineImages(OfflineSettings):
    provider: Literal["offline"] = Field(alias="image_provider")

    @property
    def key_parameter(self) -> None:
        return None

    def environment(self, openai_gateway: str | None = None) -> dict[str, str]:
        return {"IMAGE_PROVIDER": self.provider}


class OpenAIImages(ProviderSettings):
    provider: Literal["openai"] = Field(alias="image_provider")
    model: str | None = Field(default=None, alias="image_model")
    key_parameter: str | None = Field(default=None, alias="image_key_parameter")
    """Name of the SSM SecureString parameter holding the OpenAI API key for pictures."""

    def environment(self, openai_gateway: str | None = None) -> dict[str, str]:
        """`openai_gateway`: where every OpenAI call of the stage goes."""
        environment: dict[str, str] = {"IMAGE_PROVIDER": self.provider}
        if self.model:
            environment["OPENAI_IMAGE_MODEL"] = self.model
        if self.key_parameter:
            environment["OPENAI_API_KEY_PARAMETER"] = self.key_parameter
        if openai_gateway:
            environment["OPENAI_BASE_URL"] = openai_gateway
        return environment

    def problems(self, stage: str) -> list[str]:
        return blank_model_problems("image_model", self.model) + required_key_problems(
            "image_key_parameter",
            self.key_parameter,
            "image_provider is openai",
            f"/kidstory/{stage}/openai-api-key",
        )


class BedrockImages(ProviderSettings):
    provider: Literal["bedrock"] = Field(alias="image_provider")
    model: str | None = Field(default=None, alias="image_model")
    region: str | None = Field(default=None, alias="image_region")

    @property
    def key_parameter(self) -> None:
        return None

    @property
    def model_id(self) -> str:
        """The Bedrock picture model (or inference profile) the picture function calls."""
        return self.model or default_model("bedrock", "image")

    @property
    def source_region(self) -> str:
        return self.region or DEFAULT_BEDROCK_MEDIA_REGION

    def environment(self, openai_gateway: str | None = None) -> dict[str, str]:
        return {
            "IMAGE_PROVIDER": self.provider,
            "BEDROCK_IMAGE_MODEL": self.model_id,
            "BEDROCK_IMAGE_REGION": self.source_region,
        }

    def problems(self, stage: str) -> list[str]:
        return blank_model_problems("image_model", self.model) + bedrock_model_problems(
            BedrockCall(
                model_setting="image_model",
                model=self.model_id,
                example=default_model("bedrock", "image"),
                region_setting="image_region",
                region=self.region,
                source_region=self.source_region,
                family=("stability.", "Stability AI Stable Image"),
            )
        )


class OfflineVideo(OfflineSettings):
    provider: Literal["offline"] = Field(alias="video_provider")

    def environment(self) -> dict[str, str]:
        return {"VIDEO_PROVIDER": self.provider}


class BedrockVideo(ProviderSettings):
    provider: Literal["bedrock"] = Field(alias="video_provider")
    model: str | None = Field(default=None, alias="video_model")
    region: str | None = Field(default=None, alias="video_region")

    @property
    def model_id(self) -> str:
        """The Bedrock clip model (or inference profile) the clip functions call."""
        return self.model or default_model("bedrock", "video")

    @property
    def source_region(self) -> str:
        return self.region or DEFAULT_BEDROCK_MEDIA_REGION

    def environment(self) -> dict[str, str]:
        return {
            "VIDEO_PROVIDER": self.provider,
            "BEDROCK_VIDEO_MODEL": self.model_id,
            "BEDROCK_VIDEO_REGION": self.source_region,
        }

    def problems(self, stage: str) -> list[str]:
        return blank_model_problems("video_model", self.model) + bedrock_model_problems(
            BedrockCall(
                model_setting="video_model",
                model=self.model_id,
                example=default_model("bedrock", "video"),
                region_setting="video_region",
                region=self.region,
                source_region=self.source_region,
                family=("luma.", "Luma AI Ray"),
            )
        )


# kidstory also knows "openai" for clips, only to refuse it by name: it is not deployable.
ImageProvider = Annotated[
    OfflineImages | OpenAIImages | BedrockImages, Field(discriminator="provider")
]
VideoProvider = Annotated[OfflineVideo | BedrockVideo, Field(discriminator="provider")]
