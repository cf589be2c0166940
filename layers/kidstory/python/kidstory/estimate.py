"""What a story request will cost before it is made: its units (the rate limits' currency) and
its price in US dollars, item by item (model fees by provider and model, and the
infrastructure), from the stage's price table (kidstory.config.prices) and stated assumptions
about what the models will be asked for. Nothing is made and nothing is charged."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from kidstory.access import request_cost
from kidstory.config.prices import ModelPrice
from kidstory.config.settings import Settings
from kidstory.models import AgeGroup, StoryRequest

# What a story asks of the models, for an estimate (docs/cost.md): the writer's draft (which
# plans the scenes of the pictures and clips too), the most pages the age group's stories have,
# and this many tokens and characters. A review that sends the draft back adds a draft, and a
# plan that does not fit a plan of its own (not counted).
PROMPT_TOKENS_PER_CALL = 1_500
TOKENS_PER_PAGE = 90  # the page's words and the JSON around them
TOKENS_PER_SCENE = 80
MOST_PAGES = {AgeGroup.PRESCHOOL: 10, AgeGroup.EARLY_READER: 12, AgeGroup.MIDDLE_GRADE: 14}
CHARACTERS_PER_PAGE = {
    AgeGroup.PRESCHOOL: 160,
    AgeGroup.EARLY_READER: 260,
    AgeGroup.MIDDLE_GRADE: 520,
}
CLIP_SECONDS = 4.0  # kidstory.providers.base.MediaSpec.seconds


class CostItem(BaseModel):
    kind: str = Field(description="text, pictures, clips, narration or infrastructure")
    provider: str
    model: str
    quantity: float
    unit: str
    unit_price_usd: float | None = Field(description="null: the stage has no price for it")
    usd: float | None


class EstimateResponse(BaseModel):
    units: int = Field(description="What the request costs against the caller's limits")
    estimated_cost_usd: float | None = Field(
        description="The breakdown's total; null when an item has no price in the stage's table"
    )
    breakdown: list[CostItem]
    assumptions: list[str]


@dataclass(frozen=True)
class _Work:
    kind: str
    provider: str
    model: str
    quantity: float
    unit: str
    rate: str  # the ModelPrice field that prices one `unit`
    per: float = 1.0  # `unit`s per priced quantity (1e6 for per-million prices)


def estimate(request: StoryRequest, settings: Settings) -> EstimateResponse:
    table = settings.price_table
    counts = _counts(request)
    work = _model_work(request, settings, counts)
    breakdown = []
    for item in work:
        price = table.price(item.provider, item.model)
        rate = _rate(price, item.rate)
        breakdown.append(
            CostItem(
                kind=item.kind,
                provider=item.provider,
                model=item.model,
                quantity=item.quantity,
                unit=item.unit,
                unit_price_usd=None if rate is None else rate / item.per,
                usd=None if rate is None else round(item.quantity * rate / item.per, 6),
            )
        )
    infrastructure = round(
        table.infrastructure_per_story
        + counts["pictures"] * table.infrastructure_per_picture
        + counts["clips"] * table.infrastructure_per_clip
        + counts["pages read"] * table.infrastructure_per_page_read,
        6,
    )
    breakdown.append(
        CostItem(
            kind="infrastructure",
            provider="aws",
            model="lambda, step functions, dynamodb, s3, api gateway, eventbridge",
            quantity=1,
            unit="story",
            unit_price_usd=infrastructure,
            usd=infrastructure,
        )
    )
    unpriced = [f"{item.provider}/{item.model}" for item in breakdown if item.usd is None]
    total = None if unpriced else round(sum(item.usd or 0 for item in breakdown), 6)
    assumptions = [
        f"the writer is asked for {MOST_PAGES[request.age_group]} pages at most (ages "
        f"{request.age_group.value}), {TOKENS_PER_PAGE} tokens each, with "
        f"{PROMPT_TOKENS_PER_CALL} tokens of instructions per call",
        "one draft, which plans the scenes too; a draft the review sends back, or a plan "
        "asked for again when the draft's does not fit, costs another call, not counted here",
        f"{CLIP_SECONDS:g} seconds per clip",
        f"{CHARACTERS_PER_PAGE[request.age_group]} characters read aloud per page",
        "infrastructure at the stage's measured cost per story (docs/cost.md)",
    ]
    if unpriced:
        assumptions.append(
            "no price in the stage's table for "
            + ", ".join(sorted(set(unpriced)))
            + ": set PRICES (docs/cost.md)"
        )
    return EstimateResponse(
        units=request_cost(request),
        estimated_cost_usd=total,
        breakdown=breakdown,
        assumptions=assumptions,
    )


def _counts(request: StoryRequest) -> dict[str, int]:
    count = request.num_illustrations
    return {
        "pictures": count if request.generate_images else 0,
        "clips": count if request.generate_videos else 0,
        "pages read": MOST_PAGES[request.age_group] if request.narration else 0,
    }


def _model_work(request: StoryRequest, settings: Settings, counts: dict[str, int]) -> list[_Work]:
    text_model = settings.text_model[1] if settings.text_model else "offline"
    pages = MOST_PAGES[request.age_group]
    scenes = max(counts["pictures"], counts["clips"])  # one plan serves pictures and clips
    work = [
        _Work(
            "text",
            settings.llm_provider,
            text_model,
            PROMPT_TOKENS_PER_CALL,
            "input tokens",
            "input_per_million_tokens",
            1e6,
        ),
        _Work(
            "text",
            settings.llm_provider,
            text_model,
            pages * TOKENS_PER_PAGE + scenes * TOKENS_PER_SCENE,
            "output tokens",
            "output_per_million_tokens",
            1e6,
        ),
    ]
    provider: str
    if counts["pictures"]:
        provider = settings.image_provider
        model = _media_model(settings, "image") or "offline"
        work.append(
            _Work("pictures", provider, model, counts["pictures"], "pictures", "per_picture")
        )
    if counts["clips"]:
        provider = settings.video_provider
        model = _media_model(settings, "video") or "offline"
        seconds = counts["clips"] * CLIP_SECONDS
        work.append(_Work("clips", provider, model, seconds, "clip seconds", "per_clip_second"))
    if counts["pages read"]:
        provider = settings.narration_provider
        model = settings.polly_engine if provider == "polly" else "espeak-ng"
        characters = counts["pages read"] * CHARACTERS_PER_PAGE[request.age_group]
        work.append(
            _Work(
                "narration",
                provider,
                model,
                characters,
                "characters",
                "per_million_characters",
                1e6,
            )
        )
    return work


def _media_model(settings: Settings, medium: str) -> str | None:
    return next((m for m, made in settings.media_models.values() if made == medium), None)


def _rate(price: ModelPrice | None, field: str) -> float | None:
    if price is None:
        return None
    value: float | None = getattr(price, field)
    return value
