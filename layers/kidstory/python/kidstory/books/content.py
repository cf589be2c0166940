"""What a book is made from: the story's text, and per page its picture and narration, as
bytes (the builders never read S3 or DynamoDB)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from kidstory.models import WordTiming


@dataclass(frozen=True)
class PagePicture:
    content: bytes  # PNG
    alt_text: str  # from the scene description
    offline: bool  # drawn by the offline provider (upscaled for print, and said so)


@dataclass(frozen=True)
class PageNarration:
    audio: bytes  # MP3
    duration_ms: int
    words: list[WordTiming]  # in order; text[char_start:char_end] of the page's text


@dataclass(frozen=True)
class BookPage:
    number: int  # 1-based
    text: str
    picture: PagePicture | None = None
    narration: PageNarration | None = None


@dataclass(frozen=True)
class BookContent:
    story_id: str
    title: str
    age_group: str  # "3-5", "6-8", "9-12"
    hero: str  # the hero's name and species, for the accessibility summary
    created_at: datetime
    pages: list[BookPage]
    offline: bool  # the text or media were made offline: said on the title page and metadata
    language: str = "en"  # BCP 47
    voice: str | None = None  # the narration's voice, when narrated
    publisher: str = "Kids Story Agent"
    credits: list[str] = field(default_factory=list)  # who or what wrote, drew and read it

    @property
    def narrated(self) -> bool:
        return any(page.narration is not None for page in self.pages)
