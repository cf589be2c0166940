"""Builds a finished story as a PDF book: a print-ready one (8.5 in square trim with 0.125 in
bleed on every side, TrimBox and BleedBox on every page, a page count that is a multiple of 4,
an embedded font, text inside a 0.5 in safety margin, pictures at 300 DPI or more) and a screen
one (8.5 in square, no bleed). Pure and deterministic: the same book gives the same bytes."""

from __future__ import annotations

import io
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC

from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, XPos, YPos
from fpdf.errors import FPDFException
from fpdf.output import PDFPage
from fpdf.prefs import ViewerPreferences
from PIL import Image

from kidstory.books.content import BookContent, BookPage, PagePicture
from kidstory.books.fonts import DEJAVU_SANS
from kidstory.books.wording import MADE_BY, OFFLINE_NOTICE, is_rtl, the_end

POINTS_PER_INCH = 72
TRIM = 8.5 * POINTS_PER_INCH  # 612 pt
BLEED = 0.125 * POINTS_PER_INCH  # 9 pt
SAFETY = 0.5 * POINTS_PER_INCH  # 36 pt, from the trim edge
PRINT_DPI = 300
JPEG_QUALITY = 90

_FONT = "DejaVuSans"
_LEADING = 1.35  # line height, times the font size
_GAP = 18.0  # between a picture and its text
_MIN_PICTURE = 0.5 * (TRIM - 2 * SAFETY)  # a picture shrinks to this before the text does
_SMALLEST_PICTURE = 2 * POINTS_PER_INCH  # ... and to this before the text goes below its range
_FLOOR_SIZE = 9.0  # the smallest type a page may be set in
# Type sizes (preferred, smallest in range) by age group, in points.
_TYPE_SIZES = {"3-5": (22.0, 18.0), "6-8": (18.0, 14.0), "9-12": (15.0, 12.0)}
_DEFAULT_TYPE_SIZE = (18.0, 14.0)
_PAPER = (255, 248, 236)
_INK = (35, 31, 32)
_NOT_PRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class _Format:
    """A PDF variant: its bleed, whether pictures are upscaled to print resolution, and the
    multiple its page count is padded to."""

    bleed: float
    upscale: bool
    pages_multiple: int

    @property
    def size(self) -> float:
        return TRIM + 2 * self.bleed

    @property
    def text_left(self) -> float:
        return self.bleed + SAFETY

    @property
    def text_width(self) -> float:
        return TRIM - 2 * SAFETY


PRINT = _Format(bleed=BLEED, upscale=True, pages_multiple=4)
SCREEN = _Format(bleed=0.0, upscale=False, pages_multiple=1)


class _PrintPage(PDFPage):
    """A page of the print PDF: fpdf2 writes a MediaBox only, so the BleedBox (the whole page)
    and the TrimBox (the 8.5 in square inside the bleed) are added here, written by fpdf2's
    own serializer (every public attribute of a page object is a key of its dictionary)."""

    __slots__ = ()
    bleed_box = f"[0 0 {PRINT.size:g} {PRINT.size:g}]"
    trim_box = f"[{BLEED:g} {BLEED:g} {BLEED + TRIM:g} {BLEED + TRIM:g}]"


@dataclass
class _Pictures:
    """What the pictures are and what was done to them, in words for the metadata."""

    notes: list[str] = field(default_factory=list)

    def note(self, picture: PagePicture, upscaled: bool) -> None:
        kind = "offline pictures" if picture.offline else "pictures"
        note = f"{kind} upscaled for print" if upscaled else kind
        if note != "pictures" and note not in self.notes:
            self.notes.append(note)


def build_print_pdf(book: BookContent) -> bytes:
    """The print-ready PDF: 8.75 in square pages (8.5 in trim and bleed), pages a multiple
    of 4, pictures at 300 DPI or more (upscaled when smaller, and the metadata says so)."""
    return _build(book, PRINT)


def build_screen_pdf(book: BookContent) -> bytes:
    """The PDF to read on a screen: 8.5 in square pages, no bleed, pictures as they were
    made (never upscaled; reduced to 300 DPI when larger)."""
    return _build(book, SCREEN)


def _build(book: BookContent, fmt: _Format) -> bytes:
    if not book.pages:
        raise ValueError("a book needs at least one page")
    pdf = _new_pdf(fmt, book)
    pictures = _Pictures()
    _title_page(pdf, fmt, book)
    for page in book.pages:
        _story_page(pdf, fmt, book, page, pictures)
    _end_page(pdf, fmt, book)
    while pdf.pages_count % fmt.pages_multiple:
        _add_page(pdf, fmt, blank=True)
    _set_metadata(pdf, book, pictures)
    return bytes(pdf.output())


