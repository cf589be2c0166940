"""Child safety: checks that an idea, a story page or a picture is fit for a young child.

`OfflineModerator` is the baseline that needs no network: it recognises unsuitable ideas by the
words that name them and by the phrases that ask for them in other words (self-harm, sexual
content, grooming, hate, weapons, drugs, gruesome horror, graphic violence: the rules are data in
kidstory.safety_rules, read by kidstory.offline_moderation), and explains, in words a parent can
read, why an idea was refused; for a picture it checks only that it is a usable image
(`check_picture`), not what it shows. It is deterministic rules, not a classifier: a provider's
moderation (MODERATION_PROVIDER=openai, bedrock or ollama, kidstory.providers.text_moderator and
picture_moderator) sees far more, and runs after it, never instead of it. docs/moderation.md
gives its measured precision and recall."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image as Picture

    from kidstory.clip_frames import ClipFrame


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    category: str | None = None
    reason: str | None = None


ALLOWED = Verdict(allowed=True)


class TextModerator(Protocol):
    def check(self, text: str) -> Verdict: ...


class PictureModerator(Protocol):
    """Checks a generated picture (its bytes and MIME type) before it is stored."""

    def check_picture(self, content: bytes, content_type: str) -> Verdict: ...


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


def picture_refused_for(category: str, subject: str) -> Verdict:
    """A provider moderation's refusal of a picture, in words a parent can read."""
    return Verdict(
        allowed=False,
        category=category,
        reason=f"The picture shows {subject}, which we do not put in children's stories.",
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


class LayeredPictureModerator:
    """The same for pictures: the structural check (OfflineModerator.check_picture), then a
    provider's moderation; the first refusal wins, so a provider is never shown a picture that
    is not a usable image. A provider that cannot answer raises its ProviderError: the picture
    is never stored unchecked."""

    def __init__(self, *moderators: PictureModerator) -> None:
        self.moderators = moderators
        self.name = "+".join(str(getattr(each, "name", type(each).__name__)) for each in moderators)

    def check_picture(self, content: bytes, content_type: str) -> Verdict:
        for moderator in self.moderators:
            verdict = moderator.check_picture(content, content_type)
            if not verdict.allowed:
                return verdict
        return ALLOWED


def content_checks(moderator: PictureModerator) -> PictureModerator | None:
    """The part of a picture moderator that looks at what a picture shows: the provider's
    moderation without the structural check (OfflineModerator), or None when there is none
    (MODERATION_PROVIDER=offline).

    This is what a clip's frames are shown to (check_clip_frames). The structural check is for
    a drawing: it refuses a picture of fewer than 8 colours as blank, which a legitimate frame
    of a clip (a fade to black, a night sky) can be, and the frames are PNGs that ffmpeg
    decoded from the clip, so they are usable images by construction."""
    if isinstance(moderator, OfflineModerator):
        return None
    if isinstance(moderator, LayeredPictureModerator):
        rest = [each for each in moderator.moderators if not isinstance(each, OfflineModerator)]
        return LayeredPictureModerator(*rest) if rest else None
    return moderator


def check_clip_frames(moderator: PictureModerator, frames: Sequence[ClipFrame]) -> Verdict:
    """Each frame (kidstory.clip_frames) shown to `moderator` in turn; the first refusal wins,
    naming where in the clip it is. A moderation that cannot answer raises its ProviderError."""
    for frame in frames:
        verdict = moderator.check_picture(frame.png, "image/png")
        if not verdict.allowed:
            return Verdict(
                allowed=False,
                category=verdict.category,
                reason=f"its frame at {frame.seconds:.1f} s was refused: {verdict.reason}",
            )
    return ALLOWED


class OfflineModerator:
    """The offline moderation of text (its rules: kidstory.safety_rules, read by
    kidstory.offline_moderation), and for pictures the structural check; needs no network."""

    name = "offline"

    def check_picture(self, content: bytes, content_type: str) -> Verdict:
        """Only that the picture is a usable image (`check_picture`): what it shows is seen by a
        provider's moderation alone."""
        return check_picture(content, content_type)

    def check(self, text: str) -> Verdict:
        """Refuses an idea or a page that names an unsuitable subject, or asks for one in other
        words, with the category and, for a parent, what was found in it and why."""
        from kidstory.offline_moderation import first_finding

        finding = first_finding(text)
        if finding is None:
            return ALLOWED
        category = finding.category
        what = category.described if finding.by_phrase else f"mentions {category.subject}"
        return Verdict(
            allowed=False,
            category=category.name,
            reason=f'It {what} ("{finding.found}"), which does not belong in a story for '
            "children. Please try a different idea.",
        )


def check_picture(content: bytes, content_type: str) -> Verdict:
    """The baseline check of a generated picture: a real image of the declared type, of a
    usable size, not blank. (What it shows is checked by a provider's moderation, where one is
    configured: kidstory.providers.picture_moderator.)"""
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


# The picture types every provider moderation takes.
_SENDABLE = frozenset({"image/png", "image/jpeg"})


def picture_within(
    content: bytes, content_type: str, *, max_bytes: int, max_side: int
) -> tuple[bytes, str]:
    """The picture as a provider's moderation takes it: PNG or JPEG, at most `max_side` pixels a
    side and `max_bytes` long. Returned as it is when it fits (the usual case: 1024x1024 PNGs);
    otherwise scaled down and re-encoded, PNG if that fits, else JPEG, smaller until it fits.
    Scaling keeps what a picture shows, so the verdict is about the same picture."""
    from PIL import Image

    with Image.open(io.BytesIO(content)) as image:
        fits = (
            content_type in _SENDABLE and len(content) <= max_bytes and max(image.size) <= max_side
        )
        if fits:
            return content, content_type
        image.load()
        picture = image.convert("RGB")
    picture.thumbnail((max_side, max_side))
    encoded = _encoded(picture, "PNG")
    if len(encoded) <= max_bytes:
        return encoded, "image/png"
    while True:
        encoded = _encoded(picture, "JPEG")
        if len(encoded) <= max_bytes or max(picture.size) <= 64:
            return encoded, "image/jpeg"
        width, height = picture.size
        picture = picture.resize((max(1, width * 3 // 4), max(1, height * 3 // 4)))


def _encoded(picture: Picture, kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "JPEG":
        picture.save(buffer, format=kind, quality=90)
    else:
        picture.save(buffer, format=kind, optimize=True)
    return buffer.getvalue()
