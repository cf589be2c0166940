"""The PDF books, read back with poppler: the print one is 8.75 in square with an 8.5 in
TrimBox, has a multiple of 4 pages, embeds its font, places every picture at 300 DPI or more
and keeps all text 0.5 in inside the trim; the screen one is 8.5 in square without bleed."""

from __future__ import annotations

import re
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from kidstory.books.content import BookContent, PagePicture
from kidstory.books.pdf import build_print_pdf, build_screen_pdf
from tests.books_checks import require_tool
from tests.unit.books.conftest import (
    HEBREW_STORY,
    HEBREW_TITLE,
    LONG_TEXT,
    make_book,
    picture_png,
)

PAGE = 630.0  # 8.75 in
TRIM = (9.0, 621.0)  # the 8.5 in square inside the bleed
SAFE = (45.0, 585.0)  # 0.5 in inside the trim
BOX = re.compile(r"Page\s+(\d+)\s+(\w+Box):\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)")
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)


def poppler(tool: str, *args: str | Path) -> str:
    result = subprocess.run(
        [require_tool(tool), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def page_count(path: Path) -> int:
    match = re.search(r"^Pages:\s+(\d+)$", poppler("pdfinfo", path), re.MULTILINE)
    assert match
    return int(match.group(1))


def boxes(path: Path) -> dict[int, dict[str, tuple[float, ...]]]:
    """Every page's boxes, as pdfinfo reads them (a box not written is the MediaBox)."""
    report = poppler("pdfinfo", "-box", "-f", "1", "-l", str(page_count(path)), path)
    found: dict[int, dict[str, tuple[float, ...]]] = {}
    for page, name, *corners in BOX.findall(report):
        found.setdefault(int(page), {})[name] = tuple(float(value) for value in corners)
    return found


def words(path: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """The words of each page with their boxes (x, y from the page's top left corner)."""
    html = poppler("pdftotext", "-bbox", path, "-")
    pages = html.split("<page ")[1:]
    return [
        [(float(a), float(b), float(c), float(d), text) for a, b, c, d, text in WORD.findall(page)]
        for page in pages
    ]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def book3() -> BookContent:
    return make_book(3)


@pytest.fixture(scope="module")
def print3(book3: BookContent, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(tmp_path_factory.mktemp("pdf"), "print3.pdf", build_print_pdf(book3))


@pytest.fixture(scope="module")
def print10(tmp_path_factory: pytest.TempPathFactory) -> Path:
    book = make_book(10)
    return write(tmp_path_factory.mktemp("pdf"), "print10.pdf", build_print_pdf(book))


def test_print_pages_are_8_75_in_square_with_the_8_5_in_trim_inside(print3: Path) -> None:
    pages = boxes(print3)

    assert sorted(pages) == list(range(1, page_count(print3) + 1))
    for page in pages.values():
        assert page["MediaBox"] == (0.0, 0.0, PAGE, PAGE)
        assert page["BleedBox"] == (0.0, 0.0, PAGE, PAGE)
        assert page["TrimBox"] == (TRIM[0], TRIM[0], TRIM[1], TRIM[1])


def test_the_print_page_count_is_a_multiple_of_4(print3: Path, print10: Path) -> None:
    # the title page, the story's pages, the end page, then blank pages
    assert page_count(print3) == 8
    assert page_count(print10) == 12


def test_every_font_is_embedded(print3: Path) -> None:
    rows = poppler("pdffonts", print3).splitlines()[2:]

    assert rows
    for row in rows:
        emb, _sub, _uni, _object, _generation = row.split()[-5:]
        assert emb == "yes", row


def images(path: Path) -> list[list[str]]:
    """pdfimages' rows: page num type width height color comp bpc enc interp object ID
    x-ppi y-ppi size ratio."""
    return [row.split() for row in poppler("pdfimages", "-list", path).splitlines()[2:]]


def test_every_picture_is_placed_at_300_dpi_or_more(print10: Path, book3: BookContent) -> None:
    wide = PagePicture(content=picture_png(1024, 9, height=576), alt_text="A hill", offline=True)
    book = replace(book3, pages=[replace(book3.pages[0], picture=wide), *book3.pages[1:]])
    with_wide = write(print10.parent, "wide.pdf", build_print_pdf(book))

    assert len(images(print10)) == 10 and len(images(with_wide)) == 3
    for row in images(print10) + images(with_wide):
        assert row[8] == "jpeg", row
        assert int(row[12]) >= 300 and int(row[13]) >= 300, row


def test_a_page_without_a_picture_is_its_text_alone(book3: BookContent, tmp_path: Path) -> None:
    book = replace(book3, pages=[replace(book3.pages[0], picture=None), *book3.pages[1:]])
    path = write(tmp_path, "no-picture.pdf", build_print_pdf(book))

    assert [row[0] for row in images(path)] == ["3", "4"]
    assert " ".join(text for *_box, text in words(path)[1]) == book3.pages[0].text


def test_all_text_stands_inside_the_safety_margin(print10: Path) -> None:
    pages = words(print10)

    assert all(pages[index] for index in range(11)), "the title, story and end pages have text"
    for number, page in enumerate(pages, start=1):
        for x_min, y_min, x_max, y_max, text in page:
            assert SAFE[0] <= x_min and x_max <= SAFE[1], (number, text, x_min, x_max)
            assert SAFE[0] <= y_min and y_max <= SAFE[1], (number, text, y_min, y_max)


def test_long_text_wraps_and_shrinks_inside_the_safety_margin(tmp_path: Path) -> None:
    book = make_book(3, texts=[LONG_TEXT, LONG_TEXT[:900], "Short."])
    path = write(tmp_path, "long.pdf", build_print_pdf(book))

    story = " ".join(text for *_box, text in words(path)[1])
    assert story.split()[-3:] == LONG_TEXT.split()[-3:]
    for page in words(path):
        for x_min, y_min, x_max, y_max, text in page:
            assert SAFE[0] <= x_min and x_max <= SAFE[1], text
            assert SAFE[0] <= y_min and y_max <= SAFE[1], text


def test_text_too_long_for_a_page_is_refused(book3: BookContent) -> None:
    page = replace(book3.pages[0], text="word " * 3000)

    with pytest.raises(ValueError, match="too long to print"):
        build_print_pdf(replace(book3, pages=[page]))


def test_metadata_says_what_the_book_is_and_when_it_was_made(
    print3: Path, book3: BookContent
) -> None:
    info = poppler("pdfinfo", print3)
    data = print3.read_bytes()

    assert re.search(rf"^Title:\s+{re.escape(book3.title)}$", info, re.MULTILINE)
    assert re.search(r"^Author:\s+Kids Story Agent$", info, re.MULTILINE)
    assert re.search(r"^Creator:\s+Kids Story Agent$", info, re.MULTILINE)
    assert "offline pictures upscaled for print" in info
    assert b"/CreationDate (D:20260314092653Z" in data
    assert b"/Lang (en)" in data


def test_the_same_book_gives_the_same_bytes(book3: BookContent) -> None:
    assert build_print_pdf(book3) == build_print_pdf(book3)
    assert build_screen_pdf(book3) == build_screen_pdf(book3)


def test_the_screen_pdf_is_8_5_in_square_without_bleed(book3: BookContent, tmp_path: Path) -> None:
    path = write(tmp_path, "screen.pdf", build_screen_pdf(book3))

    assert page_count(path) == len(book3.pages) + 2  # not padded
    for page in boxes(path).values():
        assert page["MediaBox"] == (0.0, 0.0, 612.0, 612.0)
        assert page["TrimBox"] == page["MediaBox"]
        assert page["BleedBox"] == page["MediaBox"]
    info = poppler("pdfinfo", path)
    assert "upscaled" not in info
    assert "offline pictures" in info


def test_a_hebrew_book_is_set_right_to_left(tmp_path: Path) -> None:
    book = make_book(2, language="he", texts=HEBREW_STORY, title=HEBREW_TITLE)
    path = write(tmp_path, "he.pdf", build_print_pdf(book))

    first_page = {text[::-1]: x_min for x_min, _y, _x, _y2, text in words(path)[1]}
    assert first_page["השועל"] > first_page["הקטן"]  # the first word stands to the right
    assert max(x_max for _x, _y, x_max, _y2, _t in words(path)[1]) > 500  # set flush right
    assert b"/Lang (he)" in path.read_bytes()
