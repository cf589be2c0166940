"""What a story request will cost before it is made: its units (the rate limits' currency) and
its price in US dollars, item by item (model fees by provider and model, and the
infrastructure), from the stage's price table (kidstory.config.prices) and stated assumptions
about what the models will be asked for. Nothing is made and nothing is charged."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from kidstory.access import request_cost
from kidstory.config.prices import (
    CHARACTERS,
    CLIP_SECONDS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    PICTURES,
)
from kidstory.config.settings import Settings
from kidstory.models import AgeGroup, StoryRequest
from kidstory.providers.offline_text import offline_pages

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
# Polly reads a page twice: for its audio, then for its words' timings (speech marks)
POLLY_REQUESTS_PER_PAGE = 2
SECONDS_PER_CLIP = 4.0  # kidstory.providers.base.MediaSpec.seconds
INFRASTRUCTURE_MODEL = "lambda, step functions, dynamodb, s3, api gateway, eventbridge"


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
    unit: str  # a unit of kidstory.config.prices.RATES, priced by the model's ModelPrice


def estimate(request: StoryRequest, settings: Settings) -> EstimateResponse:
    table = settings.price_table
    counts = _counts(request, settings)
    work = _model_work(request, settings, counts)
    breakdown = []
    for item in work:
        price = table.price(item.provider, item.model)
        rate = price.unit_price(item.unit) if price is not None else None
        breakdown.append(
            CostItem(
                kind=item.kind,
                provider=item.provider,
                model=item.model,
                quantity=item.quantity,
                unit=item.unit,
                unit_price_usd=rate,
                usd=None if rate is None else round(item.quantity * rate, 6),
            )
        )
    infrastructure = table.infrastructure(
        pictures=counts["pictures"], clips=counts["clips"], pages_read=counts["pages read"]
    )
    breakdown.append(
        CostItem(
            kind="infrastructure",
            provider="aws",
            model=INFRASTRUCTURE_MODEL,
            quantity=1,
            unit="story",
            unit_price_usd=infrastructure,
            usd=infrastructure,
        )
    )
    unpriced = [f"{item.provider}/{item.model}" for item in breakdown if item.usd is None]
    total = None if unpriced else round(sum(item.usd or 0 for item in breakdown), 6)
    pages = counts["pages"]
    assumptions = [
        f"the writer is asked for {pages} pages at most (ages "
        f"{request.age_group.value}), {TOKENS_PER_PAGE} tokens each, with "
        f"{PROMPT_TOKENS_PER_CALL} tokens of instructions per call",
        "one draft, which plans the scenes too; a draft the review sends back, or a plan "
        "asked for again when the draft's does not fit, costs another call, not counted here",
        f"{SECONDS_PER_CLIP:g} seconds per clip",
        f"{CHARACTERS_PER_PAGE[request.age_group]} characters read aloud per page (Polly "
        "bills them twice: for the audio and for the words' timings)",
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


def _counts(request: StoryRequest, settings: Settings) -> dict[str, int]:
    count = request.num_illustrations
    pictures = count if request.generate_images else 0
    clips = count if request.generate_videos else 0
    pages = (
        # the offline writer's stories have a known length
        offline_pages(request.age_group, max(pictures, clips))
        if settings.llm_provider == "offline"
        else MOST_PAGES[request.age_group]
    )
    return {
        "pictures": pictures,
        "clips": clips,
        "pages": pages,
        "pages read": pages if request.narration else 0,
    }


def _model_work(request: StoryRequest, settings: Settings, counts: dict[str, int]) -> list[_Work]:
    text_model = settings.text_model[1] if settings.text_model else "offline"
    pages = counts["pages"]
    scenes = max(counts["pictures"], counts["clips"])  # one plan serves pictures and clips
    work = [
        _Work(
            "text",
            settings.llm_provider,
            text_model,
            PROMPT_TOKENS_PER_CALL,
            INPUT_TOKENS,
        ),
        _Work(
            "text",
            settings.llm_provider,
            text_model,
            pages * TOKENS_PER_PAGE + scenes * TOKENS_PER_SCENE,
            OUTPUT_TOKENS,
        ),
    ]
    provider: str
    if counts["pictures"]:
        provider = settings.image_provider
        model = _media_model(settings, "image") or "offline"
        work.append(_Work("pictures", provider, model, counts["pictures"], PICTURES))
    if counts["clips"]:
        provider = settings.video_provider
        model = _media_model(settings, "video") or "offline"
        seconds = counts["clips"] * SECONDS_PER_CLIP
        work.append(_Work("clips", provider, model, seconds, CLIP_SECONDS))
    if counts["pages read"]:
        provider = settings.narration_provider
        model = settings.polly_engine if provider == "polly" else "espeak-ng"
        characters = counts["pages read"] * CHARACTERS_PER_PAGE[request.age_group]
        if provider == "polly":  # the audio and its word marks: two requests, each billed
            characters *= POLLY_REQUESTS_PER_PAGE
        work.append(_Work("narration", provider, model, characters, CHARACTERS))
    return work


def _media_model(settings: Settings, medium: str) -> str | None:
    return next((m for m, made in settings.media_models.values() if made == medium), None)
