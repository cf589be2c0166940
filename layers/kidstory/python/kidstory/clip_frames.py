"""Frames of a clip, as PNG pictures, so a clip can be shown to a picture moderation.

ffmpeg (the one imageio-ffmpeg bundles, in the clip functions' `video` layer, as
kidstory.providers.offline_media uses) reads the clip's length, then decodes one frame at each
of `FRAME_POSITIONS` of it (a quarter, a half, three quarters), each encoded as PNG."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# Where in a clip its frames are taken, as fractions of its length.
FRAME_POSITIONS = (0.25, 0.5, 0.75)
# The longest one ffmpeg run may take: reading a clip's length, or decoding one frame of it.
FFMPEG_TIMEOUT_SECONDS = 30

_DURATION = re.compile(r"Duration:\s*(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")


class ClipUnreadable(Exception):
    """The clip could not be read as a video (ffmpeg found no length, or no frame)."""


@dataclass(frozen=True)
class ClipFrame:
    seconds: float  # where in the clip the frame is
    png: bytes


def clip_seconds(path: Path) -> float:
    """The clip's length in seconds, as its container gives it."""
    run = _ffmpeg("-i", str(path))  # no output given: ffmpeg describes the input and stops
    found = _DURATION.search(run.stderr.decode(errors="replace"))
    if found is None:
        raise ClipUnreadable(f"ffmpeg found no length: {_tail(run.stderr)}")
    hours, minutes, seconds = found.groups()
    length = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    if length <= 0:
        raise ClipUnreadable("the clip is empty")
    return length


def clip_frames(path: Path, positions: tuple[float, ...] = FRAME_POSITIONS) -> list[ClipFrame]:
    """One PNG frame at each of `positions` (fractions of the clip's length), in order."""
    length = clip_seconds(path)
    frames = []
    for position in positions:
        at = round(length * position, 3)
        run = _ffmpeg(
            # seeking before -i: ffmpeg jumps to the nearest keyframe before `at` and decodes
            # from there, so a frame late in a long clip costs about as much as an early one
            *("-ss", f"{at:.3f}", "-i", str(path)),
            *("-map", "0:v:0", "-frames:v", "1", "-an"),
            *("-f", "image2pipe", "-c:v", "png", "pipe:1"),
        )
        if run.returncode != 0 or not run.stdout.startswith(b"\x89PNG"):
            raise ClipUnreadable(f"ffmpeg found no frame at {at:.1f} s: {_tail(run.stderr)}")
        frames.append(ClipFrame(seconds=at, png=run.stdout))
    return frames


def _ffmpeg(*arguments: str) -> subprocess.CompletedProcess[bytes]:
    from kidstory.ffmpeg import ffmpeg_executable

    command = [ffmpeg_executable(), "-hide_banner", "-nostdin", *arguments]
    try:
        return subprocess.run(
            command, capture_output=True, timeout=FFMPEG_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise ClipUnreadable(f"ffmpeg took longer than {FFMPEG_TIMEOUT_SECONDS} s") from None


def _tail(stderr: bytes) -> str:
    return stderr.decode(errors="replace").strip()[-500:] or "no details"
