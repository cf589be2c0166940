"""Read-along in the web reader, in a real browser (Debian's chromium, driven by Playwright): a
narrated story is read aloud page by page, the word being said lit as it is said.

The story is made up here and served to the reader with Playwright's `page.route` in place of
the API, with a real MP3 (a quiet tone of known length, encoded with lameenc) for each page's
narration: what is tested is the reader, against the narration part of the story response
(docs/api.md), not a narration provider. The reader's own files come from a plain file server.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import ThreadingHTTPServer
from itertools import pairwise
from typing import Any

import pytest

from infra.local.api_server import free_port
from tests.audio import tone_mp3
from tests.e2e.test_reader import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    READER_DIR,
    QuietFiles,
    wait_until,
)

STORY_ID = "6a0e8400-e29b-41d4-a716-446655440001"
JOB_ID = "5a0e8400-e29b-41d4-a716-446655440002"
AUDIO_SECONDS = 3.0
SAMPLE_RATE = 22050
# Emoji are outside the BMP: one character for Python (the API's offsets), two for JavaScript.
PAGES = [
    "🐭 Milo the mouse woke up early. 🧀 He could smell cheese!",
    "He ran across the yard to the old red barn.",
    "There it was, the magic cheese. The end. 🌙",
]
FIRST_WORD_MS = 200
LAST_WORD_END_MS = 2600
GAP_MS = 60  # a short silence between two words
AUDIO_URL = "https://media.example.test/narration/{story}/page-{page}.mp3?signature=abc{page}"

LIT = """() => [...document.querySelectorAll("#page-text .spoken")].map(span => span.textContent)"""
AUDIO = "document.getElementById('narration-audio')"


def word_timings(text: str) -> list[dict[str, Any]]:
    """Every word of the page, in order, spread evenly over the narration with a short silence
    after each; offsets are Python's (code points), as the API gives them."""
    found = list(re.finditer(r"\w+", text))
    span = (LAST_WORD_END_MS - FIRST_WORD_MS + GAP_MS) // len(found)
    words = []
    for i, match in enumerate(found):
        start = FIRST_WORD_MS + i * span
        words.append(
            {
                "text": match.group(),
                "start_ms": start,
                "end_ms": start + span - GAP_MS,
                "char_start": match.start(),
                "char_end": match.end(),
            }
        )
    return words


def narrated_story(*, narration: bool = True) -> dict[str, Any]:
    pages = [
        {
            "page": number,
            "audio_url": AUDIO_URL.format(story=STORY_ID, page=number),
            "duration_ms": round(AUDIO_SECONDS * 1000),
            "words": word_timings(text),
        }
        for number, text in enumerate(PAGES, start=1)
    ]
    return {
        "id": STORY_ID,
        "title": "Milo and the Magic Cheese",
        "content": "\n\n".join(PAGES),
        "age_group": "3-5",
        "prompt": "A mouse looks for a magic cheese",
        "created_at": "2026-12-01T09:00:00Z",
        "images": [],
        "videos": [],
        "job_id": JOB_ID,
        "pages": PAGES,
        "character": {"name": "Milo", "species": "mouse", "look": "a small brown mouse"},
        "readability": None,
        "offline": True,
        "notice": "Offline output: written and drawn by the built-in offline provider.",
        "complete": True,
        "narration": ({"voice": "en-us", "offline": True, "pages": pages} if narration else None),
    }


def said_at(words: list[dict[str, Any]], seconds: float) -> str | None:
    """The word the timings say is being said at `seconds`, if any."""
    ms = seconds * 1000
    return next((w["text"] for w in words if w["start_ms"] <= ms < w["end_ms"]), None)


