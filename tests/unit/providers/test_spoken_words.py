"""A synthesizer's word marks tied to the page's own words."""

from __future__ import annotations

import pytest

from kidstory.providers.spoken_words import SpokenMark, page_words, word_timings


def texts(text: str, marks: list[SpokenMark], end_ms: int = 5000) -> list[tuple[str, int, int]]:
    return [
        (word.text, word.start_ms, word.end_ms) for word in word_timings(text, marks, end_ms=end_ms)
    ]


def test_the_words_of_a_page() -> None:
    text = "Don't go, Zoë! It\u2019s 3.5 km. שָׁלוֹם"
    assert [text[start:end] for start, end in page_words(text)] == [
        "Don't",
        "go",
        "Zoë",
        "It\u2019s",
        "3",
        "5",
        "km",
        "שָׁלוֹם",
    ]


def test_each_mark_times_its_word_until_the_next() -> None:
    marks = [SpokenMark(0, 0), SpokenMark(300, 4), SpokenMark(700, 8)]
    assert texts("The red fox.", marks, end_ms=1200) == [
        ("The", 0, 300),
        ("red", 300, 700),
        ("fox", 700, 1200),
    ]


def test_a_word_said_as_several_marks_is_one_timing() -> None:
    # eSpeak: "3.5" is "three", "point", "five", the last two marked at the "."
    marks = [SpokenMark(0, 0), SpokenMark(200, 4, 7), SpokenMark(500, 5), SpokenMark(800, 5)]
    assert texts("Ate 3.5 pies", [*marks, SpokenMark(1100, 8)], end_ms=1500) == [
        ("Ate", 0, 200),
        ("3.5", 200, 1100),
        ("pies", 1100, 1500),
    ]


def test_a_word_without_a_mark_goes_with_the_word_before() -> None:
    marks = [SpokenMark(0, 0), SpokenMark(250, 7), SpokenMark(600, 16)]
    assert texts("Pip is one of a kind", marks, end_ms=900) == [
        ("Pip is", 0, 250),
        ("one of a", 250, 600),
        ("kind", 600, 900),
    ]


def test_words_before_the_first_mark_go_with_it_and_marks_past_the_end_with_the_last() -> None:
    marks = [SpokenMark(100, 4), SpokenMark(400, 99)]
    assert texts("Oh, hello there", marks, end_ms=800) == [
        ("Oh, hello", 100, 400),
        ("there", 400, 800),
    ]


def test_a_clause_end_the_synthesizer_reports_ends_the_word() -> None:
    marks = [SpokenMark(0, 0, end_ms=400), SpokenMark(900, 5, end_ms=1300)]
    assert texts("Stop. Go", marks, end_ms=1500) == [("Stop", 0, 400), ("Go", 900, 1300)]


def test_no_timing_runs_past_the_end_or_backwards() -> None:
    marks = [SpokenMark(0, 0), SpokenMark(900, 2), SpokenMark(700, 4), SpokenMark(2000, 6)]
    assert texts("a b c d", marks, end_ms=1000) == [
        ("a", 0, 900),
        ("b", 900, 900),
        ("c", 900, 1000),
        ("d", 1000, 1000),
    ]


def test_a_page_without_words_has_no_timings_and_one_with_words_needs_marks() -> None:
    assert word_timings("... !", [SpokenMark(0, 0)], end_ms=100) == []
    with pytest.raises(ValueError, match="no word"):
        word_timings("Hello", [], end_ms=100)
