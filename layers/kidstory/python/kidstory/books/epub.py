"""Builds a finished story as an EPUB 3 book: a cover, a title page, one XHTML document per
story page with its picture, a navigation document and accessibility metadata and, for narrated
pages, read-along media overlays (one SMIL document per page, a clip per word) that highlight
each word as it is spoken. Pure and deterministic: the same book gives the same bytes."""

from __future__ import annotations

import io
import re
import unicodedata
import uuid
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from PIL import Image, ImageDraw, ImageFont

from kidstory.books.content import BookContent, BookPage, PagePicture
from kidstory.books.fonts import DEJAVU_SANS
from kidstory.books.wording import MADE_BY, OFFLINE_NOTICE, is_rtl, notice_language

ACTIVE_CLASS = "-epub-media-overlay-active"

_XHTML_NS = "http://www.w3.org/1999/xhtml"
_OPS_NS = "http://www.idpf.org/2007/ops"
_XHTML = "application/xhtml+xml"
_SMIL = "application/smil+xml"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
# Characters XML 1.0 cannot carry at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")

_STORY_FONT_SIZE = {"3-5": "1.5em", "6-8": "1.3em", "9-12": "1.15em"}
# Numeric character references: EPUBCheck reports named entities, even XML's own, in XHTML.
_ESCAPES = str.maketrans({"&": "&#38;", "<": "&#60;", ">": "&#62;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&#38;",
        "<": "&#60;",
        ">": "&#62;",
        '"': "&#34;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
    }
)


class _Markup(str):
    """Serialized XML, inserted as it is; any other string is text and is escaped."""


_BREAK = _Markup("<br/>")


@dataclass(frozen=True)
class _Word:
    """A narrated word: its span id, where it stands in the page text, and when it is said."""

    id: str
    start: int
    end: int
    begin_ms: int
    end_ms: int


@dataclass(frozen=True)
class _Picture:
    """An image file of the book and the manifest item that lists it."""

    id: str
    href: str
    media_type: str
    data: bytes
    alt: str


@dataclass(frozen=True)
class _Item:
    """One manifest item: a file of the publication with its media type."""

    id: str
    href: str
    media_type: str
    data: bytes
    properties: str | None = None
    media_overlay: str | None = None
    duration_ms: int | None = None  # for a media overlay (SMIL) document


def build_epub(book: BookContent) -> bytes:
    """The book as an EPUB 3 file (bytes), with read-along media overlays when narrated."""
    _check(book)
    items = list(_items(book))
    files = [
        ("META-INF/container.xml", _container()),
        ("EPUB/package.opf", _package(book, items)),
        *((f"EPUB/{item.href}", item.data) for item in items),
    ]
    return _zip(files, book.created_at)


def _check(book: BookContent) -> None:
    if not book.pages:
        raise ValueError("a book needs at least one page")
    numbers = [page.number for page in book.pages]
    if len(set(numbers)) != len(numbers) or min(numbers) < 1:
        raise ValueError(f"page numbers must be distinct and from 1: {numbers}")


# --- the publication's files ---------------------------------------------------------------


def _items(book: BookContent) -> Iterator[_Item]:
    """Every file of the publication but the package document, in manifest order. The cover
    image is the first picture of the book, or a plain cover drawn for a book without."""
    pictures = {page.number: _picture(page.number, page.picture) for page in book.pages}
    cover = next((picture for picture in pictures.values() if picture), None)
    if cover is None:
        cover = _Picture("cover-image", "images/cover.png", "image/png", _plain_cover(book), "")
        yield _Item(cover.id, cover.href, cover.media_type, cover.data, properties="cover-image")
    yield _Item("nav", "nav.xhtml", _XHTML, _nav(book), properties="nav")
    yield _Item("style", "style.css", "text/css", _style(book))
    yield _Item("titlepage", "title.xhtml", _XHTML, _title_page(book, cover))
    for page in book.pages:
        n = page.number
        words = _words(page)
        overlay = f"smil-{n}" if words else None
        picture = pictures[n]
        xhtml = _page(book, page, picture, words)
        yield _Item(f"page-{n}", f"page-{n}.xhtml", _XHTML, xhtml, media_overlay=overlay)
        if picture:
            properties = "cover-image" if picture is cover else None
            yield _Item(picture.id, picture.href, picture.media_type, picture.data, properties)
        if page.narration and overlay:
            yield _Item(f"audio-{n}", f"audio/page-{n}.mp3", "audio/mpeg", page.narration.audio)
            smil = _smil(n, words)
            duration = max(page.narration.duration_ms, words[-1].end_ms)
            yield _Item(overlay, f"page-{n}.smil", _SMIL, smil, duration_ms=duration)


