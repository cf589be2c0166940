"""BuildBook: a story whose media are all made, bound as books once and kept in the media bucket
beside its pictures: an EPUB 3 (read-along when narrated) and a print-ready and a screen PDF."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kidstory import observability
from kidstory.books import EPUB, PRINT_PDF, SCREEN_PDF, book_key
from kidstory.books.content import BookContent, BookPage, PageNarration, PagePicture
from kidstory.media_store import MediaStore
from kidstory.models import Asset, AssetKind, AssetStatus, Story, picture_page
from kidstory.steps.page_changes import PageChanges
from kidstory.steps.payloads import JobNotFound, Payload
from kidstory.store.stories import Stories


@dataclass(frozen=True)
class BookFormat:
    """One way a story is bound: where its file is kept and what it is served as."""

    name: str  # the file name in the API's path: /stories/{id}/<name>
    content_type: str
    build: Callable[[BookContent], bytes]

    def key(self, story_id: str, revision: str | None = None) -> str:
        return book_key(story_id, self.name, revision)


def book_formats() -> list[BookFormat]:
    """Every format, its builder imported here (fpdf2 loads only where books are made)."""
    from kidstory.books.epub import build_epub
    from kidstory.books.pdf import build_print_pdf, build_screen_pdf

    return [
        BookFormat(EPUB, "application/epub+zip", build_epub),
        BookFormat(PRINT_PDF, "application/pdf", build_print_pdf),
        BookFormat(SCREEN_PDF, "application/pdf", build_screen_pdf),
    ]


class BookInput(Payload):
    job_id: str
    story_id: str


class BookBuilt(Payload):
    built: bool
    reason: str | None = None


class Books:
    """The BuildBook step: reads the story and its media, writes its books."""

    def __init__(
        self, stories: Stories, media: MediaStore, *, page_changes: PageChanges | None = None
    ) -> None:
        self._stories = stories
        self._media = media
        self._page_changes = page_changes

    def build_book(self, given: BookInput) -> BookBuilt:
        """The story's books; for a page change, the story as the change leaves it, kept
        under the change's id (the current books stay as they are until it is made current)."""
        found = None
        if self._page_changes is not None:
            found = self._page_changes.story_to_bind(given.story_id, given.job_id)
        if found is None:
            found = self._stories.get_story(given.story_id)
        if found is None:
            raise JobNotFound(f"story {given.story_id} of job {given.job_id} does not exist")
        story, assets = found
        unmade = [a for a in assets if a.status is not AssetStatus.COMPLETED or not a.s3_key]
        if unmade:  # the story fails at Assemble: no book for it
            return BookBuilt(built=False, reason=f"{len(unmade)} media were not made")
        content = self.content(story, assets)
        for book in book_formats():
            key = book.key(story.id, story.changed_by)
            self._media.put(key, book.build(content), book.content_type)
        observability.count("BooksBuilt")
        return BookBuilt(built=True)

    def content(self, story: Story, assets: list[Asset]) -> BookContent:
        """The book's pages: each page's text, and its picture and narration when it has them."""
        pictures = sorted(
            (a for a in assets if a.kind is AssetKind.IMAGE), key=lambda a: a.display_order
        )
        placed = {
            picture_page(index, len(pictures), len(story.pages)): picture
            for index, picture in enumerate(pictures)
        }
        readings = {a.display_order: a for a in assets if a.kind is AssetKind.AUDIO}
        pages = []
        for order, text in enumerate(story.pages):
            picture = placed.get(order)
            reading = readings.get(order)
            pages.append(
                BookPage(
                    number=order + 1,
                    text=text,
                    picture=PagePicture(
                        content=self._bytes(picture),
                        alt_text=picture.scene_description,
                        offline=picture.provider == "offline",
                    )
                    if picture
                    else None,
                    narration=PageNarration(
                        audio=self._bytes(reading),
                        duration_ms=reading.duration_ms or 0,
                        words=reading.words or [],
                    )
                    if reading
                    else None,
                )
            )
        makers = {a.kind: f"{a.provider} ({a.model})" for a in assets if a.provider}
        credits = [f"Written by {'the offline writer' if story.offline else 'an AI model'}"] + [
            f"{label} by {makers[kind]}"
            for kind, label in (
                (AssetKind.IMAGE, "Pictures"),
                (AssetKind.AUDIO, "Read aloud"),
            )
            if kind in makers
        ]
        voices = [a.voice for a in assets if a.kind is AssetKind.AUDIO and a.voice]
        return BookContent(
            story_id=story.id,
            title=story.title,
            age_group=story.age_group.value,
            hero=f"{story.character.name} the {story.character.species}",
            created_at=story.created_at,
            pages=pages,
            offline=story.offline or any(a.provider == "offline" for a in assets),
            language=story.language,
            voice=voices[0] if voices else None,
            credits=credits,
        )

    def _bytes(self, asset: Asset) -> bytes:
        content = self._media.read(asset.s3_key or "")
        if content is None:
            raise JobNotFound(f"{asset.kind.value} {asset.display_order + 1} is not in the bucket")
        return content
