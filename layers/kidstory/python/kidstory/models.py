"""Domain models: what a story job, a story and its illustrations and videos are."""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import uuid4

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, UrlConstraints

from kidstory.job_cost import JobCost


def utc_now() -> datetime:
    return datetime.now(UTC)


# Our ids are 36-character UUIDs (API key ids are 12 characters). Anything longer in a path or
# a token names nothing we stored, and may exceed DynamoDB's key limits (2048 bytes for a
# partition key, 1024 for a sort key): it is answered "not found" without a lookup.
ID_MAX_LENGTH = 128


def new_id() -> str:
    return str(uuid4())


def could_be_id(value: str) -> bool:
    """False for a value that cannot be one of our ids (too long to be stored as a key)."""
    return 0 < len(value) <= ID_MAX_LENGTH


class AgeGroup(StrEnum):
    PRESCHOOL = "3-5"
    EARLY_READER = "6-8"
    MIDDLE_GRADE = "9-12"


class JobStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"

    @property
    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


class AssetKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"  # a page read aloud (narration)


class AssetStatus(StrEnum):
    PENDING = "pending"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"


# Characters that show nothing: spaces, controls, format characters (zero-width space and joiners,
# direction marks), combining marks on their own, and the letters and symbols fonts draw empty.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cn", "Co", "Cs", "Mn", "Me"})
_EMPTY_GLYPHS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(character: str) -> bool:
    return (
        unicodedata.category(character) not in _INVISIBLE_CATEGORIES
        and character not in _EMPTY_GLYPHS
    )


def _not_blank(value: str) -> str:
    if not any(_visible(character) for character in value):
        raise ValueError("must not be blank (it has no visible characters)")
    return value.strip()


def picture_page(index: int, count: int, pages: int) -> int:
    """The page (0-based) that picture or clip `index` of `count` goes with: spread evenly from
    the first page to the last, halves rounded up (as the web reader places them)."""
    return 0 if count <= 1 else math.floor(index * (pages - 1) / (count - 1) + 0.5)


MAX_ILLUSTRATIONS = 10
MAX_WEBHOOK_URL_LENGTH = 2048

# A BCP 47 language tag, as far as its form goes: a 2-3 letter language, then subtags
# (script, region, variant) of 1-8 letters or digits. Stored lower-cased language, as given after.
LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
# Languages written right to left (by their primary subtag): the reader and the books set
# dir="rtl" for them.
RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "sd", "ckb", "dv", "ug"})


def _language_tag(value: str) -> str:
    primary, _, rest = value.partition("-")
    return primary.lower() + (f"-{rest}" if rest else "")


def writes_right_to_left(language: str) -> bool:
    return language.partition("-")[0].lower() in RIGHT_TO_LEFT


LanguageTag = Annotated[
    str, Field(min_length=2, max_length=35, pattern=LANGUAGE_TAG), AfterValidator(_language_tag)
]


class StoryRequest(BaseModel):
    """What a client asks for (the body of POST /api/v1/stories/generate)."""

    model_config = ConfigDict(extra="ignore")

    prompt: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_not_blank)] = (
        Field(description="Story prompt or idea")
    )
    age_group: AgeGroup = Field(description='One of "3-5", "6-8", "9-12"')
    num_illustrations: int = Field(
        ge=1, le=MAX_ILLUSTRATIONS, description="Number of images/videos to generate (1-10)"
    )
    generate_images: bool = Field(default=True, description="Enable image generation")
    generate_videos: bool = Field(default=False, description="Enable video generation")
    webhook_url: Annotated[AnyHttpUrl, UrlConstraints(max_length=MAX_WEBHOOK_URL_LENGTH)] | None = (
        Field(default=None, description="URL to receive a completion notification")
    )
    narration: bool = Field(
        default=False,
        description="Read every page aloud: an MP3 per page with each word's timing, for "
        "read-along (the reader and the EPUB's media overlays)",
    )
    max_cost_usd: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="Refuse the request (422) when its estimate is more than this, in US "
        "dollars; during the run, no repair, revised draft or redraw that would pass it is made",
    )
    voice: (
        Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+-]+$")] | None
    ) = Field(
        default=None,
        description="The narration's voice (a Polly voice id, or an eSpeak NG voice "
        "offline); unset: the provider's voice for the story's language",
    )
    language: LanguageTag = Field(
        default="en",
        description='The story\'s language, a BCP 47 tag ("en", "es", "pt-BR", "ar"): '
        "the writer writes in it, moderation and narration follow it",
    )


WebhookUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=MAX_WEBHOOK_URL_LENGTH)]
Instructions = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(_not_blank)]
PageText = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_not_blank)]


class RegeneratePageRequest(BaseModel):
    """POST /api/v1/stories/{id}/pages/{n}/regenerate: redo one page's picture and/or text."""

    model_config = ConfigDict(extra="ignore")

    picture: bool = Field(default=True, description="Redraw the page's picture (same hero, style)")
    text: bool = Field(default=False, description="Rewrite the page's text to fit its neighbours")
    instructions: Instructions | None = Field(
        default=None, description="What to change (moderated like an idea)"
    )
    webhook_url: WebhookUrl | None = None


