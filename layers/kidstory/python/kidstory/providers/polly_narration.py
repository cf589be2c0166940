"""Narration by Amazon Polly (SynthesizeSpeech), with Polly's own word marks.

Two calls per page, with the same text, voice and engine: one for the MP3, one for the word
speech marks (OutputFormat "json", SpeechMarkTypes ["word"]), JSON lines such as

    {"time": 370, "type": "word", "start": 5, "end": 9, "value": "Grüße"}

where `time` is milliseconds into the audio and `start`/`end` are byte offsets into the UTF-8
text, turned here into character offsets. A word starts at its mark's time and ends when the
next word starts; the last word ends with the audio, whose length is read from the MP3 itself.

Engines: "neural" (the default) and "standard". Polly gives speech marks for neural, long-form
and standard voices, not for generative ones, so a narrator cannot be made with "generative"
(ValueError): its words could not be timed. No API key: the function's role needs
polly:SynthesizeSpeech.

Voices: the voice given to `narrate`, else the narrator's default voice, else the first voice
of the language's list below that the engine has (the voice data of Polly's DescribeVoices). A
language Polly has no voice for (Hebrew has none), or none on the engine, raises
VoiceNotAvailable (a ProviderError: not retried) naming the language, unless a voice is given.
"""

from __future__ import annotations

import bisect
import io
import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
)

from kidstory import usage
from kidstory.providers.aws_calls import aws_client, aws_error
from kidstory.providers.base import SpokenPage
from kidstory.providers.errors import (
    ProviderError,
    VoiceNotAvailable,
)
from kidstory.providers.spoken_words import SpokenMark, word_timings

CONTENT_TYPE = "audio/mpeg"
ENGINES = ("neural", "standard")
_THROTTLED = {"ThrottlingException", "TooManyRequestsException", "Throttling"}
_UNAVAILABLE = {"ServiceFailureException", "ServiceUnavailableException", "InternalFailure"}


@dataclass(frozen=True)
class _Voice:
    language_code: str  # the voice's own language
    engines: frozenset[str]
    also_speaks: frozenset[str] = frozenset()  # a bilingual voice's other language codes


_NEURAL = frozenset({"neural"})
_STANDARD = frozenset({"standard"})
_BOTH = frozenset({"neural", "standard"})

_VOICES: dict[str, _Voice] = {
    "Ivy": _Voice("en-US", _BOTH),  # a child's voice
    "Kevin": _Voice("en-US", _NEURAL),  # a child's voice
    "Joanna": _Voice("en-US", _BOTH),
    "Amy": _Voice("en-GB", _BOTH),
    "Olivia": _Voice("en-AU", _NEURAL),
    "Nicole": _Voice("en-AU", _STANDARD),
    "Kajal": _Voice("en-IN", _NEURAL, frozenset({"hi-IN"})),
    "Aditi": _Voice("en-IN", _STANDARD, frozenset({"hi-IN"})),
    "Raveena": _Voice("en-IN", _STANDARD),
    "Niamh": _Voice("en-IE", _NEURAL),
    "Aria": _Voice("en-NZ", _NEURAL),
    "Ayanda": _Voice("en-ZA", _NEURAL),
    "Geraint": _Voice("en-GB-WLS", _STANDARD),
    "Vicki": _Voice("de-DE", _BOTH),
    "Hannah": _Voice("de-AT", _NEURAL),
    "Sabrina": _Voice("de-CH", _NEURAL),
    "Lucia": _Voice("es-ES", _BOTH),
    "Mia": _Voice("es-MX", _BOTH),
    "Lupe": _Voice("es-US", _BOTH),
    "Lea": _Voice("fr-FR", _BOTH),
    "Gabrielle": _Voice("fr-CA", _NEURAL),
    "Chantal": _Voice("fr-CA", _STANDARD),
    "Isabelle": _Voice("fr-BE", _NEURAL),
    "Bianca": _Voice("it-IT", _BOTH),
    "Ines": _Voice("pt-PT", _BOTH),
    "Camila": _Voice("pt-BR", _BOTH),
    "Laura": _Voice("nl-NL", _NEURAL),
    "Lotte": _Voice("nl-NL", _STANDARD),
    "Lisa": _Voice("nl-BE", _NEURAL),
    "Hala": _Voice("ar-AE", _NEURAL, frozenset({"arb"})),
    "Zeina": _Voice("arb", _STANDARD),
    "Zhiyu": _Voice("cmn-CN", _BOTH),
    "Hiujin": _Voice("yue-CN", _NEURAL),
    "Kazuha": _Voice("ja-JP", _NEURAL),
    "Mizuki": _Voice("ja-JP", _STANDARD),
    "Seoyeon": _Voice("ko-KR", _BOTH),
    "Sofie": _Voice("da-DK", _NEURAL),
    "Naja": _Voice("da-DK", _STANDARD),
    "Elin": _Voice("sv-SE", _NEURAL),
    "Astrid": _Voice("sv-SE", _STANDARD),
    "Ida": _Voice("nb-NO", _NEURAL),
    "Liv": _Voice("nb-NO", _STANDARD),
    "Suvi": _Voice("fi-FI", _NEURAL),
    "Ola": _Voice("pl-PL", _NEURAL),
    "Ewa": _Voice("pl-PL", _STANDARD),
    "Burcu": _Voice("tr-TR", _NEURAL),
    "Filiz": _Voice("tr-TR", _STANDARD),
    "Tatyana": _Voice("ru-RU", _STANDARD),
    "Arlet": _Voice("ca-ES", _NEURAL),
    "Jitka": _Voice("cs-CZ", _NEURAL),
    "Dora": _Voice("is-IS", _STANDARD),
    "Carmen": _Voice("ro-RO", _STANDARD),
    "Gwyneth": _Voice("cy-GB", _STANDARD),
}