def _picture(number: int, picture: PagePicture | None) -> _Picture | None:
    """A page's picture as an image file: PNG or JPEG as given, anything else as PNG."""
    if picture is None:
        return None
    data = picture.content
    if data.startswith(_PNG_SIGNATURE):
        extension, media_type = "png", "image/png"
    elif data.startswith(_JPEG_SIGNATURE):
        extension, media_type = "jpg", "image/jpeg"
    else:
        with Image.open(io.BytesIO(data)) as image:
            out = io.BytesIO()
            image.save(out, "PNG")
        data, extension, media_type = out.getvalue(), "png", "image/png"
    href = f"images/page-{number}.{extension}"
    return _Picture(f"image-{number}", href, media_type, data, picture.alt_text)


def _words(page: BookPage) -> list[_Word]:
    """The page's narrated words that can be highlighted: in order, inside the text, not
    overlapping, on one line, and with a clip that lasts. Others stay plain text."""
    if page.narration is None:
        return []
    words: list[_Word] = []
    cursor = 0
    for index, timing in enumerate(page.narration.words):
        start, end = timing.char_start, timing.char_end
        if start < cursor or end > len(page.text) or end <= start:
            continue
        if "\n" in page.text[start:end] or timing.end_ms <= timing.start_ms:
            continue
        word_id = f"p{page.number}w{index}"
        words.append(_Word(word_id, start, end, timing.start_ms, timing.end_ms))
        cursor = end
    return words


def _container() -> bytes:
    rootfile = _el(
        "rootfile", {"full-path": "EPUB/package.opf", "media-type": "application/oebps-package+xml"}
    )
    container = _el(
        "container",
        {"version": "1.0", "xmlns": "urn:oasis:names:tc:opendocument:xmlns:container"},
        _el("rootfiles", None, rootfile),
    )
    return _document(container)


# --- XHTML documents -----------------------------------------------------------------------


def _page(
    book: BookContent, page: BookPage, picture: _Picture | None, words: Sequence[_Word]
) -> bytes:
    """One story page: its picture, then its text, each narrated word in its own span."""
    parts: list[str] = []
    if picture:
        parts.append(_el("figure", None, _el("img", {"src": picture.href, "alt": picture.alt})))
    parts.append(_el("div", {"class": "story"}, *_paragraphs(page.text, words)))
    section = _el("section", {"id": f"page-{page.number}", "epub:type": "chapter"}, *parts)
    return _xhtml(book, f"{book.title} ({page.number})", "bodymatter", section)


def _paragraphs(text: str, words: Sequence[_Word]) -> list[_Markup]:
    """The page text as paragraphs (split at blank lines, line breaks kept), each narrated word
    wrapped in `<span id="p{n}w{i}">`."""
    paragraphs: list[list[str]] = [[]]

    def add_text(segment: str) -> None:
        for index, piece in enumerate(_PARAGRAPH_BREAK.split(segment)):
            if index:
                paragraphs.append([])
            for line_index, line in enumerate(piece.split("\n")):
                if line_index:
                    paragraphs[-1].append(_BREAK)
                if line:
                    paragraphs[-1].append(line)

    cursor = 0
    for word in words:
        add_text(text[cursor : word.start])
        paragraphs[-1].append(_el("span", {"id": word.id}, text[word.start : word.end]))
        cursor = word.end
    add_text(text[cursor:])
    return [_el("p", None, *_trimmed(parts)) for parts in paragraphs if _has_content(parts)]


def _has_content(parts: Sequence[str]) -> bool:
    """True when a paragraph has words, not only spaces and line breaks."""
    return any(
        part is not _BREAK if isinstance(part, _Markup) else bool(part.strip()) for part in parts
    )


def _trimmed(parts: list[str]) -> list[str]:
    """A paragraph's parts without line breaks at its ends."""
    while parts and parts[0] is _BREAK:
        parts = parts[1:]
    while parts and parts[-1] is _BREAK:
        parts = parts[:-1]
    return parts


