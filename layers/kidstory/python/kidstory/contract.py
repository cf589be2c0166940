"""The public HTTP contract: response bodies of the API, field for field as the seed defined them
(extra fields are additions, never changes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from kidstory.job_cost import JobCost
from kidstory.models import AgeGroup, Character, JobStatus, Progress, Readability, WordTiming

OFFLINE_NOTICE = (
    "Offline output: written and drawn by the built-in offline provider, not by an AI model."
)


class GenerateResponse(BaseModel):
    job_id: str
    status: JobStatus
    message: str


class WebhookDelivery(BaseModel):
    """How delivering the job's webhook notice went (present when the job has a webhook)."""

    url: str
    delivered: bool
    attempts: int
    last_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None


class JobStatusResponse(BaseModel):
    job_id: str
    status: JobStatus
    story_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    progress: Progress = Field(
        description="Stage, and pictures and clips done of the total, for a progress bar"
    )
    webhook: WebhookDelivery | None = None
    cost: JobCost | None = Field(
        default=None,
        description="What the job cost, from its ledger, once it has ended (null while it "
        "runs, and for a job whose workflow never ran); docs/cost.md",
    )


class WebhookSecretResponse(BaseModel):
    secret: str = Field(description="whsec_...: verify webhook-signature with it")
    previous_secret_valid_until: datetime | None = Field(
        default=None, description="After a rotation, notices are signed with both until then"
    )


class ImageOut(BaseModel):
    id: str
    image_url: str
    prompt_used: str
    scene_description: str
    display_order: int


class VideoOut(BaseModel):
    id: str
    video_url: str
    prompt_used: str
    scene_description: str
    display_order: int


class NarratedPage(BaseModel):
    page: int = Field(description="1-based: the story's pages[page - 1]")
    audio_url: str = Field(description="MP3 of the page read aloud (a signed link)")
    duration_ms: int
    words: list[WordTiming] = Field(
        description="Every word of the page, in order, with when it is spoken and where it "
        "stands in the page's text (char offsets count Unicode code points)"
    )


class NarrationOut(BaseModel):
    voice: str | None = Field(description="The voice that read the story")
    offline: bool = Field(description="True when read by the offline narrator (eSpeak NG)")
    pages: list[NarratedPage] = Field(description="One per page read so far (all, once complete)")


class RelatedStory(BaseModel):
    """A story made from another: a sequel, or a version in another language or level."""

    id: str
    title: str
    relation: Literal["sequel", "version"]
    language: str
    age_group: AgeGroup
    created_at: datetime


class StoryResponse(BaseModel):
    id: str
    title: str
    content: str
    age_group: AgeGroup
    prompt: str
    created_at: datetime
    images: list[ImageOut]
    videos: list[VideoOut]
    job_id: str
    pages: list[str] = Field(description="The story split into pages")
    character: Character = Field(description="The hero, as drawn on every page")
    readability: Readability | None = Field(
        default=None, description="Reading level of the text, against the age group's band"
    )
    offline: bool = Field(description="True when made by the offline provider")
    notice: str | None = Field(default=None, description="Says so when the output is offline")
    narration: NarrationOut | None = Field(
        default=None, description="The story read aloud, for read-along; null when not asked for"
    )
    complete: bool = Field(
        default=True,
        description="False for a story read with ?partial=true while its pictures and clips "
        "are still being made: those listed are the ones made so far",
    )
    language: str = Field(default="en", description="BCP 47 tag of the story's language")
    series_id: str | None = Field(
        default=None, description="Shared by a story and its sequels (null: not in a series)"
    )
    parent_id: str | None = Field(
        default=None, description="The story this one is a sequel or a version of"
    )
    sequels: list[RelatedStory] = Field(
        default_factory=list, description="The completed sequels of this story"
    )
    versions: list[RelatedStory] = Field(
        default_factory=list,
        description="The completed versions of this story in other languages or at other levels",
    )
    page_versions: list[int] = Field(
        default_factory=list,
        description="The current version of each page (1: as first written; more after a "
        "regeneration or an edit)",
    )


class PageVersion(BaseModel):
    """One version of a page: its text, and its picture and narration as they were then."""

    version: int = Field(ge=1)
    current: bool
    change: Literal["written", "regenerated", "edited"]
    job_id: str = Field(description="The job that made this version")
    created_at: datetime
    text: str
    image: ImageOut | None = None
    narration: NarratedPage | None = None


class PageVersionsResponse(BaseModel):
    story_id: str
    page: int = Field(description="1-based")
    current_version: int
    versions: list[PageVersion] = Field(description="Oldest first, the current one included")


class StorySummary(BaseModel):
    id: str
    title: str
    age_group: AgeGroup
    prompt: str
    created_at: datetime
    num_images: int


class StoryListResponse(BaseModel):
    stories: list[StorySummary]
    total: int


class HealthResponse(BaseModel):
    status: str
    version: str


class ErrorResponse(BaseModel):
    detail: str


class MonthSpendResponse(BaseModel):
    """GET /api/v1/usage: what the caller's jobs cost this calendar month (UTC)."""

    month: str = Field(description="YYYY-MM, UTC")
    usd: float = Field(description="The cost of the jobs that ended this month, in US dollars")
    units: int = Field(description="Their units (what they counted against your limits)")
    jobs: int = Field(description="Jobs that ended this month")
    unpriced_jobs: int = Field(
        description="Of those, jobs with work the price table has no price for (not in usd)"
    )