def _new_pdf(fmt: _Format, book: BookContent) -> FPDF:
    pdf = FPDF(unit="pt", format=(fmt.size, fmt.size))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font(_FONT, fname=str(DEJAVU_SANS))
    pdf.set_text_color(*_INK)
    if _has_rtl_text(book):
        _shape_text(pdf, "rtl" if is_rtl(book.language) else None)
    return pdf


def _has_rtl_text(book: BookContent) -> bool:
    """True when the book is in a right-to-left language or any of its text is written in
    a right-to-left script."""
    texts = [book.title, *book.credits, *(page.text for page in book.pages)]
    return is_rtl(book.language) or any(
        unicodedata.bidirectional(char) in ("R", "AL") for text in texts for char in text
    )


def _shape_text(pdf: FPDF, direction: str | None) -> None:
    """Lay text out with HarfBuzz: fpdf2 reorders right-to-left text (and joins Arabic
    letters) only through it."""
    try:
        pdf.set_text_shaping(use_shaping_engine=True, direction=direction)
    except FPDFException as error:
        raise RuntimeError("right-to-left text needs the uharfbuzz package") from error


def _add_page(pdf: FPDF, fmt: _Format, *, blank: bool = False) -> None:
    """A new page, with the print boxes in the print PDF and, unless blank, the paper tint
    across the whole page (into the bleed)."""
    pdf.add_page()
    if fmt.bleed:
        pdf.pages[pdf.page].__class__ = _PrintPage
    if not blank:
        pdf.set_fill_color(*_PAPER)
        pdf.rect(0, 0, fmt.size, fmt.size, style="F")


# --- pages -----------------------------------------------------------------------------------


def _title_page(pdf: FPDF, fmt: _Format, book: BookContent) -> None:
    """The title, the credits, the publisher and, for offline output, the notice."""
    _add_page(pdf, fmt)
    blocks: list[tuple[str, float]] = [(book.title, 40.0)]
    blocks.extend((credit, 16.0) for credit in book.credits)
    blocks.append((book.publisher, 16.0))
    if book.offline:
        blocks.append((OFFLINE_NOTICE, 12.0))
    scale = 1.0
    while True:
        heights = [_text_height(pdf, fmt, text, size * scale) for text, size in blocks]
        total = sum(heights) + _GAP * (len(blocks) - 1)
        if total <= fmt.text_width:
            break
        if scale <= 0.5:
            raise ValueError("the title and credits are too long to print on one page")
        scale -= 0.05
    y = fmt.bleed + SAFETY + (fmt.text_width - total) / 2
    for (text, size), height in zip(blocks, heights, strict=True):
        _write(pdf, fmt, text, y, size * scale, Align.C)
        y += height + _GAP


def _end_page(pdf: FPDF, fmt: _Format, book: BookContent) -> None:
    _add_page(pdf, fmt)
    size = 32.0
    height = _text_height(pdf, fmt, the_end(book.language), size)
    _write(pdf, fmt, the_end(book.language), fmt.bleed + TRIM / 2 - height / 2, size, Align.C)


def _story_page(
    pdf: FPDF, fmt: _Format, book: BookContent, page: BookPage, pictures: _Pictures
) -> None:
    """The picture, as large as the text leaves room for, and the text under it, together
    centred in the safety area; the picture shrinks first, then the type, to fit the text."""
    _add_page(pdf, fmt)
    text = _printable(page.text)
    size, room = _fit(pdf, fmt, book.age_group, text, page.picture is not None)
    image = _opened(page.picture) if page.picture is not None else None
    width, height = _placed_size(image, fmt.text_width, room) if image else (0.0, 0.0)
    text_height = _text_height(pdf, fmt, text, size) if text else 0.0
    used = text_height + height + (_GAP if height and text else 0.0)
    y = fmt.bleed + SAFETY + (fmt.text_width - used) / 2
    if page.picture is not None and image is not None:
        _place_picture(pdf, fmt, page.picture, image, (y, width, height), pictures)
        y += height + _GAP
    if text:
        _write(pdf, fmt, text, y, size, Align.R if is_rtl(book.language) else Align.L)


def _fit(
    pdf: FPDF, fmt: _Format, age_group: str, text: str, has_picture: bool
) -> tuple[float, float]:
    """The type size, and the height left for the picture, that fit the page: the preferred
    size with the picture's room down to half the area; then smaller type down to the age
    group's smallest with that room; then the room down to 2 in, the type down to 9 pt."""
    preferred, smallest = _TYPE_SIZES.get(age_group, _DEFAULT_TYPE_SIZE)
    area = fmt.text_width
    heights: dict[float, float] = {}

    def room(size: float) -> float:
        """The height left for the picture with the text set at this size."""
        if not text:
            return area
        if size not in heights:
            heights[size] = _text_height(pdf, fmt, text, size)
        return area - heights[size] - _GAP

    for lowest, min_picture in ((smallest, _MIN_PICTURE), (_FLOOR_SIZE, _SMALLEST_PICTURE)):
        least = min_picture if has_picture else -_GAP
        size = _largest(_sizes(preferred, lowest), room, least)
        if size is not None:
            return size, min(area, room(size)) if has_picture else 0.0
    raise ValueError(f"the page text is too long to print ({len(text)} characters)")


