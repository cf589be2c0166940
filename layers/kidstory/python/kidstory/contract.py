"""The public HTTP contract: response bodies of the API, field for field as the seed defined them
(extra fields are additions, never changes)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

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
