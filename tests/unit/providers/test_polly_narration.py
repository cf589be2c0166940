"""The Polly narrator on a real polly client under botocore's Stubber: the two calls it makes,
Polly's byte offsets read as character offsets, the length read from the MP3, the voices it
picks, and how Polly's errors come out."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import Stubber
from moto.polly.resources import VOICE_DATA

from kidstory.providers.errors import (
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
    VoiceNotAvailable,
)
from kidstory.providers.polly_narration import (
    _LANGUAGES,
    _VOICES,
    PollyNarrator,
    polly_client,
)
from tests.audio import tone_mp3
from tests.unit.providers.narration_checks import check_words, mp3_seconds, page_words

GERMAN = "Schöne Grüße, Jürgen! Das Mädchen aß süße Äpfel."
HEBREW = "שָׁלוֹם, יֶלֶד קָטָן! הַחָתוּל יָשַׁן עַל הַמִּטָּה."
ENGLISH = "Pip found a shiny red key."


def stream(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


# A word as Polly marks it: what stands between spaces and punctuation, points and all.
POLLY_WORD = re.compile(r"[^\s.,!?;:]+")


def word_marks(text: str, times: list[int]) -> bytes:
    """Polly's word marks for `text`: one per word, `start`/`end` in UTF-8 bytes."""
    words = list(POLLY_WORD.finditer(text))
    assert len(words) == len(times)
    lines = []
    for word, time in zip(words, times, strict=True):
        start = len(text[: word.start()].encode())
        end = start + len(word.group().encode())
        lines.append(
            json.dumps(
                {"time": time, "type": "word", "start": start, "end": end, "value": word.group()},
                ensure_ascii=False,
            )
        )
    return "\n".join(lines).encode() + b"\n"


class Polly:
    """A real polly client whose answers are stubbed, in order."""

    def __init__(self) -> None:
        self.client = polly_client("us-east-1", 30)
        self.stubber = Stubber(self.client)

    def answers(
        self, expected: dict[str, Any], *, audio: bytes, marks: bytes, characters: int = 0
    ) -> None:
        self.stubber.add_response(
            "synthesize_speech",
            {"AudioStream": stream(audio), "ContentType": "audio/mpeg"},
            {**expected, "OutputFormat": "mp3"},
        )
        self.stubber.add_response(
            "synthesize_speech",
            {
                "AudioStream": stream(marks),
                "ContentType": "application/x-json-stream",
                "RequestCharacters": characters,
            },
            {**expected, "OutputFormat": "json", "SpeechMarkTypes": ["word"]},
        )

    def fails(self, code: str, status: int, message: str = "") -> None:
        self.stubber.add_client_error(
            "synthesize_speech",
            service_error_code=code,
            service_message=message or f"{code} from the test",
            http_status_code=status,
        )

    def __enter__(self) -> Polly:
        self.stubber.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stubber.deactivate()


def test_reads_a_german_page_in_two_calls_with_character_offsets() -> None:
    audio = tone_mp3(3.0)
    times = [0, 420, 900, 1500, 1800, 2100, 2300, 2800]
    with Polly() as polly:
        polly.answers(
            {"Text": GERMAN, "TextType": "text", "VoiceId": "Vicki", "Engine": "neural"},
            audio=audio,
            marks=word_marks(GERMAN, times),
        )
        page = PollyNarrator(polly.client).narrate(GERMAN, language="de")
        polly.stubber.assert_no_pending_responses()

    assert page.audio == audio
    assert page.content_type == "audio/mpeg"
    assert page.voice == "Vicki"
    assert [word.text for word in page.words] == [
        "Schöne",
        "Grüße",
        "Jürgen",
        "Das",
        "Mädchen",
        "aß",
        "süße",
        "Äpfel",
    ]
    expected = page_words(GERMAN)
    assert [(word.char_start, word.char_end) for word in page.words] == [
        match.span() for match in expected
    ]
    assert [GERMAN[word.char_start : word.char_end] for word in page.words] == [
        match.group() for match in expected
    ]
    assert [word.start_ms for word in page.words] == times
    assert [word.end_ms for word in page.words] == [*times[1:], page.duration_ms]
    check_words(GERMAN, page)