def near_a_boundary(words: list[dict[str, Any]], seconds: float, margin_ms: float) -> bool:
    ms = seconds * 1000
    edges = [edge for w in words for edge in (w["start_ms"], w["end_ms"])]
    return any(abs(ms - edge) < margin_ms for edge in edges)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Debian's chromium is not installed ({CHROMIUM} is missing): run `make browser`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def reader_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The reader's files on a plain file server; the API next to them is `page.route`'s."""
    site = tmp_path_factory.mktemp("site")
    shutil.copytree(READER_DIR, site / "reader")
    server = ThreadingHTTPServer(
        ("127.0.0.1", free_port()), partial(QuietFiles, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def mp3() -> bytes:
    return tone_mp3(AUDIO_SECONDS, rate=SAMPLE_RATE, amplitude=1500, bit_rate=64)


def serve_audio(route: Any, body: bytes) -> None:
    """The MP3, with byte ranges as a media server (S3, CloudFront) answers them."""
    asked = re.fullmatch(r"bytes=(\d+)-(\d*)", route.request.headers.get("range", ""))
    headers = {"Content-Type": "audio/mpeg", "Accept-Ranges": "bytes"}
    if not asked:
        route.fulfill(status=200, headers=headers, body=body)
        return
    first = int(asked.group(1))
    last = min(int(asked.group(2)) if asked.group(2) else len(body) - 1, len(body) - 1)
    headers["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
    route.fulfill(status=206, headers=headers, body=body[first : last + 1])


def open_reader(
    browser: Any, site: str, mp3: bytes, story: dict[str, Any]
) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    script_errors: list[str] = []
    opened.on("pageerror", lambda error: script_errors.append(str(error)))

    def api(route: Any) -> None:
        path = route.request.url.split("?")[0]
        if path.endswith(f"/api/v1/stories/{STORY_ID}"):
            route.fulfill(status=200, json=story)
        elif path.endswith("/api/v1/stories"):
            route.fulfill(status=200, json={"stories": [], "total": 0})
        else:
            route.fulfill(status=404, json={"detail": "Not found"})

    opened.route("**/api/v1/**", api)
    opened.route("https://media.example.test/**", lambda route: serve_audio(route, mp3))
    opened.goto(f"{site}/reader/#story={STORY_ID}")
    opened.wait_for_selector("body[data-ready=true]")
    opened.locator("#story-view").wait_for(state="visible")
    return context, opened, script_errors


@pytest.fixture
def reader(browser: Any, reader_site: str, mp3: bytes) -> Iterator[Any]:
    """The reader on the narrated story's first page; fails on any script error."""
    context, opened, script_errors = open_reader(browser, reader_site, mp3, narrated_story())
    yield opened
    context.close()
    assert not script_errors, script_errors


def audio_ready(page: Any) -> None:
    wait_until(page, f"{AUDIO}.readyState >= 1 && {AUDIO}.duration > 0", timeout=10)


def seek(page: Any, seconds: float) -> dict[str, Any]:
    """Seeks the narration, and once it has seeked says where it is and what is lit."""
    seen: dict[str, Any] = page.evaluate(
        """(seconds) => new Promise(resolve => {
            const audio = document.getElementById("narration-audio");
            audio.addEventListener("seeked", () => resolve({
                time: audio.currentTime,
                lit: [...document.querySelectorAll("#page-text .spoken")].map(s => s.textContent),
            }), {once: true});
            audio.currentTime = seconds;
        })""",
        seconds,
    )
    return seen


def samples(page: Any, until: float, budget: float = 5.0) -> list[dict[str, Any]]:
    """The audio's time and the lit words, once a frame, until the audio reaches `until`
    seconds (or stops, or `budget` seconds have passed)."""
    seen: list[dict[str, Any]] = page.evaluate(
        """([until, budget]) => new Promise(resolve => {
            const audio = document.getElementById("narration-audio");
            const began = performance.now();
            const seen = [];
            const look = () => {
                seen.push({
                    time: audio.currentTime,
                    paused: audio.paused,
                    lit: [...document.querySelectorAll("#page-text .spoken")]
                        .map(s => s.textContent),
                });
                const over = audio.currentTime >= until || audio.paused
                    || performance.now() - began > budget * 1000;
                if (over) resolve(seen);
                else requestAnimationFrame(look);
            };
            requestAnimationFrame(look);
        })""",
        [until, budget],
    )
    return seen


def check_played(words: list[dict[str, Any]], played: list[dict[str, Any]]) -> list[str]:
    """Each frame, at most one word lit, and the one the timings give at the audio's time (a
    frame's worth of audio time either side of a word's start or end is let be: the reader
    looked in its own frame). Returns the words lit, in the order they were lit."""
    assert all(len(sample["lit"]) <= 1 for sample in played), played
    for before, sample in pairwise(played):
        if sample["paused"] or before["paused"]:
            continue
        margin_ms = max(sample["time"] - before["time"], 0) * 1000 + 20
        if near_a_boundary(words, sample["time"], margin_ms):
            continue
        expected = said_at(words, sample["time"])
        assert sample["lit"] == ([expected] if expected else []), (before, sample)
    lit: list[str] = []
    for sample in played:
        if sample["lit"] and (not lit or lit[-1] != sample["lit"][0]):
            lit += sample["lit"]
    return lit


def read_aloud(page: Any) -> Any:
    return page.get_by_role("button", name="Read aloud")


def test_the_page_is_shown_word_by_word_with_an_offline_narration_label(reader: Any) -> None:
    words = word_timings(PAGES[0])
    assert reader.locator("#page-text").inner_text() == PAGES[0]
    spans = reader.locator("#page-text span.word")
    # the Python offsets, turned into JavaScript's past the emoji, find every word exactly
    assert spans.all_inner_texts() == [word["text"] for word in words]
    assert reader.evaluate("document.getElementById('page-text').textContent") == PAGES[0]
    assert reader.evaluate(LIT) == []

    label = reader.locator("#narration-notice")
    assert label.is_visible() and label.inner_text().startswith("Offline narration")

    button = read_aloud(reader)
    assert button.is_visible()
    assert reader.evaluate("document.getElementById('read-aloud').tagName") == "BUTTON"
    assert button.get_attribute("aria-pressed") == "false"
    audio_ready(reader)
    duration = reader.evaluate(f"{AUDIO}.duration")
    assert abs(duration - AUDIO_SECONDS) < 0.15, duration
    assert reader.evaluate(f"{AUDIO}.src") == AUDIO_URL.format(story=STORY_ID, page=1)

    # the lit word is a plain span: nothing announces it, no role, and not colour alone
    seek(reader, (words[2]["start_ms"] + 50) / 1000)
    lit = reader.locator("#page-text .spoken")
    assert lit.count() == 1
    assert lit.evaluate("span => span.getAttributeNames()") == ["class"]
    assert (
        lit.evaluate("span => span.closest('[aria-live], [role=status], [role=alert], [role=log]')")
        is None
    )
    assert reader.locator("#page-text [aria-live], #page-text [role]").count() == 0
    lit_style, plain_style = (
        reader.locator(selector).evaluate(
            "span => { const s = getComputedStyle(span);"
            " return {line: s.textDecorationLine, outline: s.outlineStyle,"
            " background: s.backgroundColor}; }"
        )
        for selector in ("#page-text .spoken", "#page-text .word:not(.spoken) >> nth=0")
    )
    assert "underline" in lit_style["line"] or lit_style["outline"] != "none", lit_style
    assert (lit_style["line"], lit_style["outline"]) != (
        plain_style["line"],
        plain_style["outline"],
    ), (lit_style, plain_style)
    assert lit_style["background"] != plain_style["background"]


def test_while_paused_the_word_lit_is_the_one_the_timings_give(reader: Any) -> None:
    words = word_timings(PAGES[0])
    audio_ready(reader)
    moments = [0.05, FIRST_WORD_MS / 1000 - 0.02]  # before the first word: none
    moments += [(w["start_ms"] + w["end_ms"]) / 2000 for w in words]  # each word's middle
    moments += [(w["start_ms"] + 5) / 1000 for w in words[:3]]  # each word's very start
    moments += [(words[1]["end_ms"] + GAP_MS / 2) / 1000]  # the silence after a word: none
    moments += [LAST_WORD_END_MS / 1000 + 0.2, 0.1]  # after the last word, and back to the start
    for moment in moments:
        seen = seek(reader, moment)
        expected = said_at(words, seen["time"])
        assert seen["lit"] == ([expected] if expected else []), (moment, seen, expected)
    assert read_aloud(reader).get_attribute("aria-pressed") == "false"
    assert reader.evaluate(f"{AUDIO}.paused")


def test_while_playing_the_word_lit_follows_the_narration(reader: Any) -> None:
    words = word_timings(PAGES[0])
    audio_ready(reader)
    button = read_aloud(reader)
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert reader.get_by_role("button", name="Read aloud", pressed=True).is_visible()
    wait_until(reader, f"!{AUDIO}.paused && {AUDIO}.currentTime > 0.05", timeout=10)

    # back to the start while it plays: nothing lit before the first word is said
    seen = seek(reader, 0.0)
    assert seen["time"] * 1000 < FIRST_WORD_MS - 50 and seen["lit"] == [], seen

    # then word after word, as they are said
    played = samples(reader, until=1.5)
    lit = check_played(words, played)
    texts = [word["text"] for word in words]
    assert len(lit) >= 3 and lit == texts[texts.index(lit[0]) :][: len(lit)], (lit, played)

    # a seek back while it plays: the lit word jumps there at once, and goes on from there
    target = words[2]
    seen = seek(reader, (target["start_ms"] + 20) / 1000)
    assert seen["lit"] == [said_at(words, seen["time"])] == [target["text"]], seen
    check_played(words, samples(reader, until=seen["time"] + 0.3))

    # pause: the button says so, and the word stays lit where the reading stopped
    button.click()
    assert button.get_attribute("aria-pressed") == "false"
    wait_until(reader, f"{AUDIO}.paused", timeout=5)
    stopped = reader.evaluate(f"{AUDIO}.currentTime")
    expected = said_at(words, stopped)
    lit_when = "[...document.querySelectorAll('#page-text .spoken')].map(s => s.textContent)"
    wait_until(
        reader, f"JSON.stringify({lit_when}) === '{json.dumps([expected] if expected else [])}'", 5
    )
    time.sleep(0.3)
    assert reader.evaluate(f"{AUDIO}.currentTime") == stopped

    # the keyboard works it too: Space on the focused button plays again
    button.focus()
    reader.keyboard.press("Space")
    assert button.get_attribute("aria-pressed") == "true"
    wait_until(reader, f"!{AUDIO}.paused && {AUDIO}.currentTime > {stopped}", timeout=5)
    reader.keyboard.press("Enter")
    assert button.get_attribute("aria-pressed") == "false"


def test_the_end_of_a_page_turns_to_the_next_which_is_read_on(reader: Any) -> None:
    counter = reader.locator("#page-counter")
    audio_ready(reader)
    read_aloud(reader).click()
    wait_until(reader, f"!{AUDIO}.paused", timeout=10)

    # page 1 ends: page 2 is shown and read from its start
    seek(reader, AUDIO_SECONDS - 0.25)
    wait_until(reader, "document.getElementById('page-counter').textContent === 'Page 2 of 3'")
    assert reader.evaluate(f"{AUDIO}.src") == AUDIO_URL.format(story=STORY_ID, page=2)
    wait_until(reader, f"!{AUDIO}.paused && {AUDIO}.currentTime > 0", timeout=10)
    assert reader.evaluate(f"{AUDIO}.currentTime") < 1.5
    assert read_aloud(reader).get_attribute("aria-pressed") == "true"
    assert reader.locator("#page-text span.word").all_inner_texts() == [
        w["text"] for w in word_timings(PAGES[1])
    ]
    assert len(reader.evaluate(LIT)) <= 1
    assert "page=2" in reader.url

    # turned by hand while reading: the new page is read from its start
    reader.keyboard.press("ArrowRight")
    assert counter.inner_text() == "Page 3 of 3"
    assert reader.evaluate(f"{AUDIO}.src") == AUDIO_URL.format(story=STORY_ID, page=3)
    wait_until(reader, f"!{AUDIO}.paused && {AUDIO}.currentTime > 0", timeout=10)
    assert reader.evaluate(f"{AUDIO}.currentTime") < 1.5
    assert read_aloud(reader).get_attribute("aria-pressed") == "true"

    # the last page ends: the reading stops there, nothing lit
    seek(reader, AUDIO_SECONDS - 0.25)
    wait_until(reader, f"{AUDIO}.ended", timeout=10)
    wait_until(reader, "document.getElementById('read-aloud').ariaPressed === 'false'", 5)
    assert counter.inner_text() == "Page 3 of 3"
    assert reader.evaluate(LIT) == []

    # turned by hand while paused: the new page's narration waits, from its start
    reader.keyboard.press("ArrowLeft")
    assert counter.inner_text() == "Page 2 of 3"
    assert reader.evaluate(f"{AUDIO}.src") == AUDIO_URL.format(story=STORY_ID, page=2)
    time.sleep(0.3)
    assert reader.evaluate(f"{AUDIO}.paused") and reader.evaluate(f"{AUDIO}.currentTime") == 0

    # leaving the story stops the narration
    read_aloud(reader).click()
    wait_until(reader, f"!{AUDIO}.paused", timeout=10)
    reader.get_by_role("button", name="All stories").click()
    # the list comes back on the hash's change, an event of its own
    wait_until(reader, "!document.getElementById('home-view').hidden", 5)
    assert reader.evaluate(f"{AUDIO}.paused")
    assert reader.evaluate(f"{AUDIO}.getAttribute('src')") is None
    time.sleep(0.3)
    assert reader.evaluate(f"{AUDIO}.paused")


def test_a_story_without_narration_has_no_read_along(
    browser: Any, reader_site: str, mp3: bytes
) -> None:
    context, opened, script_errors = open_reader(
        browser, reader_site, mp3, narrated_story(narration=False)
    )
    try:
        assert opened.locator("#read-along").is_hidden()
        assert opened.locator("#page-text").inner_text() == PAGES[0]
        assert opened.locator("#page-text span").count() == 0
        opened.keyboard.press("ArrowRight")
        assert opened.locator("#page-counter").inner_text() == "Page 2 of 3"
    finally:
        context.close()
    assert not script_errors, script_errors


def test_the_timings_made_up_here_are_as_the_api_gives_them() -> None:
    """Words in order, not overlapping, covering every word, offsets in code points."""
    for text in PAGES:
        words = word_timings(text)
        assert [w["text"] for w in words] == re.findall(r"\w+", text)
        assert all(text[w["char_start"] : w["char_end"]] == w["text"] for w in words)
        assert all(a["end_ms"] <= b["start_ms"] for a, b in pairwise(words))
    assert word_timings(PAGES[0])[0]["char_start"] == 2  # after "🐭 ": 3 in JavaScript
