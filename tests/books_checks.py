"""The validators a publisher runs on a book, for the tests of every tier: the W3C's EPUBCheck
and poppler's pdfinfo, pdffonts and pdfimages (Debian's packages: `make book-tools`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")


def require_tool(name: str) -> str:
    """The path of a tool the tests run, or a failure that says how to install it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make book-tools`", pytrace=False)
    return path


def require_epubcheck() -> list[str]:
    java = require_tool("java")
    if not EPUBCHECK_JAR.is_file():
        pytest.fail(f"EPUBCheck is not installed ({EPUBCHECK_JAR}): run `make book-tools`")
    # The quick JIT tier alone: EPUBCheck runs briefly, and starts in half the time.
    return [java, "-XX:TieredStopAtLevel=1", "-jar", str(EPUBCHECK_JAR)]


def epubcheck(data: bytes, tmp_path: Path) -> str:
    """EPUBCheck's report on the book, with usage messages; it must find nothing."""
    path = tmp_path / "book.epub"
    path.write_bytes(data)
    result = subprocess.run(
        [*require_epubcheck(), "--usage", str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "No errors or warnings detected." in report, report
    assert "Messages: 0 fatals / 0 errors / 0 warnings / 0 infos / 0 usages" in report, report
    return report


@dataclass(frozen=True)
class Font:
    name: str
    embedded: bool


@dataclass(frozen=True)
class PdfImage:
    page: int
    width: int
    height: int
    x_ppi: int
    y_ppi: int


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    page_size_pt: tuple[float, float]
    trim_box: tuple[float, ...]
    bleed_box: tuple[float, ...]
    fonts: list[Font]
    images: list[PdfImage]

    @property
    def lowest_ppi(self) -> list[int]:
        return [min(image.x_ppi, image.y_ppi) for image in self.images]


def _run(tool: str, *args: str) -> str:
    result = subprocess.run(
        [require_tool(tool), *args], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


def pdf_facts(data: bytes, tmp_path: Path) -> PdfFacts:
    """What poppler reads in a PDF: its pages and boxes (pdfinfo -box), its fonts and whether
    each is embedded (pdffonts), its pictures and their resolution as placed (pdfimages -list)."""
    path = tmp_path / "book.pdf"
    path.write_bytes(data)
    info = _run("pdfinfo", "-box", str(path))
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    size = re.match(r"\s*([\d.]+) x ([\d.]+) pts", fields["Page size"])
    assert size, info

    def box(name: str) -> tuple[float, ...]:
        return tuple(float(value) for value in fields[name].split())

    fonts = []
    for line in _run("pdffonts", str(path)).splitlines()[2:]:
        # name type encoding emb sub uni object ID: the three yes/no columns before the id
        columns = line.split()
        flags = [column for column in columns if column in ("yes", "no")]
        fonts.append(Font(name=columns[0], embedded=flags[0] == "yes"))
    images = []
    for line in _run("pdfimages", "-list", str(path)).splitlines()[2:]:
        columns = line.split()
        images.append(
            PdfImage(
                page=int(columns[0]),
                width=int(columns[3]),
                height=int(columns[4]),
                x_ppi=int(columns[12]),
                y_ppi=int(columns[13]),
            )
        )
    return PdfFacts(
        pages=int(fields["Pages"]),
        page_size_pt=(float(size.group(1)), float(size.group(2))),
        trim_box=box("TrimBox"),
        bleed_box=box("BleedBox"),
        fonts=fonts,
        images=images,
    )