def test_the_length_is_the_mp3s_own() -> None:
    audio = tone_mp3(2.5)
    with Polly() as polly:
        polly.answers(
            {"Text": ENGLISH, "TextType": "text", "VoiceId": "Ivy", "Engine": "neural"},
            audio=audio,
            marks=word_marks(ENGLISH, [0, 200, 500, 600, 900, 1200]),
        )
        page = PollyNarrator(polly.client).narrate(ENGLISH, language="en")

    assert page.duration_ms == round(mp3_seconds(audio) * 1000)
    assert abs(page.duration_ms - 2500) < 2500 * 0.05  # the tone, plus the encoder's padding
    assert page.words[-1].end_ms == page.duration_ms


def test_a_hebrew_page_with_a_named_voice_has_its_offsets_in_characters() -> None:
    audio = tone_mp3(4.0)
    times = [0, 600, 1000, 1500, 2100, 2600, 2900]
    with Polly() as polly:
        polly.answers(
            {"Text": HEBREW, "TextType": "text", "VoiceId": "Joanna", "Engine": "neural"},
            audio=audio,
            marks=word_marks(HEBREW, times),
        )
        page = PollyNarrator(polly.client).narrate(HEBREW, language="he", voice="Joanna")

    expected = list(POLLY_WORD.finditer(HEBREW))
    assert [(word.char_start, word.char_end) for word in page.words] == [
        match.span() for match in expected
    ]
    assert page.words[1].text == "יֶלֶד"
    assert page.voice == "Joanna"
    check_words(HEBREW, page)


def test_hebrew_without_a_voice_is_refused_before_any_call() -> None:
    with Polly() as polly:
        with pytest.raises(VoiceNotAvailable, match="'he'") as refused:
            PollyNarrator(polly.client).narrate(HEBREW, language="he")
        polly.stubber.assert_no_pending_responses()

    assert refused.value.retryable is False


def test_a_word_polly_does_not_mark_is_read_with_the_word_before_it() -> None:
    text = "It cost 12,000 coins."
    marks = "\n".join(
        json.dumps(mark)
        for mark in [
            {"time": 0, "type": "word", "start": 0, "end": 2, "value": "It"},
            {"time": 150, "type": "word", "start": 3, "end": 7, "value": "cost"},
            {"time": 400, "type": "word", "start": 8, "end": 10, "value": "12"},
            {"time": 1300, "type": "word", "start": 15, "end": 20, "value": "coins"},
        ]
    ).encode()
    with Polly() as polly:
        polly.answers(
            {"Text": text, "TextType": "text", "VoiceId": "Ivy", "Engine": "neural"},
            audio=tone_mp3(2.0),
            marks=marks,
        )
        page = PollyNarrator(polly.client).narrate(text, language="en-US")

    assert [word.text for word in page.words] == ["It", "cost", "12,000", "coins"]
    assert page.words[2].start_ms == 400
    assert page.words[2].end_ms == 1300
    check_words(text, page)


@pytest.mark.parametrize(
    ("language", "engine", "voice", "language_code"),
    [
        ("en", "neural", "Ivy", None),
        ("en-GB", "neural", "Amy", None),
        ("de", "neural", "Vicki", None),
        ("es", "neural", "Lucia", None),
        ("fr", "neural", "Lea", None),
        ("it", "neural", "Bianca", None),
        ("ar", "neural", "Hala", "arb"),  # Modern Standard Arabic, from a Gulf Arabic voice
        ("ar", "standard", "Zeina", None),
        ("hi", "neural", "Kajal", "hi-IN"),
        ("pt-BR", "standard", "Camila", None),
        ("de-AT", "standard", "Vicki", None),
    ],
)
def test_the_default_voice_of_a_language(
    language: str, engine: str, voice: str, language_code: str | None
) -> None:
    expected: dict[str, Any] = {
        "Text": ENGLISH,
        "TextType": "text",
        "VoiceId": voice,
        "Engine": engine,
    }
    if language_code:
        expected["LanguageCode"] = language_code
    with Polly() as polly:
        polly.answers(expected, audio=tone_mp3(1.0), marks=word_marks(ENGLISH, [0] * 6))
        page = PollyNarrator(polly.client, engine=engine).narrate(ENGLISH, language=language)
        polly.stubber.assert_no_pending_responses()

    assert page.voice == voice


