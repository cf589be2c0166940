"""What the narration providers share: the words of a page, and the synthesizer's own word marks
turned into word timings on the page's text.

A synthesizer does not always see the words we see: eSpeak reads "3.5" as three words, "12,000"
as two that both point into "12", and Polly may leave a token without a mark of its own. So each
mark is tied to the page word it starts in (or the next one), marks that fall in the same page
word are read as one timing (from the first mark's start), and a page word that no mark starts
in is read with the word before it. Every page word thus lies inside one timing's text, the
timings follow each other in the text and in time, and no time is made up: a timing starts when
its first mark starts and ends when the synthesizer says it ended (a clause's end, when it says
so) or when the next timing starts, whichever comes first.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from kidstory.models import WordTiming

_APOSTROPHES = frozenset("'\u2019")


def page_words(text: str) -> list[tuple[int, int]]:
    """The (start, end) character spans of the page's words: maximal runs of letters and digits,
    with the marks written on them (Hebrew points, Arabic vowel signs) and apostrophes inside a
    word ("don't"). Scripts written without spaces (Chinese, Japanese, Thai) give one word per
    run between punctuation."""
    spans: list[tuple[int, int]] = []
    size = len(text)
    index = 0
    while index < size:
        if not text[index].isalnum():
            index += 1
            continue
        start = index
        index += 1
        while index < size:
            character = text[index]
            if character.isalnum() or unicodedata.category(character).startswith("M"):
                index += 1
            elif character in _APOSTROPHES and index + 1 < size and text[index + 1].isalnum():
                index += 2
            else:
                break
        spans.append((start, index))
    return spans


@dataclass(frozen=True)
class SpokenMark:
    """One word as the synthesizer reported it: when it starts, where in the page's text it
    starts (a character offset) and, when the synthesizer says, where it ends and when it ends."""

    start_ms: int
    char_start: int
    char_end: int | None = None
    end_ms: int | None = None


@dataclass
class _Timing:
    first: int  # index of its first page word
    last: int  # index of its last page word
    start_ms: int
    end_ms: int | None


def word_timings(text: str, marks: Sequence[SpokenMark], *, end_ms: int) -> list[WordTiming]:
    """The page's word timings from the synthesizer's marks, in the order it spoke them.
    `end_ms` is when the speech ends (no timing runs past it). A page with no words has no
    timings; a page with words needs at least one mark (ValueError otherwise)."""
    words = page_words(text)
    if not words:
        return []
    if not marks:
        raise ValueError("the synthesizer marked no word of a page that has words")
    starts = [start for start, _ in words]
    ends = [end for _, end in words]
    last_word = len(words) - 1
    timings: list[_Timing] = []
    for mark in marks:
        first = min(bisect.bisect_right(ends, max(mark.char_start, 0)), last_word)
        last = first
        if mark.char_end is not None and mark.char_end > mark.char_start:
            last = max(first, bisect.bisect_left(starts, mark.char_end) - 1)
        start_ms = min(max(mark.start_ms, 0), end_ms)
        if timings and first <= timings[-1].last:
            current = timings[-1]
            current.last = max(current.last, last)
            current.end_ms = mark.end_ms
            continue
        if timings:
            timings[-1].last = first - 1
            start_ms = max(start_ms, timings[-1].start_ms)
        else:
            first = 0
        timings.append(_Timing(first, last, start_ms, mark.end_ms))
    timings[-1].last = last_word
    result: list[WordTiming] = []
    for position, timing in enumerate(timings):
        following = timings[position + 1].start_ms if position + 1 < len(timings) else end_ms
        said_end = following if timing.end_ms is None else min(timing.end_ms, following)
        char_start, char_end = words[timing.first][0], words[timing.last][1]
        result.append(
            WordTiming(
                text=text[char_start:char_end],
                start_ms=timing.start_ms,
                end_ms=max(timing.start_ms, said_end),
                char_start=char_start,
                char_end=char_end,
            )
        )
    return result
