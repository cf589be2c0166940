"""What every narrated page must satisfy, whichever provider read it."""

from __future__ import annotations

import io
import itertools
import re

from mutagen.mp3 import MP3

from kidstory.providers.base import SpokenPage

# A word of a page: a maximal run of letters and digits, apostrophes allowed inside it.
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def page_words(text: str) -> list[re.Match[str]]:
    return list(WORD.finditer(text))


def check_words(text: str, page: SpokenPage) -> None:
    """Words in order and apart in time and text; every word of the text inside one timing's
    text; none past the end of the audio."""
    words = page.words
    for word in words:
        assert 0 <= word.start_ms <= word.end_ms, word
        assert 0 <= word.char_start < word.char_end <= len(text), word
        assert word.text in text[word.char_start : word.char_end], word
    for before, after in itertools.pairwise(words):
        assert before.end_ms <= after.start_ms, (before, after)
        assert before.char_end <= after.char_start, (before, after)
    for match in page_words(text):
        assert any(
            word.char_start <= match.start() and match.end() <= word.char_end for word in words
        ), f"{match.group()!r} at {match.start()} is in no timing"
    if words:
        assert words[-1].end_ms <= page.duration_ms


def mp3_seconds(audio: bytes) -> float:
    info = MP3(io.BytesIO(audio)).info
    assert info is not None
    return float(info.length)