class EditPageRequest(BaseModel):
    """PATCH /api/v1/stories/{id}/pages/{n}: the owner's own text for one page."""

    model_config = ConfigDict(extra="ignore")

    text: PageText = Field(description="The page's new text (moderated, its readability measured)")
    webhook_url: WebhookUrl | None = None


class SequelRequest(BaseModel):
    """POST /api/v1/stories/{id}/sequel: the next story with the same hero and art style. Every
    field but the prompt defaults to the parent story's request."""

    model_config = ConfigDict(extra="ignore")

    prompt: Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_not_blank)] = (
        Field(description="What happens in the sequel")
    )
    age_group: AgeGroup | None = None
    num_illustrations: int | None = Field(default=None, ge=1, le=MAX_ILLUSTRATIONS)
    generate_images: bool | None = None
    generate_videos: bool | None = None
    narration: bool | None = None
    voice: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+-]+$"
    )
    language: LanguageTag | None = None
    webhook_url: WebhookUrl | None = None
    max_cost_usd: float | None = Field(default=None, gt=0, le=1000)


class VersionRequest(BaseModel):
    """POST /api/v1/stories/{id}/versions: the same story in another language and/or at another
    reading level, with the parent's pictures and clips."""

    model_config = ConfigDict(extra="ignore")

    language: LanguageTag | None = None
    age_group: AgeGroup | None = None
    narration: bool | None = Field(default=None, description="Unset: as the parent")
    voice: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+-]+$"
    )
    webhook_url: WebhookUrl | None = None
    max_cost_usd: float | None = Field(default=None, gt=0, le=1000)


ANONYMOUS = "anonymous"


class Stage(StrEnum):
    """Where a job is, for progress bars."""

    QUEUED = "queued"
    WRITING = "writing"
    ILLUSTRATING = "illustrating"
    ASSEMBLING = "assembling"
    DONE = "done"


class Progress(BaseModel):
    stage: Stage = Stage.QUEUED
    images_done: int = 0
    images_total: int = 0
    videos_done: int = 0
    videos_total: int = 0
    narration_done: int = Field(default=0, description="Pages read aloud so far")
    narration_total: int = Field(default=0, description="Pages to read aloud (0: not narrated)")


class JobKind(StrEnum):
    """What a job makes: a new story (generate), a story made from another (a sequel, or a
    version in another language or at another reading level), or a change to one page of an
    existing story (regenerated by the providers, or edited by its owner)."""

    STORY = "story"
    SEQUEL = "sequel"
    VERSION = "version"
    REGENERATE_PAGE = "regenerate_page"
    EDIT_PAGE = "edit_page"

    @property
    def makes_new_story(self) -> bool:
        return self in (JobKind.STORY, JobKind.SEQUEL, JobKind.VERSION)

    @property
    def changes_page(self) -> bool:
        """A change to one page of an existing story (kidstory.steps.page_changes)."""
        return self in (JobKind.REGENERATE_PAGE, JobKind.EDIT_PAGE)


class JobOrigin(BaseModel):
    """The story a job starts from (every kind but STORY), and what it changes there."""

    story_id: str = Field(description="The parent story (sequel, version) or the story changed")
    page: int | None = Field(default=None, ge=1, description="Page jobs: the page (1-based)")
    picture: bool = Field(default=False, description="Regenerate: redraw the page's picture")
    text: bool = Field(default=False, description="Regenerate: rewrite the page's text")
    instructions: str | None = Field(default=None, description="Regenerate: what to change")
    new_text: str | None = Field(default=None, description="Edit: the page's text as given")


class Job(BaseModel):
    job_id: str = Field(default_factory=new_id)
    status: JobStatus = JobStatus.PENDING
    kind: JobKind = JobKind.STORY
    origin: JobOrigin | None = Field(default=None, description="None for a new story (generate)")
    request: StoryRequest
    owner: str = Field(default=ANONYMOUS, description="The API key (id) that asked for it")
    story_id: str | None = None
    error: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    updated_at: datetime = Field(default_factory=utc_now)
    webhook_attempts: list[dict[str, Any]] = Field(
        default_factory=list, description="Each try to deliver the job's webhook notice"
    )
    progress: Progress = Field(default_factory=Progress)
    cost: JobCost | None = Field(default=None, description="Set when the job ends (its ledger)")


class Character(BaseModel):
    """The hero, described once and carried unchanged into every picture."""

    name: str
    species: str
    look: str = Field(description="Colours, clothes and features that make the hero recognisable")


class ScenePrompt(BaseModel):
    """One picture or clip to make: what happens, and the prompt sent to the media model."""

    scene_description: str
    prompt: str


