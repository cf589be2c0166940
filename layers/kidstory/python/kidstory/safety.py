"""Child safety: checks that an idea, a story page or a picture is fit for a young child.

`OfflineModerator` is the baseline that needs no network: it recognises clearly unsuitable
subjects by their words and explains, in words a parent can read, why an idea was refused. It
is a floor, not a classifier: a provider's moderation (MODERATION_PROVIDER=openai or bedrock,
kidstory.providers.text_moderator) sees far more, and runs after it, never instead of it."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Literal, Protocol


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    category: str | None = None
    reason: str | None = None


ALLOWED = Verdict(allowed=True)


class TextModerator(Protocol):
    def check(self, text: str) -> Verdict: ...


# What a provider's moderation is shown: the idea (INPUT) or the story's text (OUTPUT).
ModerationSource = Literal["INPUT", "OUTPUT"]


def refused_for(category: str, subject: str) -> Verdict:
    """A provider moderation's refusal, in words a parent can read ("violence")."""
    return Verdict(
        allowed=False,
        category=category,
        reason=f"It mentions {subject}, which we do not put in children's stories. Please try a "
        "different idea.",
    )


class LayeredModerator:
    """The offline baseline, then a provider's moderation: the first refusal wins. A provider
    adds to the baseline and never replaces it, and is not asked about text the baseline has
    already refused. A provider that cannot answer raises its ProviderError (see
    kidstory.providers.errors): the text is never let through unchecked."""

    def __init__(self, *moderators: TextModerator) -> None:
        self.moderators = moderators
        self.name = "+".join(str(getattr(each, "name", type(each).__name__)) for each in moderators)

    def check(self, text: str) -> Verdict:
        for moderator in self.moderators:
            verdict = moderator.check(text)
            if not verdict.allowed:
                return verdict
        return ALLOWED


# Words that name subjects we never put in a children's story. Whole words only, so "skill"
# or "therapist" do not match "kill" or "rapist".
_SUBJECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "violence": (
        "violence",
        (
            "kill",
            "kills",
            "killed",
            "killing",
            "killer",
            "murder",
            "murders",
            "murdered",
            "blood",
            "bloody",
            "gore",
            "gory",
            "stab",
            "stabbed",
            "stabbing",
            "behead",
            "beheaded",
            "gun",
            "guns",
            "rifle",
            "shot dead",
            "bomb",
            "bombs",
            "explosive",
            "torture",
            "tortured",
            "massacre",
            "corpse",
            "dead body",
            "strangle",
            "strangled",
            "decapitate",
            "slaughter",
            "assault",
        ),
    ),
    "sexual": (
        "sexual content",
        (
            "sex",
            "sexual",
            "sexy",
            "nude",
            "naked",
            "porn",
            "porno",
            "pornography",
            "erotic",
            "rape",
            "raped",
            "rapist",
            "orgasm",
            "genitals",
            "stripper",
        ),
    ),
    "self_harm": (
        "self-harm",
        (
            "suicide",
            "suicidal",
            "self-harm",
            "self harm",
            "kill himself",
            "kill herself",
            "kill myself",
            "overdose",
            "cutting herself",
            "cutting himself",
        ),
    ),
    "drugs": (
        "drugs or alcohol",
        (
            "cocaine",
            "heroin",
            "meth",
            "methamphetamine",
            "crack pipe",
            "weed",
            "marijuana",
            "cannabis",
            "lsd",
            "ecstasy",
            "drunk",
            "vodka",
            "whiskey",
            "beer",
            "cigarette",
            "cigarettes",
            "vape",
            "vaping",
            "opioid",
            "fentanyl",
        ),
    ),
    "hate": (
        "hate or cruelty toward people",
        ("nazi", "nazis", "hitler", "genocide", "ethnic cleansing", "white power", "kkk"),
    ),
    "horror": (
        "gruesome horror",
        (
            "demonic",
            "possessed by a demon",
            "satanic",
            "zombie apocalypse",
            "serial killer",
            "chainsaw",
            "dismember",
            "dismembered",
            "disembowel",
            "mutilate",
            "mutilated",
        ),
    ),
}

_PATTERNS = {
    category: (
        label,
        re.compile(r"\b(" + "|".join(re.escape(word) for word in words) + r")\b", re.IGNORECASE),
    )
    for category, (label, words) in _SUBJECTS.items()
}


class OfflineModerator:
    """The word-list baseline; needs no network."""

    name = "offline"

    def check(self, text: str) -> Verdict:
        for category, (label, pattern) in _PATTERNS.items():
            found = pattern.search(text)
            if found:
                return Verdict(
                    allowed=False,
                    category=category,
                    reason=f'It mentions {label} ("{found.group(0).lower()}"), which does not '
                    "belong in a story for children. Please try a different idea.",
                )
        return ALLOWED


def check_picture(content: bytes, content_type: str) -> Verdict:
    """The baseline check of a generated picture: a real image of the declared type, of a
    usable size, not blank. (What it shows is checked by a provider's moderation.)"""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.load()
            kind = Image.MIME.get(image.format or "", "")
            width, height = image.size
            colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    except (UnidentifiedImageError, OSError, ValueError):
        return Verdict(False, "broken_image", "The picture could not be read as an image.")
    if kind != content_type:
        return Verdict(
            False, "broken_image", f"The picture is {kind or 'unknown'}, not {content_type}."
        )
    if width < 64 or height < 64:
        return Verdict(False, "broken_image", f"The picture is too small ({width}x{height}).")
    if colours is not None and len(colours) < 8:
        return Verdict(False, "blank_image", "The picture is blank.")
    return ALLOWED
