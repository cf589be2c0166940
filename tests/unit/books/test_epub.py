"""The EPUB book: EPUBCheck finds nothing to report, each read-along clip is its word's
timing and points at its word, the accessibility metadata is there, right-to-left books run
right to left, and the same book always gives the same bytes."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image

from kidstory.books.content import BookContent
from kidstory.books.epub import ACTIVE_CLASS, build_epub
from kidstory.books.wording import OFFLINE_NOTICE
from kidstory.models import WordTiming
from tests.books_checks import epubcheck
from tests.unit.books.conftest import HEBREW_STORY, HEBREW_TITLE, make_book

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "smil": "http://www.w3.org/ns/SMIL",
}


def files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def package(data: bytes) -> ET.Element:
    return ET.fromstring(files(data)["EPUB/package.opf"])


def metas(opf: ET.Element, prop: str) -> list[str]:
    return [
        meta.text or ""
        for meta in opf.iterfind("opf:metadata/opf:meta", NS)
        if meta.get("property") == prop and meta.get("refines") is None
    ]


@pytest.fixture(scope="module")
def narrated_epub(narrated_book: BookContent) -> bytes:
    return build_epub(narrated_book)


def test_a_narrated_book_passes_epubcheck(narrated_epub: bytes, tmp_path: Path) -> None:
    epubcheck(narrated_epub, tmp_path)


def test_a_book_without_narration_passes_epubcheck(plain_book: BookContent, tmp_path: Path) -> None:
    data = build_epub(plain_book)

    epubcheck(data, tmp_path)
    assert not [name for name in files(data) if name.endswith((".smil", ".mp3"))]
    assert "media:duration" not in files(data)["EPUB/package.opf"].decode()


def test_a_book_without_pictures_gets_a_plain_cover() -> None:
    data = build_epub(make_book(2, pictures=False))

    cover = package(data).find("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert cover is not None and cover.get("href") == "images/cover.png"
    with Image.open(io.BytesIO(files(data)["EPUB/images/cover.png"])) as image:
        assert image.format == "PNG" and image.size == (1600, 1600)


def test_a_hebrew_book_runs_right_to_left_and_passes_epubcheck(tmp_path: Path) -> None:
    book = make_book(
        2, narrated=True, pictures=False, language="he", texts=HEBREW_STORY, title=HEBREW_TITLE
    )
    data = build_epub(book)

    epubcheck(data, tmp_path)  # with a plain cover, as the book has no pictures
    opf = package(data)
    assert opf.get("dir") == "rtl"
    assert opf.find("opf:spine", NS).get("page-progression-direction") == "rtl"  # type: ignore[union-attr]
    assert [language.text for language in opf.iterfind(".//dc:language", NS)] == ["he"]
    for name in ("title.xhtml", "page-1.xhtml", "page-2.xhtml", "nav.xhtml"):
        html = ET.fromstring(files(data)[f"EPUB/{name}"])
        assert html.get("dir") == "rtl", name
        assert html.find("x:body", NS).get("dir") == "rtl", name  # type: ignore[union-attr]


def test_every_clip_points_at_its_word_and_lasts_its_timing(
    narrated_book: BookContent, narrated_epub: bytes
) -> None:
    contents = files(narrated_epub)
    for page in narrated_book.pages:
        assert page.narration is not None
        smil = ET.fromstring(contents[f"EPUB/page-{page.number}.smil"])
        xhtml = ET.fromstring(contents[f"EPUB/page-{page.number}.xhtml"])
        spans = {element.get("id"): element for element in xhtml.iter() if element.get("id")}
        pars = list(smil.iter(f"{{{NS['smil']}}}par"))
        assert len(pars) == len(page.narration.words)
        for par, timing in zip(pars, page.narration.words, strict=True):
            text = par.find("smil:text", NS)
            audio = par.find("smil:audio", NS)
            assert text is not None and audio is not None
            document, fragment = (text.get("src") or "").split("#")
            assert document == f"page-{page.number}.xhtml"
            assert fragment in spans, fragment
            assert spans[fragment].text == page.text[timing.char_start : timing.char_end]
            assert audio.get("src") == f"audio/page-{page.number}.mp3"
            assert clock_ms(audio.get("clipBegin")) == timing.start_ms
            assert clock_ms(audio.get("clipEnd")) == timing.end_ms


def clock_ms(value: str | None) -> int:
    assert value is not None and value.endswith("s")
    return round(float(value[:-1]) * 1000)


def test_the_words_keep_the_page_text_as_it_was(
    narrated_book: BookContent, narrated_epub: bytes
) -> None:
    page = narrated_book.pages[1]  # two paragraphs
    xhtml = ET.fromstring(files(narrated_epub)["EPUB/page-2.xhtml"])
    paragraphs = ["".join(p.itertext()) for p in xhtml.iterfind(".//x:div/x:p", NS)]

    assert paragraphs == page.text.split("\n\n")


def test_the_package_lists_overlays_audio_and_their_durations(
    narrated_book: BookContent, narrated_epub: bytes
) -> None:
    opf = package(narrated_epub)
    items = {item.get("id"): item for item in opf.iterfind("opf:manifest/opf:item", NS)}
    refined = {
        (meta.get("refines") or "").lstrip("#"): meta.text
        for meta in opf.iterfind("opf:metadata/opf:meta[@property='media:duration']", NS)
        if meta.get("refines")
    }
    for page in narrated_book.pages:
        n = page.number
        assert page.narration is not None
        assert items[f"page-{n}"].get("media-overlay") == f"smil-{n}"
        assert items[f"smil-{n}"].get("media-type") == "application/smil+xml"
        assert items[f"audio-{n}"].get("media-type") == "audio/mpeg"
        assert files(narrated_epub)[f"EPUB/audio/page-{n}.mp3"] == page.narration.audio
        seconds = page.narration.duration_ms / 1000
        assert refined[f"smil-{n}"] == f"0:00:{seconds:06.3f}"
    total_ms = sum(page.narration.duration_ms for page in narrated_book.pages if page.narration)
    assert metas(opf, "media:duration") == [f"0:00:{total_ms / 1000:06.3f}"]
    assert metas(opf, "media:active-class") == [ACTIVE_CLASS]
    style = files(narrated_epub)["EPUB/style.css"].decode()
    assert ACTIVE_CLASS in style and "underline" in style


def test_the_accessibility_metadata_is_there(narrated_epub: bytes, plain_book: BookContent) -> None:
    opf = package(narrated_epub)

    assert metas(opf, "schema:accessMode") == ["textual", "visual", "auditory"]
    assert metas(opf, "schema:accessModeSufficient") == ["textual", "textual,visual"]
    assert set(metas(opf, "schema:accessibilityFeature")) >= {
        "alternativeText",
        "readingOrder",
        "structuralNavigation",
        "synchronizedAudioText",
    }
    assert metas(opf, "schema:accessibilityHazard") == ["none"]
    assert "read aloud" in metas(opf, "schema:accessibilitySummary")[0]

    plain = package(build_epub(plain_book))
    assert metas(plain, "schema:accessMode") == ["textual", "visual"]
    assert "synchronizedAudioText" not in metas(plain, "schema:accessibilityFeature")


def test_pictures_carry_their_descriptions_and_the_first_is_the_cover(
    narrated_book: BookContent, narrated_epub: bytes
) -> None:
    contents = files(narrated_epub)
    for page in narrated_book.pages:
        assert page.picture is not None
        image = ET.fromstring(contents[f"EPUB/page-{page.number}.xhtml"]).find(".//x:img", NS)
        assert image is not None and image.get("alt") == page.picture.alt_text
        assert contents[f"EPUB/{image.get('src')}"] == page.picture.content
    cover = package(narrated_epub).find("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert cover is not None and cover.get("href") == "images/page-1.png"


def test_identity_dates_and_offline_output_are_in_the_metadata(
    narrated_book: BookContent, narrated_epub: bytes
) -> None:
    opf = package(narrated_epub)

    assert opf.findtext(".//dc:identifier", namespaces=NS) == f"urn:uuid:{narrated_book.story_id}"
    assert opf.findtext(".//dc:title", namespaces=NS) == narrated_book.title
    assert metas(opf, "dcterms:modified") == ["2026-03-14T09:26:53Z"]
    assert OFFLINE_NOTICE in (opf.findtext(".//dc:description", namespaces=NS) or "")
    title_page = ET.fromstring(files(narrated_epub)["EPUB/title.xhtml"])
    assert OFFLINE_NOTICE in "".join(title_page.itertext())

    online = package(build_epub(replace(narrated_book, offline=False)))
    assert OFFLINE_NOTICE not in (online.findtext(".//dc:description", namespaces=NS) or "")


def test_the_same_book_gives_the_same_bytes(narrated_book: BookContent) -> None:
    assert build_epub(narrated_book) == build_epub(narrated_book)


def test_the_container_starts_with_a_stored_mimetype_and_the_book_s_date(
    narrated_epub: bytes,
) -> None:
    with zipfile.ZipFile(io.BytesIO(narrated_epub)) as archive:
        entries = archive.infolist()
    assert entries[0].filename == "mimetype"
    assert entries[0].compress_type == zipfile.ZIP_STORED
    assert narrated_epub[30:38] == b"mimetype"
    assert {entry.date_time for entry in entries} == {(2026, 3, 14, 9, 26, 52)}  # 2 s steps


def test_words_whose_offsets_do_not_fit_the_text_stay_plain(narrated_book: BookContent) -> None:
    page = narrated_book.pages[0]
    assert page.narration is not None
    good = page.narration.words
    bad = [
        *good[:2],
        WordTiming(text="x", start_ms=900, end_ms=950, char_start=1, char_end=3),  # overlaps
        *good[2:],
        WordTiming(text="y", start_ms=9000, end_ms=9100, char_start=500, char_end=510),
    ]
    narration = replace(page.narration, words=bad)
    book = replace(narrated_book, pages=[replace(page, narration=narration)])

    data = build_epub(book)

    smil = ET.fromstring(files(data)["EPUB/page-1.smil"])
    assert len(list(smil.iter(f"{{{NS['smil']}}}par"))) == len(good)


def test_text_is_escaped_not_pasted(narrated_epub: bytes) -> None:
    contents = files(narrated_epub)
    title = ET.fromstring(contents["EPUB/title.xhtml"]).findtext(".//x:h1", namespaces=NS)

    assert title == "Pip & the Shiny <Red> Ball"
    assert b"<Red>" not in contents["EPUB/title.xhtml"]


def test_a_book_needs_pages(narrated_book: BookContent) -> None:
    with pytest.raises(ValueError, match="at least one page"):
        build_epub(replace(narrated_book, pages=[]))