def test_a_voice_given_to_the_narrator_or_the_page_wins() -> None:
    with Polly() as polly:
        for voice in ("Kevin", "Joanna"):
            polly.answers(
                {"Text": ENGLISH, "TextType": "text", "VoiceId": voice, "Engine": "neural"},
                audio=tone_mp3(1.0),
                marks=word_marks(ENGLISH, [0, 1, 2, 3, 4, 5]),
            )
        narrator = PollyNarrator(polly.client, voice="Kevin")
        assert narrator.narrate(ENGLISH, language="en").voice == "Kevin"
        assert narrator.narrate(ENGLISH, language="en", voice="Joanna").voice == "Joanna"


def test_a_language_without_a_voice_on_the_engine_is_refused() -> None:
    with pytest.raises(VoiceNotAvailable, match="neural voice for the language 'ru'"):
        PollyNarrator(polly_client("us-east-1", 30)).narrate("Привет", language="ru")


def test_generative_voices_cannot_narrate_for_they_give_no_word_marks() -> None:
    with pytest.raises(ValueError, match="speech marks"):
        PollyNarrator(polly_client("us-east-1", 30), engine="generative")


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("ThrottlingException", 400, ProviderThrottled),
        ("ServiceFailureException", 500, ProviderUnavailable),
        ("ServiceUnavailableException", 503, ProviderUnavailable),
        ("TextLengthExceededException", 400, ProviderError),
        ("InvalidSsmlException", 400, ProviderError),
        ("LanguageNotSupportedException", 400, ProviderError),
        ("EngineNotSupportedException", 400, ProviderError),
        ("ValidationException", 400, ProviderError),
    ],
)
def test_polly_errors_become_ours(code: str, status: int, kind: type[ProviderError]) -> None:
    with Polly() as polly:
        polly.fails(code, status)
        with pytest.raises(ProviderError) as raised:
            PollyNarrator(polly.client).narrate(ENGLISH, language="en")

    assert type(raised.value) is kind
    assert raised.value.retryable is (kind is not ProviderError)
    assert code in str(raised.value)


def test_throttling_on_the_marks_call_is_retryable_too() -> None:
    with Polly() as polly:
        polly.stubber.add_response(
            "synthesize_speech", {"AudioStream": stream(tone_mp3(1.0))}, None
        )
        polly.fails("ThrottlingException", 400, "Rate exceeded")
        with pytest.raises(ProviderThrottled, match="Rate exceeded") as raised:
            PollyNarrator(polly.client).narrate(ENGLISH, language="en")

    assert raised.value.retryable


def test_a_read_timeout_is_tried_once_more_then_retryable() -> None:
    polly = Polly()
    attempts: list[str] = []

    def too_slow(**_: Any) -> None:
        attempts.append("sent")
        raise ReadTimeoutError(endpoint_url="https://polly.us-east-1.amazonaws.com")

    polly.client.meta.events.register("before-send.polly.SynthesizeSpeech", too_slow)
    with pytest.raises(ProviderTimeout):
        PollyNarrator(polly.client).narrate(ENGLISH, language="en")

    assert len(attempts) == 2


def test_audio_that_is_not_mp3_is_an_error() -> None:
    with Polly() as polly:
        polly.answers(
            {"Text": ENGLISH, "TextType": "text", "VoiceId": "Ivy", "Engine": "neural"},
            audio=b"not an mp3 at all" * 20,
            marks=word_marks(ENGLISH, [0] * 6),
        )
        with pytest.raises(ProviderError, match="MP3"):
            PollyNarrator(polly.client).narrate(ENGLISH, language="en")


def test_the_client_gives_up_in_time_and_retries_little() -> None:
    config = polly_client("eu-west-1", 25).meta.config

    assert config.read_timeout == 25
    assert config.connect_timeout == 10
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}


def test_the_voice_table_matches_pollys_voices() -> None:
    """Against the voices Polly's DescribeVoices lists (moto keeps a copy of its answer)."""
    described = {voice["Id"]: voice for voice in VOICE_DATA}
    for name, voice in _VOICES.items():
        polly_voice = described[name]
        assert polly_voice["LanguageCode"] == voice.language_code, name
        assert voice.engines <= set(polly_voice["SupportedEngines"]), name
        assert voice.also_speaks <= set(polly_voice.get("AdditionalLanguageCodes") or []), name
    for language, (code, voices) in _LANGUAGES.items():
        base = code.split("-")[0]
        for name in voices:
            voice = _VOICES[name]
            assert voice.language_code.split("-")[0] == base or code in voice.also_speaks, (
                language,
                name,
            )
    assert not any(str(voice["LanguageCode"]).startswith("he") for voice in VOICE_DATA)