def _style(book: BookContent) -> bytes:
    """The style sheet: only rules the book uses (EPUBCheck reports unused class selectors)."""
    size = _STORY_FONT_SIZE.get(book.age_group, "1.3em")
    rules = [
        "body { margin: 0 1em; font-family: sans-serif; line-height: 1.5; }",
        f".story {{ font-size: {size}; }}",
        "figure { margin: 1em 0; text-align: center; }",
        "figure img { max-width: 100%; max-height: 60vh; }",
        ".cover img { max-height: 80vh; }",
        ".titlepage { text-align: center; }",
        ".titlepage h1 { font-size: 2em; }",
    ]
    if book.offline:
        rules.append(".notice { font-size: 0.9em; font-style: italic; }")
    if book.narrated:
        # The word being spoken: underlined and boxed as well as tinted, not by colour alone.
        # An attribute selector: only the reading system sets the class, and EPUBCheck reports
        # a class selector that no document uses.
        rules.append(
            f'[class~="{ACTIVE_CLASS}"] {{ background-color: #fff1a8; color: #000000; '
            "text-decoration: underline; outline: 0.1em solid #5a4400; }"
        )
    return ("\n".join(rules) + "\n").encode()


def _title_page(book: BookContent, cover: _Picture) -> bytes:
    """The title page: the cover picture, the title, the credits and, for offline output,
    the notice that says so."""
    image = _el("img", {"src": cover.href, "alt": cover.alt or book.title, "role": "doc-cover"})
    parts: list[str] = [
        _el("figure", {"id": "cover", "class": "cover"}, image),
        _el("h1", None, book.title),
    ]
    parts.extend(_el("p", None, credit) for credit in book.credits)
    parts.append(_el("p", None, book.publisher))
    if book.offline:
        parts.append(_el("p", _notice_attributes(book, "notice"), OFFLINE_NOTICE))
    section = _el("section", {"class": "titlepage", "epub:type": "titlepage"}, *parts)
    return _xhtml(book, book.title, "frontmatter", section)


def _nav(book: BookContent) -> bytes:
    """The navigation document: a table of contents (the title page and every page, by its
    first words) and landmarks."""
    entries = [_link("title.xhtml", book.title)]
    entries.extend(_link(f"page-{page.number}.xhtml", _label(page)) for page in book.pages)
    toc = _el(
        "nav",
        {"epub:type": "toc", "id": "toc", "role": "doc-toc"},
        _el("h1", None, book.title),
        _el("ol", None, *entries),
    )
    first = f"page-{book.pages[0].number}.xhtml"
    landmarks = _el(
        "nav",
        {"epub:type": "landmarks", "id": "landmarks", "hidden": "hidden"},
        _el("h2", _notice_attributes(book), "Landmarks"),
        _el(
            "ol",
            _notice_attributes(book),
            _link("title.xhtml#cover", "Cover", "cover"),
            _link("title.xhtml", "Title page", "titlepage"),
            _link(first, "Start of the story", "bodymatter"),
        ),
    )
    return _xhtml(book, book.title, None, toc, landmarks)


def _link(href: str, label: str, landmark: str | None = None) -> _Markup:
    return _el("li", None, _el("a", {"href": href, "epub:type": landmark}, label))


def _label(page: BookPage, words: int = 6) -> str:
    """A table of contents label: the page number and its first few words."""
    first = page.text.split()
    snippet = " ".join(first[:words]) + ("…" if len(first) > words else "")
    return f"{page.number}. {snippet}" if snippet else str(page.number)


def _notice_attributes(book: BookContent, css_class: str | None = None) -> dict[str, str | None]:
    """Attributes of an English notice in a book that may be in another language."""
    language = notice_language(book.language)
    direction = "ltr" if language and is_rtl(book.language) else None
    return {"class": css_class, "xml:lang": language, "lang": language, "dir": direction}


def _xhtml(book: BookContent, title: str, body_type: str | None, *content: str) -> bytes:
    """An XHTML content document in the book's language and direction."""
    direction = "rtl" if is_rtl(book.language) else None
    head = _el(
        "head",
        None,
        _el("meta", {"charset": "utf-8"}),
        _el("title", None, title),
        _el("link", {"rel": "stylesheet", "type": "text/css", "href": "style.css"}),
    )
    body_attributes = {"dir": direction, "epub:type": body_type}
    html = _el(
        "html",
        {
            "xmlns": _XHTML_NS,
            "xmlns:epub": _OPS_NS,
            "xml:lang": book.language,
            "lang": book.language,
            "dir": direction,
        },
        head,
        _el("body", body_attributes, *content),
    )
    return _document(html, doctype=True)


# --- media overlays ------------------------------------------------------------------------


