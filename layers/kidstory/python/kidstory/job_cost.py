"""What a job cost, as its caller sees it (the job's response, its webhook notice and its
event): US dollars in all, and items by provider, model and unit (docs/cost.md)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class JobCostItem(BaseModel):
    kind: str = Field(description="text, pictures, clips, narration or infrastructure")
    provider: str
    model: str
    unit: str = Field(
        description="input tokens, output tokens, pictures, clip seconds, characters, "
        "failed calls (a call that failed, such as a throttled one: not billed) or story"
    )
    quantity: float
    usd: float | None = Field(description="null: the stage's price table has no price for it")
    calls: int = Field(description="Provider calls counted in this item")
    retries: int = Field(
        description="Of those, calls that asked again for what was already asked: a step tried "
        "again after a failure, a repaired answer, a revised draft, a redrawn picture"
    )


class JobCost(BaseModel):
    usd: float | None = Field(
        description="The items' total in US dollars; null when an item has no price"
    )
    items: list[JobCostItem]
