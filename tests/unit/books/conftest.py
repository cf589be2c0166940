"""Books made for the book builders' tests: real PNG pictures drawn with Pillow, real MP3
narration (a tone of exactly the length the word timings say) and timings for every word."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageDraw

from kidstory.books.content import BookContent, BookPage, PageNarration, PagePicture
from kidstory.models import WordTiming
from tests.audio import tone_mp3

WORD_MS = 320
GAP_MS = 80
LEAD_MS = 150
SAMPLE_RATE = 24_000

STORY = [
    "Pip the little fox found a shiny red ball under the old oak tree.",
    '"Whose ball is this?" Pip asked the sleepy owl.\n\nThe owl yawned and pointed at the hill.',
    'On the hill, a small rabbit was crying. "My ball!" she said, and Pip gave it back.',
    "The rabbit smiled. They played together until the sun went down.",
    "Pip and the rabbit met again the next morning, and the morning after that.",
    "They rolled the ball down the hill and ran after it, laughing all the way.",
    "When it rained, they sat under the oak tree and told each other stories.",
    "The owl listened from her branch and sometimes added a story of her own.",
    "By the end of summer, everyone in the wood knew the fox and the rabbit.",
    "And the shiny red ball? It still rolls down the hill every sunny day.",
]
HEBREW_STORY = [
    "פיפ השועל הקטן מצא כדור אדום מתחת לעץ האלון.",
    '"של מי הכדור הזה?" שאל פיפ את הינשוף.',
]
HEBREW_TITLE = "פיפ והכדור האדום"
LONG_TEXT = " ".join(STORY * 3)


def picture_png(size: int, seed: int, height: int | None = None) -> bytes:
    """A picture with shapes and gradients (so it compresses like a drawing, not a flat fill),
    square unless a height is given."""
    width, height = size, height or size
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 4):
        shade = (40 + (y * 180) // height, 120 + seed * 10 % 100, 220 - (y * 120) // height)
        draw.rectangle((0, y, width, y + 3), fill=shade)
    for k in range(12):
        x = (k * 97 + seed * 53) % width
        y = (k * 61 + seed * 29) % height
        radius = size // 10 + (k * 7) % (size // 8)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(240, 120 + k * 9, 30))
    draw.text((size // 20, size // 20), f"page {seed}", fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def narration(text: str) -> PageNarration:
    """Word timings for every word of the text, one after another, and their audio."""
    words = []
    clock = LEAD_MS
    for match in re.finditer(r"\w+(?:'\w+)?", text):
        words.append(
            WordTiming(
                text=match.group(),
                start_ms=clock,
                end_ms=clock + WORD_MS,
                char_start=match.start(),
                char_end=match.end(),
            )
        )
        clock += WORD_MS + GAP_MS
    duration = clock + LEAD_MS
    return PageNarration(
        audio=tone_mp3(duration / 1000, rate=SAMPLE_RATE, amplitude=6000),
        duration_ms=duration,
        words=words,
    )


def make_book(
    pages: int = 3,
    *,
    narrated: bool = False,
    pictures: bool = True,
    language: str = "en",
    texts: list[str] | None = None,
    age_group: str = "3-5",
    title: str = "Pip & the Shiny <Red> Ball",
) -> BookContent:
    """A book of the given number of pages: 1024 px pictures, every third one a 512 px offline
    picture, narrated on request."""
    texts = texts or STORY
    book_pages = []
    for number in range(1, pages + 1):
        text = texts[(number - 1) % len(texts)]
        offline = number % 3 == 2
        picture = None
        if pictures:
            picture = PagePicture(
                content=picture_png(512 if offline else 1024, number),
                alt_text=f"Picture {number}: a fox & a rabbit <playing> by an oak tree.",
                offline=offline,
            )
        book_pages.append(
            BookPage(
                number=number,
                text=text,
                picture=picture,
                narration=narration(text) if narrated else None,
            )
        )
    return BookContent(
        story_id="0b6f3c3e-8f0e-4f43-9d55-3c1c2a7d9e10",
        title=title,
        age_group=age_group,
        hero="Pip, a little fox",
        created_at=datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC),
        pages=book_pages,
        offline=pictures,
        language=language,
        voice="Nova (synthesized voice)" if narrated else None,
        credits=["Written by Claude", "Pictures by the offline provider"],
    )


@pytest.fixture(scope="session")
def narrated_book() -> BookContent:
    return make_book(3, narrated=True)


@pytest.fixture(scope="session")
def plain_book() -> BookContent:
    return make_book(3)