def _smil(number: int, words: Sequence[_Word]) -> bytes:
    """A page's media overlay: one `par` per word, its text span and its clip of the audio."""
    pars = [
        _el(
            "par",
            {"id": f"{word.id}-par"},
            _el("text", {"src": f"page-{number}.xhtml#{word.id}"}),
            _el(
                "audio",
                {
                    "src": f"audio/page-{number}.mp3",
                    "clipBegin": _clock(word.begin_ms),
                    "clipEnd": _clock(word.end_ms),
                },
            ),
        )
        for word in words
    ]
    seq = _el(
        "seq",
        {"id": f"page-{number}-seq", "epub:textref": f"page-{number}.xhtml#page-{number}"},
        *pars,
    )
    smil = _el(
        "smil",
        {"xmlns": "http://www.w3.org/ns/SMIL", "xmlns:epub": _OPS_NS, "version": "3.0"},
        _el("body", None, seq),
    )
    return _document(smil)


def _clock(ms: int) -> str:
    """A SMIL clock value in seconds: 1234 ms is "1.234s"."""
    return f"{ms // 1000}.{ms % 1000:03d}s"


def _duration(ms: int) -> str:
    """A full clock value: 3723456 ms is "1:02:03.456"."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}.{millis:03d}"


# --- the package document ------------------------------------------------------------------


def _package(book: BookContent, items: Sequence[_Item]) -> bytes:
    rtl = is_rtl(book.language)
    package = _el(
        "package",
        {
            "xmlns": "http://www.idpf.org/2007/opf",
            "version": "3.0",
            "unique-identifier": "book-id",
            "xml:lang": book.language,
            "dir": "rtl" if rtl else None,
        },
        _metadata(book, items),
        _el("manifest", None, *(_manifest_item(item) for item in items)),
        _el(
            "spine",
            {"page-progression-direction": "rtl" if rtl else None},
            *(_el("itemref", {"idref": item.id}) for item in items if _in_spine(item)),
        ),
    )
    return _document(package)


def _in_spine(item: _Item) -> bool:
    return item.media_type == _XHTML and item.properties != "nav"


def _manifest_item(item: _Item) -> _Markup:
    attributes = {
        "id": item.id,
        "href": item.href,
        "media-type": item.media_type,
        "properties": item.properties,
        "media-overlay": item.media_overlay,
    }
    return _el("item", attributes)


def _metadata(book: BookContent, items: Sequence[_Item]) -> _Markup:
    notice_language_tag = notice_language(book.language)
    description = f"A picture book for ages {book.age_group}, about {book.hero}."
    if book.offline:
        description = f"{description} {OFFLINE_NOTICE}"
    parts: list[str] = [
        _el("dc:identifier", {"id": "book-id"}, _identifier(book.story_id)),
        _el("dc:title", None, book.title),
        _el("dc:language", None, book.language),
        _el("dc:creator", None, MADE_BY),
        _el("dc:publisher", None, book.publisher),
        _el("dc:date", None, _timestamp(book.created_at)),
        _el("dc:description", {"xml:lang": notice_language_tag}, description),
    ]
    parts.extend(_el("dc:contributor", None, credit) for credit in book.credits)
    parts.append(_meta("dcterms:modified", _timestamp(book.created_at)))
    parts.extend(_accessibility(book, items))
    parts.extend(_media_overlay_metadata(book, items))
    return _el("metadata", {"xmlns:dc": "http://purl.org/dc/elements/1.1/"}, *parts)


def _accessibility(book: BookContent, items: Sequence[_Item]) -> list[_Markup]:
    """schema.org accessibility metadata (EPUB Accessibility 1.1 discovery metadata)."""
    narrated = any(item.duration_ms is not None for item in items)
    modes = ["textual", "visual", *(["auditory"] if narrated else [])]
    features = [
        "alternativeText",
        "readingOrder",
        "structuralNavigation",
        "tableOfContents",
        *(["synchronizedAudioText"] if narrated else []),
    ]
    summary = (
        f"A picture book for ages {book.age_group}, about {book.hero}. Its text is in reading "
        "order, every picture has a text description, and a table of contents leads to "
        "each page."
    )
    if narrated:
        summary += " Narrated pages are read aloud, each word highlighted as it is spoken."
    language = {"xml:lang": notice_language(book.language)}
    return [
        *(_meta("schema:accessMode", mode) for mode in modes),
        _meta("schema:accessModeSufficient", "textual"),
        _meta("schema:accessModeSufficient", "textual,visual"),
        *(_meta("schema:accessibilityFeature", feature) for feature in features),
        _meta("schema:accessibilityHazard", "none"),
        _meta("schema:accessibilitySummary", summary, language),
    ]


def _media_overlay_metadata(book: BookContent, items: Sequence[_Item]) -> list[_Markup]:
    """Each media overlay's duration, their total, the active class and the narrator."""
    overlays = [item for item in items if item.duration_ms is not None]
    if not overlays:
        return []
    total = sum(item.duration_ms or 0 for item in overlays)
    parts = [
        _meta("media:duration", _duration(item.duration_ms or 0), {"refines": f"#{item.id}"})
        for item in overlays
    ]
    parts.append(_meta("media:duration", _duration(total)))
    if book.voice:
        parts.append(_meta("media:narrator", book.voice))
    parts.append(_meta("media:active-class", ACTIVE_CLASS))
    return parts


