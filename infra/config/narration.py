"""The narration provider: Amazon Polly, or eSpeak NG in the function (offline), each with the
function environment it needs (Polly needs no key: the function's role is granted it)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from infra.config.base import OfflineSettings, ProviderSettings
from kidstory.config.settings import PollyEngine


class OfflineNarration(OfflineSettings):
    provider: Literal["offline"] = Field(alias="narration_provider")

    def environment(self) -> dict[str, str]:
        return {"NARRATION_PROVIDER": self.provider}


class PollyNarration(ProviderSettings):
    provider: Literal["polly"] = Field(alias="narration_provider")
    engine: PollyEngine = Field(default="neural", alias="polly_engine")
    """Polly's engine: neural (the default) or standard, the engines that give word marks; the
    voice must offer it."""

    def environment(self) -> dict[str, str]:
        return {"NARRATION_PROVIDER": self.provider, "POLLY_ENGINE": self.engine}


NarrationProvider = Annotated[OfflineNarration | PollyNarration, Field(discriminator="provider")]
