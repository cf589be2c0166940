"""Narration without a network: eSpeak NG reads the page, LAME makes it an MP3.

eSpeak NG comes with the `espeakng-loader` wheel (the library and its data; Linux x86_64 and
aarch64) and is driven through its C API (speak_lib.h) with ctypes, in synchronous retrieval
mode: the audio (16-bit mono PCM at the rate espeak_Initialize reports, 22050 Hz) and the events
come back through the callback before espeak_Synth returns. Word events are always sent; no
flag asks for them.

What eSpeak reports, as checked on this build (1.52): an espeakEVENT_WORD's `text_position` is
1-based and counts characters (code points) of the UTF-8 text, not bytes ("Grüße" in "Schöne
Grüße" is at 8); `length` counts characters too but is loose (0 next to a dash, "it" for
"it's", "12," for "12,000"); `audio_position` is milliseconds from the start of the speech. Each
clause ends with an espeakEVENT_END at the position where the next clause starts, the last one
at the end of the audio. So a word starts at its event's `audio_position` and ends where the
next word starts or where eSpeak ends its clause; kidstory.providers.spoken_words ties the
events to the page's words.

eSpeak keeps its state in globals and is not thread-safe: it is started once per process, on the
first page, and reads one page at a time (a process-wide lock).

Voices: `language` is a BCP 47 tag, matched against the languages of eSpeak's own voices ("en"
reads as American English, "en-GB" British, "de", "es", "fr", "he", "ar", ...; a region eSpeak
does not know falls back to the language). A language with no eSpeak voice raises
VoiceNotAvailable (a ProviderError: not retried). `voice`, when given, is an eSpeak voice name
("en-us", "de", "en-us+f3" for a variant); one eSpeak does not have raises VoiceNotAvailable too.
The speaking rate is 150 words a minute, a little slower than eSpeak's 175, for young listeners.

The MP3 is mono, 48 kb/s, at eSpeak's rate. `duration_ms` is the PCM's length; the MP3 decodes
about 75 ms longer, its first 50 ms (LAME's 1105 samples of encoder and decoder delay, which the
stream carries no tag to trim) coming before the speech the timings count from.
"""

from __future__ import annotations

import ctypes
import threading
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from kidstory import usage
from kidstory.providers.base import SpokenPage
from kidstory.providers.errors import ProviderError, VoiceNotAvailable
from kidstory.providers.spoken_words import SpokenMark, word_timings

CONTENT_TYPE = "audio/mpeg"
WORDS_PER_MINUTE = 150
BITRATE_KBPS = 48
_LAME_QUALITY = 2  # 2 is LAME's best, 7 its fastest; speech at 48 kb/s encodes fast either way

# speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report missing data instead of exiting the process
_BUFFER_MS = 200
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_RATE = 1
_EE_OK = 0
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_EVENT_END = 5
_EVENT_MSG_TERMINATED = 6
_ENDS = (_EVENT_END, _EVENT_MSG_TERMINATED)

# eSpeak's "en" is British; the offline narrator reads "en" as Polly does, American.
_PREFERRED_VOICES = {"en": "gmw/en-US"}


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class _Heard:
    type: int
    text_position: int
    length: int
    audio_position: int


def _voice_name(identifier: str) -> str:
    """The name eSpeak knows a voice by: "gmw/en-US" is "en-us"."""
    return identifier.rsplit("/", 1)[-1].lower()


def _languages(raw: int | None) -> list[tuple[int, str]]:
    """An espeak_VOICE's `languages`: (priority byte, language name, NUL) repeated, then NUL."""
    found: list[tuple[int, str]] = []
    if not raw:
        return found
    offset = 0
    while (priority := ctypes.c_ubyte.from_address(raw + offset).value) != 0:
        name = ctypes.string_at(raw + offset + 1)
        found.append((priority, name.decode("ascii", "replace").lower()))
        offset += len(name) + 2
    return found