def _sizes(largest: float, smallest: float) -> list[float]:
    """Type sizes from the largest down to the smallest, by half points."""
    return [largest - step / 2 for step in range(int((largest - smallest) * 2) + 1)]


def _largest(sizes: list[float], room: Callable[[float], float], least: float) -> float | None:
    """The first (largest) size that leaves at least `least` room, by bisection: a smaller
    size leaves as much room as a larger one or more."""
    if not sizes or room(sizes[-1]) < least:
        return None
    low, high = 0, len(sizes) - 1  # sizes[high] fits
    while low < high:
        middle = (low + high) // 2
        if room(sizes[middle]) >= least:
            high = middle
        else:
            low = middle + 1
    return sizes[high]


def _opened(picture: PagePicture) -> Image.Image:
    with Image.open(io.BytesIO(picture.content)) as source:
        return _flattened(source)


def _placed_size(image: Image.Image, width: float, height: float) -> tuple[float, float]:
    """The picture's size on the page: as large as fits the width and height, its shape kept."""
    scale = min(width / image.width, height / image.height)
    return image.width * scale, image.height * scale


def _place_picture(
    pdf: FPDF,
    fmt: _Format,
    picture: PagePicture,
    image: Image.Image,
    placement: tuple[float, float, float],
    pictures: _Pictures,
) -> None:
    """The picture centred across the page at (top, width, height), as a JPEG at 300 DPI of
    its placed size (the print PDF upscales a smaller picture; the screen PDF does not)."""
    y, width, height = placement
    needed = (_pixels(width), _pixels(height))
    upscale = needed[0] > image.width and fmt.upscale
    if upscale or needed[0] < image.width:
        image = image.resize(needed, Image.Resampling.LANCZOS)
    pictures.note(picture, upscale)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY)
    x = fmt.bleed + (TRIM - width) / 2
    # No alt_text: fpdf2 would tag the figures only, and a reader of a tagged PDF skips
    # untagged text (the EPUB is the book with text descriptions of its pictures).
    pdf.image(io.BytesIO(out.getvalue()), x, y, width, height)


def _flattened(image: Image.Image) -> Image.Image:
    """The picture in RGB, any transparency laid on the paper colour."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (*_PAPER, 255))
        return Image.alpha_composite(paper, rgba).convert("RGB")
    return image.convert("RGB")


def _pixels(points: float) -> int:
    """Pixels a length in points needs at print resolution (rounded up)."""
    return max(1, math.ceil(points / POINTS_PER_INCH * PRINT_DPI - 1e-6))


# --- text ------------------------------------------------------------------------------------


def _printable(text: str) -> str:
    """The page text without control characters, tabs as spaces, at most one blank line."""
    text = _NOT_PRINTABLE.sub("", text.replace("\r\n", "\n").replace("\t", " "))
    return re.sub(r"\n\s*\n\s*", "\n\n", text).strip()


def _text_height(pdf: FPDF, fmt: _Format, text: str, size: float) -> float:
    """How tall the text is, wrapped to the safety area's width at a type size."""
    pdf.set_font(_FONT, size=size)
    lines = pdf.multi_cell(
        fmt.text_width,
        size * _LEADING,
        text,
        dry_run=True,
        output=MethodReturnValue.LINES,
    )
    assert isinstance(lines, list)
    return len(lines) * size * _LEADING


def _write(pdf: FPDF, fmt: _Format, text: str, y: float, size: float, align: Align) -> None:
    pdf.set_font(_FONT, size=size)
    pdf.set_xy(fmt.text_left, y)
    pdf.multi_cell(
        fmt.text_width,
        size * _LEADING,
        text,
        align=align,
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


# --- metadata --------------------------------------------------------------------------------


def _set_metadata(pdf: FPDF, book: BookContent, pictures: _Pictures) -> None:
    """Title, author and creator, subject and keywords (saying when pictures are offline or
    were upscaled), the language, and the creation date from the book (not the clock)."""
    subject = [f"A picture book for ages {book.age_group}, about {book.hero}."]
    if book.offline:
        subject.append(OFFLINE_NOTICE)
    subject.extend(f"{note[0].upper()}{note[1:]}." for note in pictures.notes)
    keywords = ["children's book", "picture book", f"ages {book.age_group}", *pictures.notes]
    pdf.set_title(book.title)
    pdf.set_author(MADE_BY)
    pdf.set_creator(MADE_BY)
    pdf.set_subject(" ".join(subject))
    pdf.set_keywords(", ".join(keywords))
    pdf.set_lang(book.language)
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    created = book.created_at
    pdf.set_creation_date(created if created.tzinfo else created.replace(tzinfo=UTC))