# A BCP 47 language (lower case) → Polly's language code and its voices, the first the engine
# has being the default. "ar" is Modern Standard Arabic (arb), read by Hala, who speaks it as
# well as Gulf Arabic, on the neural engine. No Hebrew: Polly has no Hebrew voice.
_LANGUAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "en": ("en-US", ("Ivy", "Kevin", "Joanna")),
    "en-us": ("en-US", ("Ivy", "Kevin", "Joanna")),
    "en-gb": ("en-GB", ("Amy",)),
    "en-au": ("en-AU", ("Olivia", "Nicole")),
    "en-in": ("en-IN", ("Kajal", "Raveena")),
    "en-ie": ("en-IE", ("Niamh",)),
    "en-nz": ("en-NZ", ("Aria",)),
    "en-za": ("en-ZA", ("Ayanda",)),
    "hi": ("hi-IN", ("Kajal", "Aditi")),
    "de": ("de-DE", ("Vicki",)),
    "de-at": ("de-AT", ("Hannah", "Vicki")),
    "de-ch": ("de-CH", ("Sabrina", "Vicki")),
    "es": ("es-ES", ("Lucia",)),
    "es-mx": ("es-MX", ("Mia",)),
    "es-419": ("es-MX", ("Mia",)),
    "es-us": ("es-US", ("Lupe",)),
    "fr": ("fr-FR", ("Lea",)),
    "fr-ca": ("fr-CA", ("Gabrielle", "Chantal")),
    "fr-be": ("fr-BE", ("Isabelle", "Lea")),
    "it": ("it-IT", ("Bianca",)),
    "pt": ("pt-PT", ("Ines",)),
    "pt-br": ("pt-BR", ("Camila",)),
    "nl": ("nl-NL", ("Laura", "Lotte")),
    "nl-be": ("nl-BE", ("Lisa", "Lotte")),
    "ar": ("arb", ("Hala", "Zeina")),
    "ar-ae": ("ar-AE", ("Hala",)),
    "zh": ("cmn-CN", ("Zhiyu",)),
    "cmn": ("cmn-CN", ("Zhiyu",)),
    "yue": ("yue-CN", ("Hiujin",)),
    "ja": ("ja-JP", ("Kazuha", "Mizuki")),
    "ko": ("ko-KR", ("Seoyeon",)),
    "da": ("da-DK", ("Sofie", "Naja")),
    "sv": ("sv-SE", ("Elin", "Astrid")),
    "nb": ("nb-NO", ("Ida", "Liv")),
    "no": ("nb-NO", ("Ida", "Liv")),
    "fi": ("fi-FI", ("Suvi",)),
    "pl": ("pl-PL", ("Ola", "Ewa")),
    "tr": ("tr-TR", ("Burcu", "Filiz")),
    "ru": ("ru-RU", ("Tatyana",)),
    "ca": ("ca-ES", ("Arlet",)),
    "cs": ("cs-CZ", ("Jitka",)),
    "is": ("is-IS", ("Dora",)),
    "ro": ("ro-RO", ("Carmen",)),
    "cy": ("cy-GB", ("Gwyneth",)),
}


def polly_client(region: str | None, timeout_seconds: float) -> Any:
    """A Polly client that gives up after `timeout_seconds`. It tries a call twice at most (a
    page takes two calls, and a blip on the second should not waste the first); the state
    machine retries throttling and outages beyond that with its own back-off."""
    return aws_client("polly", region, timeout_seconds=timeout_seconds, attempts=2)


def _language(language: str) -> tuple[str, tuple[str, ...]] | None:
    """The table's entry for a BCP 47 tag, or for the tag less its last subtags."""
    subtags = language.strip().lower().replace("_", "-").split("-")
    for count in range(len(subtags), 0, -1):
        entry = _LANGUAGES.get("-".join(subtags[:count]))
        if entry:
            return entry
    return None


