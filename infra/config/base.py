"""The base of every provider's settings: validated from cdk.json's flat keys (the aliases),
unknown keys refused, and the provider's own checks run with the stage's name at hand."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator


class ProviderSettings(BaseModel):
    """One provider's settings. A key of another provider of the same kind is refused by the
    model itself (`extra="forbid"`): it does not apply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="after")
    def _checked(self, info: ValidationInfo) -> Self:
        problems = self.problems(str((info.context or {}).get("stage", "dev")))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def problems(self, stage: str) -> list[str]:
        """What is wrong with these settings for `stage` (parameter names are shown under it)."""
        return []


class OfflineSettings(ProviderSettings):
    """An offline provider: the other providers' keys are ignored, so `-c <kind>=offline`
    switches any stage to offline output."""

    model_config = ConfigDict(frozen=True, extra="ignore")
