"""The offline narrator: real speech from eSpeak NG, real MP3s, word timings from eSpeak's own
word events, measured here against the audio itself."""

from __future__ import annotations

import io
import subprocess
from concurrent.futures import ThreadPoolExecutor

import imageio_ffmpeg
import pytest
from mutagen.mp3 import MP3

from kidstory.providers.base import SpokenPage
from kidstory.providers.errors import VoiceNotAvailable
from kidstory.providers.offline_narration import OfflineNarrator
from tests.unit.providers.narration_checks import WORD, check_words, mp3_seconds, page_words

ENGLISH = (
    "Once upon a time, a little fox named Pip lived at the edge of a quiet green wood. Every "
    "morning she ran down to the river to say hello to her friend, a slow old turtle called "
    "Moss. One day the river was gone! Pip and Moss followed the dry stones uphill, and there "
    "they found a beaver's dam, big and brand new."
)
GERMAN = (
    "Schöne Grüße, Jürgen! Das kleine Mädchen aß süße Äpfel unter dem großen Baum. Über der "
    "Wiese flogen bunte Schmetterlinge, und die Sonne lachte."
)
HEBREW_POINTED = "שָׁלוֹם, יֶלֶד קָטָן! הַחָתוּל יָשַׁן עַל הַמִּטָּה."
HEBREW = "שלום, ילד קטן! החתול ישן על המיטה."


PCM_OUT = ["-f", "s16le", "-ac", "1", "-ar", "22050", "pipe:1"]


def decoded_seconds(audio: bytes) -> float:
    """The MP3's length as ffmpeg decodes it: its samples, counted."""
    decoded = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", "pipe:0", *PCM_OUT],
        input=audio,
        capture_output=True,
        check=True,
    ).stdout
    return len(decoded) / 2 / 22050


def assert_heard_in_full(text: str, page: SpokenPage) -> None:
    """The invariants, every word of the page in the timings' texts in order (eSpeak says some
    pairs as one, such as "of a", and marks them once), and the audio as long as it says."""
    check_words(text, page)
    timed = [word for timing in page.words for word in WORD.findall(timing.text)]
    assert timed == [match.group() for match in page_words(text)]
    assert len(page.words) >= 0.9 * len(timed)
    for measured in (mp3_seconds(page.audio), decoded_seconds(page.audio)):
        assert abs(measured * 1000 - page.duration_ms) <= 0.05 * page.duration_ms
        assert page.words[-1].end_ms <= measured * 1000


def test_reads_an_english_page_word_by_word() -> None:
    page = OfflineNarrator().narrate(ENGLISH, language="en")

    assert page.content_type == "audio/mpeg"
    assert page.voice == "en-us"
    assert len(page_words(ENGLISH)) > 55
    assert_heard_in_full(ENGLISH, page)
    assert page.words[0].start_ms == 0
    info = MP3(io.BytesIO(page.audio)).info
    assert info is not None
    assert (info.sample_rate, info.channels, info.bitrate) == (22050, 1, 48000)
    assert 15_000 < page.duration_ms < 30_000  # about 60 words at 150 a minute, with pauses


def test_reads_a_german_page_with_character_offsets() -> None:
    page = OfflineNarrator().narrate(GERMAN, language="de")

    assert page.voice == "de"
    expected = page_words(GERMAN)
    assert [(word.char_start, word.char_end) for word in page.words] == [
        match.span() for match in expected
    ]
    assert [word.text for word in page.words][:3] == ["Schöne", "Grüße", "Jürgen"]
    assert_heard_in_full(GERMAN, page)


def test_the_timings_are_the_synthesizers_not_spread_evenly() -> None:
    page = OfflineNarrator().narrate(GERMAN, language="de")
    length = {word.text: word.end_ms - word.start_ms for word in page.words}

    assert length["Schmetterlinge"] > 2 * length["und"]
    assert len(set(length.values())) > len(length) // 2


def test_hebrew_with_vowel_points_is_read_as_fast_as_without() -> None:
    narrator = OfflineNarrator()
    pointed = narrator.narrate(HEBREW_POINTED, language="he")
    plain = narrator.narrate(HEBREW, language="he")

    assert pointed.voice == plain.voice == "he"
    assert len(pointed.words) == len(plain.words) == 7
    assert pointed.words[1].text == "יֶלֶד"
    assert abs(pointed.duration_ms - plain.duration_ms) < 0.2 * plain.duration_ms
    check_words(HEBREW_POINTED, pointed)


@pytest.mark.parametrize(
    ("language", "voice"),
    [("en", "en-us"), ("EN_us", "en-us"), ("en-GB", "en"), ("de-AT", "de"), ("pt-BR", "pt-br")],
)
def test_a_language_picks_an_espeak_voice(language: str, voice: str) -> None:
    assert OfflineNarrator().narrate("Hello.", language=language).voice == voice


def test_a_named_voice_is_used() -> None:
    assert OfflineNarrator().narrate("Hello.", language="en", voice="en-us+f3").voice == "en-us+f3"


def test_an_unknown_language_or_voice_is_refused() -> None:
    with pytest.raises(VoiceNotAvailable, match="'xx-ZZ'") as refused:
        OfflineNarrator().narrate("Hello.", language="xx-ZZ")
    assert refused.value.retryable is False
    with pytest.raises(VoiceNotAvailable, match="'robot-9'"):
        OfflineNarrator().narrate("Hello.", language="en", voice="robot-9")


def test_a_blank_page_is_not_read() -> None:
    with pytest.raises(ValueError, match="no text"):
        OfflineNarrator().narrate(" \n ", language="en")


def test_two_pages_read_at_once_both_come_out_whole() -> None:
    narrator = OfflineNarrator()
    alone = {text: narrator.narrate(text, language=language) for text, language in PAGES}
    with ThreadPoolExecutor(max_workers=4) as pool:
        read = list(pool.map(lambda page: narrator.narrate(page[0], language=page[1]), PAGES * 2))

    for (text, _), page in zip(PAGES * 2, read, strict=True):
        assert_heard_in_full(text, page)
        assert [word.text for word in page.words] == [word.text for word in alone[text].words]
        assert abs(page.duration_ms - alone[text].duration_ms) < 50


PAGES = [(ENGLISH, "en"), (GERMAN, "de")]