def _meta(prop: str, value: str, attributes: Mapping[str, str | None] | None = None) -> _Markup:
    return _el("meta", {"property": prop, **(attributes or {})}, value)


def _identifier(story_id: str) -> str:
    """urn:uuid: the story id itself when it is a UUID, else a UUID derived from it."""
    try:
        value = uuid.UUID(story_id)
    except ValueError:
        value = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:kidstory:story:{story_id}")
    return value.urn


def _utc(moment: datetime) -> datetime:
    """A moment in UTC (a naive one is taken as UTC already)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _timestamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the plain cover -----------------------------------------------------------------------

_COVER_SIZE = 1600
_COVER_BACKGROUND = (255, 236, 196)
_COVER_INK = (60, 40, 20)


def _plain_cover(book: BookContent) -> bytes:
    """A plain cover for a book without pictures: a framed page with its title when the font
    and a left-to-right layout can draw it (the title page says it in any language)."""
    size = _COVER_SIZE
    image = Image.new("RGB", (size, size), _COVER_BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, size - 61, size - 61), outline=_COVER_INK, width=12)
    if _drawable(book.title):
        _draw_centered(draw, book.title, top=size // 3, font_size=120, width=size - 320)
    if _drawable(book.publisher):
        _draw_centered(draw, book.publisher, top=size - 300, font_size=56, width=size - 320)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _drawable(text: str) -> bool:
    """True for text in scripts the shipped font draws left to right (Latin, Greek, Cyrillic,
    digits, punctuation): Pillow's basic layout cannot reorder right-to-left text."""
    scripts = ("LATIN", "GREEK", "CYRILLIC", "DIGIT")
    for char in text:
        category = unicodedata.category(char)
        if category.startswith(("P", "Z", "S")) and ord(char) < 0x2E80:
            continue
        if not unicodedata.name(char, "").startswith(scripts):
            return False
    return True


def _draw_centered(
    draw: ImageDraw.ImageDraw, text: str, *, top: int, font_size: int, width: int
) -> None:
    """Draw text wrapped to a width, each line centred, shrinking to fit four lines."""
    while True:
        font = ImageFont.truetype(str(DEJAVU_SANS), font_size, layout_engine=ImageFont.Layout.BASIC)
        lines = _wrap(draw, text, font, width)
        if len(lines) <= 4 or font_size <= 40:
            break
        font_size -= 10
    y = top
    for line in lines[:6]:
        line_width = draw.textlength(line, font=font)
        draw.text(((_COVER_SIZE - line_width) / 2, y), line, font=font, fill=_COVER_INK)
        y += int(font_size * 1.3)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


# --- XML and the container -----------------------------------------------------------------


def _el(tag: str, attributes: Mapping[str, str | None] | None = None, *children: str) -> _Markup:
    """An XML element: attribute values and text children escaped, markup children as they
    are; attributes whose value is None are left out."""
    rendered = "".join(
        f' {name}="{_NOT_XML.sub("", value).translate(_ATTRIBUTE_ESCAPES)}"'
        for name, value in (attributes or {}).items()
        if value is not None
    )
    if not children:
        return _Markup(f"<{tag}{rendered}/>")
    inner = "".join(
        child if isinstance(child, _Markup) else _NOT_XML.sub("", child).translate(_ESCAPES)
        for child in children
    )
    return _Markup(f"<{tag}{rendered}>{inner}</{tag}>")


def _document(root: _Markup, *, doctype: bool = False) -> bytes:
    """An XML document in UTF-8: the declaration, the HTML doctype if asked, the root."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', *(["<!DOCTYPE html>"] if doctype else [])]
    return "\n".join([*lines, root, ""]).encode()


def _zip(files: Sequence[tuple[str, bytes]], created_at: datetime) -> bytes:
    """The OCF container: `mimetype` first and stored, then the files; every entry stamped
    with the book's creation time so the same book zips to the same bytes."""
    moment = _utc(created_at)
    stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    if not 1980 <= moment.year <= 2107:  # what a zip entry's date can hold
        stamp = (1980, 1, 1, 0, 0, 0)
    entries = [("mimetype", b"application/epub+zip"), *files]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            stored = name == "mimetype" or name.endswith((".png", ".jpg", ".mp3"))
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()
