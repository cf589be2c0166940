"""A narrated story on the local stack, as a client sees it: every page read aloud with word
timings that match its audio, and the story bound as an EPUB 3 with media overlays and as a
print-ready PDF, each checked by the validators a publisher would use (EPUBCheck, poppler)."""

from __future__ import annotations

import io
import itertools
import re
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from mutagen.mp3 import MP3

from kidstory.access import issue_key
from kidstory.wiring import story_table
from tests.books_checks import epubcheck, pdf_facts
from tests.e2e.conftest import ApiClient

IDEA = "A little hedgehog learns to whistle a song for the moon"
WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


@pytest.fixture(scope="module")
def narrated(client: ApiClient) -> tuple[dict[str, Any], dict[str, Any]]:
    accepted = client.generate(prompt=IDEA, age_group="3-5", num_illustrations=3, narration=True)
    assert accepted.status_code == 202, accepted.text
    job = client.wait_for(accepted.json()["job_id"], timeout=240)
    assert job["status"] == "completed", job["error"]
    story = client.story(job["story_id"])
    assert story.status_code == 200, story.text
    return job, story.json()


def test_every_page_is_read_aloud_with_its_words_timed(
    client: ApiClient, narrated: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    job, story = narrated
    narration = story["narration"]
    assert narration["offline"] is True and narration["voice"]
    assert [page["page"] for page in narration["pages"]] == list(range(1, len(story["pages"]) + 1))
    assert (
        job["progress"]["narration_done"]
        == job["progress"]["narration_total"]
        == len(story["pages"])
    )
    for page, text in zip(narration["pages"], story["pages"], strict=True):
        audio = httpx.get(page["audio_url"], timeout=30)  # a signed link: no key needed
        assert audio.status_code == 200
        assert audio.headers["content-type"] == "audio/mpeg"
        assert audio.headers["accept-ranges"] == "bytes"
        measured_ms = MP3(io.BytesIO(audio.content)).info.length * 1000
        assert abs(measured_ms - page["duration_ms"]) <= 0.05 * measured_ms
        words = page["words"]
        assert words[-1]["end_ms"] <= page["duration_ms"]
        for before, after in itertools.pairwise(words):
            assert before["start_ms"] <= before["end_ms"] <= after["start_ms"]
            assert before["char_end"] <= after["char_start"]
        covered = [(w["char_start"], w["char_end"]) for w in words]
        for match in WORD.finditer(text):
            assert any(start <= match.start() and match.end() <= end for start, end in covered), (
                match.group()
            )


def test_a_story_not_asked_to_be_read_has_no_narration(client: ApiClient) -> None:
    accepted = client.generate(prompt=IDEA, age_group="3-5", num_illustrations=1)
    job = client.wait_for(accepted.json()["job_id"])
    story = client.story(job["story_id"]).json()
    assert story["narration"] is None
    assert job["progress"]["narration_total"] == 0


def test_the_epub_passes_epubcheck_with_media_overlays(
    client: ApiClient, narrated: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    _, story = narrated
    book = client.http.get(f"/api/v1/stories/{story['id']}/book.epub")
    assert book.status_code == 200, book.text
    assert book.headers["content-type"] == "application/epub+zip"
    assert "attachment" in book.headers["content-disposition"]
    epubcheck(book.content, tmp_path)
    with zipfile.ZipFile(io.BytesIO(book.content)) as archive:
        overlays = [name for name in archive.namelist() if name.endswith(".smil")]
        audio = [name for name in archive.namelist() if name.endswith(".mp3")]
    assert len(overlays) == len(audio) == len(story["pages"])


def test_the_print_pdf_is_ready_for_print(
    client: ApiClient, narrated: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    _, story = narrated
    book = client.http.get(f"/api/v1/stories/{story['id']}/book.pdf")
    assert book.status_code == 200, book.text
    assert book.headers["content-type"] == "application/pdf"
    facts = pdf_facts(book.content, tmp_path)
    assert facts.page_size_pt == (630.0, 630.0)  # 8.5 in trim and 0.125 in bleed each side
    assert facts.trim_box == (9.0, 9.0, 621.0, 621.0)
    assert facts.pages % 4 == 0 and facts.pages >= len(story["pages"]) + 2
    assert facts.fonts and all(font.embedded for font in facts.fonts)
    assert len(facts.images) >= 3 and min(facts.lowest_ppi) >= 300


def test_the_screen_pdf_has_no_bleed(
    client: ApiClient, narrated: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path
) -> None:
    _, story = narrated
    book = client.http.get(f"/api/v1/stories/{story['id']}/book.pdf?variant=screen")
    assert book.status_code == 200, book.text
    assert pdf_facts(book.content, tmp_path).page_size_pt == (612.0, 612.0)


def test_only_the_owner_gets_the_books(
    base_url: str, narrated: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    _, story = narrated
    key, token = issue_key("Another school")
    story_table().put_api_key(key)
    for path in ("book.epub", "book.pdf", "book.pdf?variant=screen"):
        other = ApiClient(base_url, key=token).http.get(f"/api/v1/stories/{story['id']}/{path}")
        assert other.status_code == 404, path
        wrong = ApiClient(base_url, key="a-wrong-key").http.get(
            f"/api/v1/stories/{story['id']}/{path}"
        )
        assert wrong.status_code == 401, path
    missing = ApiClient(base_url).http.get("/api/v1/stories/no-such-story/book.epub")
    assert missing.status_code == 404


def test_a_player_can_seek_in_the_audio(narrated: tuple[dict[str, Any], dict[str, Any]]) -> None:
    _, story = narrated
    url = story["narration"]["pages"][0]["audio_url"]
    whole = httpx.get(url, timeout=30).content
    part = httpx.get(url, headers={"Range": "bytes=100-199"}, timeout=30)
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    assert part.content == whole[100:200]
    tail = httpx.get(url, headers={"Range": "bytes=-50"}, timeout=30)
    assert tail.status_code == 206 and tail.content == whole[-50:]
    beyond = httpx.get(url, headers={"Range": f"bytes={len(whole) + 10}-"}, timeout=30)
    assert beyond.status_code == 416