class _Espeak:
    """libespeak-ng, started once per process; use it only while holding `_LOCK`."""

    def __init__(self) -> None:
        try:
            import espeakng_loader

            library = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
        except (ImportError, OSError, RuntimeError) as error:
            raise ProviderError(f"eSpeak NG is not installed: {error}") from error
        library.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        library.espeak_Initialize.restype = ctypes.c_int
        library.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        library.espeak_SetSynthCallback.restype = None
        library.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        library.espeak_SetVoiceByName.restype = ctypes.c_int
        library.espeak_GetCurrentVoice.argtypes = []
        library.espeak_GetCurrentVoice.restype = ctypes.POINTER(_Voice)
        library.espeak_ListVoices.argtypes = [ctypes.POINTER(_Voice)]
        library.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        library.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        library.espeak_SetParameter.restype = ctypes.c_int
        library.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        library.espeak_Synth.restype = ctypes.c_int
        sample_rate = library.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if sample_rate <= 0:
            raise ProviderError(f"eSpeak NG could not start (data at {data_path})")
        self.sample_rate: int = sample_rate
        self._library = library
        self._pcm: list[bytes] = []
        self._heard: list[_Heard] = []
        self._callback = _SynthCallback(self._receive)  # kept: eSpeak holds only the pointer
        library.espeak_SetSynthCallback(self._callback)
        self._voices = self._voices_by_language()
        if not self._voices:
            raise ProviderError(f"eSpeak NG found no voices (data at {data_path})")

    def _voices_by_language(self) -> dict[str, str]:
        """Each language eSpeak's voices name → the identifier of the voice that ranks first
        for it (lowest priority number)."""
        best: dict[str, tuple[int, str]] = {}
        listed = self._library.espeak_ListVoices(None)
        index = 0
        while listed and listed[index]:
            voice = listed[index].contents
            index += 1
            identifier = (voice.identifier or b"").decode("ascii", "replace")
            if not identifier or identifier.startswith("mb/"):
                continue
            for priority, language in _languages(voice.languages):
                if language not in best or priority < best[language][0]:
                    best[language] = (priority, identifier)
        return {language: identifier for language, (_, identifier) in best.items()}

    def _receive(self, wav: Any, samples: int, events: Any) -> int:
        if wav and samples > 0:
            self._pcm.append(ctypes.string_at(wav, samples * 2))
        if events:
            index = 0
            while (event := events[index]).type != _EVENT_LIST_TERMINATED:
                self._heard.append(
                    _Heard(event.type, event.text_position, event.length, event.audio_position)
                )
                index += 1
        return 0

    def use_language(self, language: str) -> str:
        tag = language.strip().lower().replace("_", "-")
        subtags = tag.split("-")
        for count in range(len(subtags), 0, -1):
            candidate = "-".join(subtags[:count])
            identifier = _PREFERRED_VOICES.get(candidate) or self._voices.get(candidate)
            if identifier:
                return self.use_voice(identifier)
        raise VoiceNotAvailable(f"eSpeak NG has no voice for the language {language!r}")

    def use_voice(self, name: str) -> str:
        status = self._library.espeak_SetVoiceByName(name.encode("utf-8", "replace"))
        current = self._library.espeak_GetCurrentVoice()
        if status != _EE_OK or not current:
            raise VoiceNotAvailable(f"eSpeak NG has no voice named {name!r}")
        return _voice_name((current.contents.identifier or name.encode()).decode("utf-8"))

    def speak(self, text: str) -> tuple[bytes, list[_Heard]]:
        """The PCM and events of `text` (no NUL in it; `_spoken_text` makes it so)."""
        data = text.encode("utf-8", "replace")  # a lone surrogate becomes one "?"
        self._pcm, self._heard = [], []
        self._library.espeak_SetParameter(_RATE, WORDS_PER_MINUTE, 0)
        status = self._library.espeak_Synth(
            data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        pcm, heard = b"".join(self._pcm), self._heard
        self._pcm, self._heard = [], []
        if status != _EE_OK:
            raise ProviderError(f"eSpeak NG could not read the page (status {status})")
        return pcm, heard


_LOCK = threading.Lock()
_engine: _Espeak | None = None


def _espeak() -> _Espeak:
    """The process's eSpeak NG, started on first use; call while holding `_LOCK`."""
    global _engine
    if _engine is None:
        _engine = _Espeak()
    return _engine


def _hebrew_point(character: str) -> bool:
    return "\u0591" <= character <= "\u05c7" and unicodedata.category(character) == "Mn"


def _spoken_text(text: str) -> tuple[str, list[int]]:
    """The text eSpeak is given, and for each of its characters the page offset it came from.

    A NUL would end the C string early: it is read as a space. Hebrew points and cantillation
    marks are left out: eSpeak 1.52's Hebrew reads unpointed text well, but spells a word out,
    letter by letter, when it carries vowel points (qamats, patah, ...), as children's books
    mostly do."""
    kept = [index for index, character in enumerate(text) if not _hebrew_point(character)]
    spoken = "".join(text[index] for index in kept).replace("\0", " ")
    return spoken, kept


def _marks(heard: list[_Heard], offsets: list[int], page_length: int) -> list[SpokenMark]:
    """Word events as marks on the page (`offsets`: the page offset of each character eSpeak was
    given); a clause's end event ends the word before it."""

    def page_offset(spoken: int) -> int:
        return offsets[spoken] if 0 <= spoken < len(offsets) else page_length

    marks: list[SpokenMark] = []
    for event in heard:
        if event.type == _EVENT_WORD:
            spoken_start = max(event.text_position - 1, 0)  # eSpeak counts from 1
            char_start = page_offset(spoken_start)
            char_end = None
            if event.length > 0:
                char_end = page_offset(spoken_start + event.length - 1) + 1
            marks.append(SpokenMark(event.audio_position, char_start, char_end))
        elif event.type in _ENDS and marks and marks[-1].end_ms is None:
            marks[-1] = replace(marks[-1], end_ms=event.audio_position)
    return marks


def encode_mp3(pcm: bytes, sample_rate: int) -> bytes:
    """16-bit mono PCM (native byte order, little-endian here) as a constant-bitrate MP3."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(BITRATE_KBPS)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(_LAME_QUALITY)
    encoder.silence()
    return bytes(encoder.encode(pcm)) + bytes(encoder.flush())


class OfflineNarrator:
    """A page read aloud by eSpeak NG, offline: real speech, robotic but clear."""

    name = "offline"
    model = "espeak-ng"

    def narrate(self, text: str, *, language: str, voice: str | None = None) -> SpokenPage:
        if not text.strip():
            raise ValueError("the page has no text to read")
        with _LOCK:
            engine = _espeak()
            voice_used = engine.use_voice(voice) if voice else engine.use_language(language)
            spoken, offsets = _spoken_text(text)
            pcm, heard = engine.speak(spoken)
            sample_rate = engine.sample_rate
        duration_ms = round(len(pcm) // 2 * 1000 / sample_rate)
        usage.report(self.name, self.model, usage.CHARACTERS, len(text), voice_used)
        marks = _marks(heard, offsets, len(text))
        if not marks and any(character.isalnum() for character in text):
            raise ProviderError("eSpeak NG reported no word of the page")
        words = word_timings(text, marks, end_ms=duration_ms) if marks else []
        return SpokenPage(
            audio=encode_mp3(pcm, sample_rate),
            content_type=CONTENT_TYPE,
            duration_ms=duration_ms,
            words=words,
            voice=voice_used,
        )