class StoryText(BaseModel):
    """What the story writer produces."""

    title: str = Field(min_length=1, max_length=200)
    pages: list[str] = Field(min_length=1)
    character: Character
    art_style: str
    written_in: str | None = Field(
        default=None,
        description="The language the text is in when it is not the one asked for (the offline "
        "writer's untranslated text): its readability is measured in it",
    )
    scene_plan: dict[str, list[ScenePrompt]] = Field(
        default_factory=dict,
        description="Scene prompts per medium (image, video) planned with the story itself, "
        "when the writer was asked for them and gave a usable plan",
    )

    @property
    def content(self) -> str:
        return "\n\n".join(self.pages)


class Readability(BaseModel):
    """How hard the story is to read, measured on its text, and whether that fits its ages."""

    grade_level: float = Field(description="Flesch-Kincaid grade level")
    words_per_sentence: float
    reading_ease: float = Field(description="Flesch reading ease (higher is easier)")
    band_max_grade: float
    band_max_words_per_sentence: float
    fits_age_group: bool
    formula: str = Field(
        default="flesch-kincaid",
        description='The measure used: "flesch-kincaid" (English) or "fernandez-huerta" '
        "(Spanish: its reading ease, and for grade_level the school grade of its table)",
    )


class WordTiming(BaseModel):
    """One spoken word of a page: when the narration says it (from the synthesizer's own marks)
    and where it stands in the page's text (`text[char_start:char_end]`, Python string
    offsets)."""

    text: str
    start_ms: int = Field(ge=0)
    end_ms: int = Field(ge=0)
    char_start: int = Field(ge=0)
    char_end: int = Field(ge=0)


class Asset(BaseModel):
    """One illustration, video clip or page narration of a story, tracked on its own."""

    asset_id: str = Field(default_factory=new_id)
    story_id: str
    job_id: str
    kind: AssetKind
    display_order: int
    prompt_used: str
    scene_description: str
    status: AssetStatus = AssetStatus.PENDING
    attempts: int = 0
    provider: str | None = None
    model: str | None = None
    error: str | None = None
    s3_key: str | None = None
    content_type: str | None = None
    size_bytes: int | None = None
    operation_id: str | None = None
    duration_ms: int | None = Field(default=None, description="Narration: the audio's length")
    words: list[WordTiming] | None = Field(default=None, description="Narration: word timings")
    voice: str | None = Field(default=None, description="Narration: the voice that read it")
    pending: bool = Field(
        default=False,
        description="Redone by a page change (its job_id) that has not finished: kept beside "
        "the story's current asset of the same kind and order, which it replaces once done",
    )

    @property
    def extension(self) -> str:
        return {AssetKind.IMAGE: "png", AssetKind.VIDEO: "mp4", AssetKind.AUDIO: "mp3"}[self.kind]

    def media_key(self) -> str:
        return f"stories/{self.story_id}/{self.asset_id}.{self.extension}"


class Story(BaseModel):
    id: str = Field(default_factory=new_id)
    job_id: str
    title: str
    content: str
    pages: list[str]
    character: Character
    art_style: str
    age_group: AgeGroup
    prompt: str
    status: JobStatus = JobStatus.PROCESSING
    owner: str = ANONYMOUS
    offline: bool = Field(default=False, description="True when written by the offline provider")
    num_images: int = 0
    num_videos: int = 0
    narrated: bool = Field(default=False, description="Every page is read aloud")
    voice: str | None = Field(default=None, description="The voice asked for, if one was")
    language: str = Field(default="en", description="BCP 47 tag of the story's language")
    readability: Readability | None = None
    series_id: str | None = Field(
        default=None, description="Shared by a story and its sequels (the first story's id)"
    )
    parent_id: str | None = Field(
        default=None, description="The story this one is a sequel or a version of"
    )
    page_versions: list[int] = Field(
        default_factory=list,
        description="The current version of each page changed since it was written (a page "
        "beyond the list, or the empty list: version 1)",
    )
    changed_by: str | None = Field(
        default=None,
        description="The page change (its job id) that made the story as it is now; its books "
        "are kept under that id (None: as first written)",
    )
    created_at: datetime = Field(default_factory=utc_now)

    def page_version(self, page: int) -> int:
        """The current version of page `page` (0-based)."""
        return self.page_versions[page] if page < len(self.page_versions) else 1


def page_assets(story: Story, assets: list[Asset], page: int) -> list[Asset]:
    """The pictures shown on page `page` (0-based, placed by `picture_page`) and its
    narration: what a version of a page keeps besides its text."""
    pictures = sorted(
        (a for a in assets if a.kind is AssetKind.IMAGE), key=lambda a: a.display_order
    )
    on_page = [
        picture
        for index, picture in enumerate(pictures)
        if picture_page(index, len(pictures), len(story.pages)) == page
    ]
    reading = [a for a in assets if a.kind is AssetKind.AUDIO and a.display_order == page]
    return on_page + reading