class _CharacterOffsets:
    """Byte offsets into a text's UTF-8 → character offsets into the text."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        for character in text:
            self._starts.append(self._starts[-1] + len(character.encode("utf-8", "replace")))

    def at_or_before(self, byte: int) -> int:
        """The character a byte offset falls in (its start, for a word's start)."""
        return max(bisect.bisect_right(self._starts, byte) - 1, 0)

    def at_or_after(self, byte: int) -> int:
        """The first character boundary at or after a byte offset (for a word's end)."""
        return min(bisect.bisect_left(self._starts, byte), len(self._starts) - 1)


def mp3_duration_ms(audio: bytes) -> int:
    """The MP3's length, read from its frames (mutagen)."""
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    try:
        info = MP3(io.BytesIO(audio)).info
    except MutagenError as error:
        raise ProviderError(f"Polly sent audio that is not a readable MP3: {error}") from error
    if info is None:
        raise ProviderError("Polly sent audio that is not a readable MP3")
    return round(info.length * 1000)


class PollyNarrator:
    name = "polly"

    def __init__(self, client: Any, *, engine: str = "neural", voice: str | None = None) -> None:
        if engine not in ENGINES:
            raise ValueError(
                f"Polly engine {engine!r} cannot narrate: word timings (speech marks) come only"
                f" with {' or '.join(ENGINES)} voices"
            )
        self.model = engine
        self._client = client
        self._engine = engine
        self._voice = voice

    def narrate(self, text: str, *, language: str, voice: str | None = None) -> SpokenPage:
        if not text.strip():
            raise ValueError("the page has no text to read")
        voice_id, language_code = self._voice_for(language, voice or self._voice)
        request: dict[str, Any] = {
            "Text": text,
            "TextType": "text",
            "VoiceId": voice_id,
            "Engine": self._engine,
        }
        if language_code:
            request["LanguageCode"] = language_code
        # each request is billed by the characters it reads: the audio, then its word marks
        audio = self._synthesize(request, OutputFormat="mp3")
        usage.report(self.name, self.model, usage.CHARACTERS, len(text), f"{voice_id} audio")
        marks_stream = self._synthesize(request, OutputFormat="json", SpeechMarkTypes=["word"])
        usage.report(self.name, self.model, usage.CHARACTERS, len(text), f"{voice_id} marks")
        duration_ms = mp3_duration_ms(audio)
        marks = _word_marks(marks_stream, text)
        if not marks and any(character.isalnum() for character in text):
            raise ProviderError(f"Polly sent no word marks for the page ({voice_id})")
        words = word_timings(text, marks, end_ms=duration_ms) if marks else []
        return SpokenPage(
            audio=audio,
            content_type=CONTENT_TYPE,
            duration_ms=duration_ms,
            words=words,
            voice=voice_id,
        )

    def _voice_for(self, language: str, voice: str | None) -> tuple[str, str | None]:
        """The voice, and the LanguageCode to send: only for a bilingual voice reading its other
        language (Hala reading Modern Standard Arabic, Kajal Hindi)."""
        entry = _language(language)
        language_code = entry[0] if entry else None
        if voice is None:
            if entry is None:
                raise VoiceNotAvailable(
                    f"Polly has no voice for the language {language!r}; name a voice to use one"
                )
            choices = [name for name in entry[1] if self._engine in _VOICES[name].engines]
            if not choices:
                raise VoiceNotAvailable(
                    f"Polly has no {self._engine} voice for the language {language!r}; name a"
                    " voice or use another engine"
                )
            voice = choices[0]
        known = _VOICES.get(voice)
        if known and language_code and language_code in known.also_speaks:
            return voice, language_code
        return voice, None

    def _synthesize(self, request: dict[str, Any], **output: Any) -> bytes:
        try:
            response = self._client.synthesize_speech(**request, **output)
            stream = response["AudioStream"]
            try:
                return bytes(stream.read())
            finally:
                stream.close()
        except (ClientError, BotoCoreError) as error:
            raise polly_error(error) from error


def _word_marks(stream: bytes, text: str) -> list[SpokenMark]:
    """Polly's word marks (JSON lines), on the page's character offsets."""
    offsets = _CharacterOffsets(text)
    marks: list[SpokenMark] = []
    try:
        lines = stream.decode("utf-8").splitlines()
        for line in lines:
            if not line.strip():
                continue
            mark = json.loads(line)
            if mark.get("type") != "word":
                continue
            marks.append(
                SpokenMark(
                    start_ms=int(mark["time"]),
                    char_start=offsets.at_or_before(int(mark["start"])),
                    char_end=offsets.at_or_after(int(mark["end"])),
                )
            )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise ProviderError(f"Polly sent speech marks that could not be read: {error}") from error
    return marks


def polly_error(error: ClientError | BotoCoreError) -> ProviderError:
    """Our error for a Polly (botocore) error: throttling, outages and timeouts are retried;
    a text too long, a language or engine the voice does not have, and the like, are not."""
    return aws_error("Polly", error, throttled=_THROTTLED, unavailable=_UNAVAILABLE)
