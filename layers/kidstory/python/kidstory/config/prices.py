"""Prices: what a provider's work costs in US dollars, by provider and model, and what the
infrastructure costs per story (docs/cost.md). A stage gives its own with PRICES (JSON), merged
over these: a model given there replaces the entry of the same name.

Only prices that are published and stable are built in: the offline providers (nothing) and
Amazon Polly. Model prices change often and differ by contract, so every other model is priced by
the stage; a model with no price is said to have none (the estimate's total is then unknown, and
a cost cap cannot be checked against it), never guessed."""

from __future__ import annotations

import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kidstory.config.errors import SettingsError

# The units a provider's work is counted in (kidstory.usage), each priced by a ModelPrice field
# per so many of it.
INPUT_TOKENS = "input tokens"
OUTPUT_TOKENS = "output tokens"
PICTURES = "pictures"
CLIP_SECONDS = "clip seconds"
CHARACTERS = "characters"
RATES: dict[str, tuple[str, float]] = {
    INPUT_TOKENS: ("input_per_million_tokens", 1e6),
    OUTPUT_TOKENS: ("output_per_million_tokens", 1e6),
    PICTURES: ("per_picture", 1.0),
    CLIP_SECONDS: ("per_clip_second", 1.0),
    CHARACTERS: ("per_million_characters", 1e6),
}


class ModelPrice(BaseModel):
    """What one model's work costs; the units that do not apply to it stay unset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input_per_million_tokens: float | None = Field(default=None, ge=0)
    output_per_million_tokens: float | None = Field(default=None, ge=0)
    per_picture: float | None = Field(default=None, ge=0)
    per_clip_second: float | None = Field(default=None, ge=0)
    per_million_characters: float | None = Field(default=None, ge=0)

    def unit_price(self, unit: str) -> float | None:
        """US dollars for one `unit` (one token, one picture...); None: no price for it."""
        if unit not in RATES:
            return None
        field, per = RATES[unit]
        rate: float | None = getattr(self, field)
        return None if rate is None else rate / per


FREE = ModelPrice(
    input_per_million_tokens=0,
    output_per_million_tokens=0,
    per_picture=0,
    per_clip_second=0,
    per_million_characters=0,
)


class PriceTable(BaseModel):
    """Prices by `<provider>/<model>` (`<provider>/*` for all of a provider's models), and the
    infrastructure's own cost, as `make bench` measures it for an offline story."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    models: dict[str, ModelPrice] = Field(default_factory=dict)
    infrastructure_per_story: float = Field(default=0.0, ge=0)
    infrastructure_per_picture: float = Field(default=0.0, ge=0)
    infrastructure_per_clip: float = Field(default=0.0, ge=0)
    infrastructure_per_page_read: float = Field(default=0.0, ge=0)

    def price(self, provider: str, model: str) -> ModelPrice | None:
        """The price of `model` of `provider`, or of all the provider's models; None if unset."""
        return self.models.get(f"{provider}/{model}") or self.models.get(f"{provider}/*")

    def infrastructure(self, *, pictures: int, clips: int, pages_read: int) -> float:
        """The infrastructure's cost of a story with this much media made."""
        return round(
            self.infrastructure_per_story
            + pictures * self.infrastructure_per_picture
            + clips * self.infrastructure_per_clip
            + pages_read * self.infrastructure_per_page_read,
            6,
        )

    def merged(self, given: str | None) -> PriceTable:
        """These prices with a stage's (PRICES, JSON in this model's shape) over them."""
        if not given:
            return self
        try:
            override = json.loads(given)
            if not isinstance(override, dict):
                raise ValueError("not a JSON object")
            models = {**self.models, **override.pop("models", {})}
            return PriceTable.model_validate(
                self.model_dump(exclude={"models"}) | override | {"models": models}
            )
        except (ValueError, ValidationError) as error:
            raise SettingsError(f"invalid configuration: PRICES: {error}") from None


# Amazon Polly, us-east-1 list prices (aws.amazon.com/polly/pricing): neural $16.00 and standard
# $4.00 per million characters. The infrastructure figures are what `make bench` counted for a
# 3-picture story at 8 s a text call and 12 s a picture (docs/cost.md): $0.00090 in all, of which
# about $0.00012 a picture (its function waiting on the provider, its transition and its
# writes) and $0.00006 a page read aloud; a clip is taken at a picture's figure until measured.
DEFAULT_PRICES = PriceTable(
    models={
        "offline/*": FREE,
        "polly/neural": ModelPrice(per_million_characters=16.0),
        "polly/standard": ModelPrice(per_million_characters=4.0),
    },
    infrastructure_per_story=0.00054,
    infrastructure_per_picture=0.00012,
    infrastructure_per_clip=0.00012,
    infrastructure_per_page_read=0.00006,
)
