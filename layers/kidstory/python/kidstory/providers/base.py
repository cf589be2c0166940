"""The provider interfaces: one per capability, chosen by settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, Protocol

from kidstory.models import AgeGroup, Character, ScenePrompt, StoryText, WordTiming

Medium = Literal["image", "video"]


@dataclass(frozen=True)
class StoryBrief:
    """What the writer is asked for."""

    prompt: str
    age_group: AgeGroup
    min_pages: int
    revision_notes: str | None = None  # why the previous draft was sent back, if it was
    scenes: int = 0
    """How many scenes (pictures, and the clips that go with them) the writer plans in the same
    answer as the story, so no second call is needed before the first picture (0: none)."""
    language: str = "en"  # BCP 47 tag of the language to write in
    # A sequel: the hero and the art style of the story before, kept word for word, and a
    # short account of what happened in it.
    character: Character | None = None
    art_style: str | None = None
    previously: str | None = None

    def hero_kept(self, story: StoryText) -> StoryText:
        """`story` with the brief's character sheet and art style, when it gives them (a
        sequel), whatever the writer answered: the hero looks the same in every book."""
        if self.character is None or self.art_style is None:
            return story
        return story.model_copy(update={"character": self.character, "art_style": self.art_style})


@dataclass(frozen=True)
class VersionBrief:
    """What the writer is asked for a version of a story: its title and pages told again in
    `language` for `age_group`, page for page (exactly as many pages, each telling what its page
    told, so the pictures still fit). The hero and the art style stay the parent's."""

    title: str
    pages: tuple[str, ...]
    character: Character
    art_style: str
    from_language: str
    language: str
    from_age_group: AgeGroup
    age_group: AgeGroup
    revision_notes: str | None = None

    def revised(self, notes: str | None) -> VersionBrief:
        return replace(self, revision_notes=notes)


@dataclass(frozen=True)
class PageBrief:
    """One page of a written story to write again, so that it still fits its neighbours."""

    title: str
    pages: tuple[str, ...]
    page: int  # 0-based
    character: Character
    age_group: AgeGroup
    instructions: str | None = None  # what the owner asked to change, if anything
    language: str = "en"
    attempt: int = 1  # 1 for the first try; more when a try was sent back
    revision_notes: str | None = None  # why the previous try was sent back, if it was

    @property
    def current_text(self) -> str:
        return self.pages[self.page]


@dataclass(frozen=True)
class GeneratedMedia:
    content: bytes
    content_type: str


@dataclass(frozen=True)
class MediaSpec:
    """One picture or clip to make. `character` is the story's character sheet, the same for
    every page, so the hero looks the same throughout."""

    prompt: str
    character: Character
    art_style: str
    seconds: float = 4.0
    start_image: GeneratedMedia | None = None
    """Video: the picture the clip starts from (the page's own illustration), when it was ready
    and the model can start from a picture."""
    output_prefix: str | None = None
    """Video: the key prefix in the media bucket (stories/<story_id>/<asset_id>) under which a
    provider that writes its clip itself (Bedrock async invoke) puts it."""


@dataclass(frozen=True)
class VideoOperation:
    operation_id: str
    poll_after_seconds: int


@dataclass(frozen=True)
class VideoCheck:
    """A done clip comes back as bytes (`media`), or, from a provider that wrote it to the media
    bucket itself, as the key it wrote (`stored_key`, under the spec's `output_prefix`)."""

    done: bool
    media: GeneratedMedia | None = None
    stored_key: str | None = None


class TextProvider(Protocol):
    name: str
    model: str

    def write_story(self, brief: StoryBrief) -> StoryText: ...

    def plan_scenes(
        self, brief: StoryBrief, story: StoryText, medium: Medium, count: int
    ) -> list[ScenePrompt]: ...

    def write_version(self, brief: VersionBrief) -> StoryText:
        """The story told again in another language and/or for other ages: as many pages as
        `brief.pages`, with the brief's character sheet and art style unchanged."""

    def rewrite_page(self, brief: PageBrief) -> str:
        """The page's new text, fitting the pages before and after it."""
        ...


class ImageProvider(Protocol):
    name: str
    model: str

    def generate_image(self, spec: MediaSpec) -> GeneratedMedia: ...


class VideoProvider(Protocol):
    """Video models take minutes, so a clip is started, then checked until it is done."""

    name: str
    model: str

    def start_video(self, spec: MediaSpec) -> VideoOperation: ...

    def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck: ...


@dataclass(frozen=True)
class SpokenPage:
    """A page read aloud: its audio (`content_type` audio/mpeg), the audio's length and each
    word's timing, in order, as the synthesizer reported them."""

    audio: bytes
    content_type: str
    duration_ms: int
    words: list[WordTiming]
    voice: str


class NarrationProvider(Protocol):
    """Reads a page aloud. `voice` None means the provider's default voice for `language` (a
    BCP 47 tag such as "en", "de", "he")."""

    name: str
    model: str

    def narrate(self, text: str, *, language: str, voice: str | None = None) -> SpokenPage: ...
