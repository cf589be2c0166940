"""Offline clips: a slow pan (Ken Burns) over the page's picture, labelled as offline output,
encoded as MP4 by the bundled ffmpeg."""

from __future__ import annotations

import io
import math
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw

from kidstory.providers.offline_media.canvas import (
    BADGE_BACKGROUND,
    BADGE_TEXT,
    OfflineMediaError,
)
from kidstory.providers.offline_media.caption import caption_font, text_width, truncate

_MAX_VIDEO_SIZE = (768, 512)


_FFMPEG_TIMEOUT_SECONDS = 120


_MAX_VIDEO_FRAMES = 3600


def render_video(
    still_png: bytes,
    *,
    seconds: float = 3.0,
    fps: int = 12,
    label: str = "Offline video",
) -> bytes:
    """Return MP4 bytes of a slow pan and zoom over `still_png`, labelled on every frame.

    H.264 (yuv420p) when the bundled ffmpeg has libx264, otherwise MPEG-4 part 2; the file is
    written with +faststart so browsers can start playing before the download ends.
    """

    from kidstory.ffmpeg import ffmpeg_executable

    if not seconds > 0 or not math.isfinite(seconds):
        raise ValueError("seconds must be a positive number")
    if fps <= 0:
        raise ValueError("fps must be positive")
    still = _open_still(still_png)
    frame_size = _video_frame_size(still.size)
    frame_count = max(1, round(seconds * fps))
    if frame_count > _MAX_VIDEO_FRAMES:
        raise ValueError(f"seconds * fps must not exceed {_MAX_VIDEO_FRAMES} frames")
    badge = _label_badge(label, frame_size)

    ffmpeg = ffmpeg_executable()
    encoder_args = _encoder_args(ffmpeg)
    with tempfile.TemporaryDirectory(prefix="offline-video-") as work_dir:
        video_path = Path(work_dir) / "video.mp4"
        log_path = Path(work_dir) / "ffmpeg.log"
        command = [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{frame_size[0]}x{frame_size[1]}",
            "-r",
            str(fps),
            "-i",
            "pipe:0",
            "-an",
            *encoder_args,
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-y",
            str(video_path),
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
            )
            assert process.stdin is not None
            try:
                for index in range(frame_count):
                    frame = _ken_burns_frame(still, frame_size, index, frame_count)
                    frame.paste(badge, _badge_position(frame_size), badge)
                    process.stdin.write(frame.tobytes())
            except BrokenPipeError:
                pass  # ffmpeg exited early; its log explains why.
            finally:
                process.stdin.close()
            try:
                return_code = process.wait(timeout=_FFMPEG_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise OfflineMediaError("ffmpeg took too long to encode the video") from None
        if return_code != 0 or not video_path.exists():
            details = log_path.read_text(errors="replace").strip()[-2000:]
            raise OfflineMediaError(f"ffmpeg failed with exit code {return_code}: {details}")
        return video_path.read_bytes()


def _open_still(still_png: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(still_png)) as opened:
            opened.load()
            return opened.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError("still_png is not a readable image") from error


def _video_frame_size(still_size: tuple[int, int]) -> tuple[int, int]:
    """Fit the still inside the maximum video size; both sides even, as yuv420p requires."""
    width, height = still_size
    factor = min(1.0, _MAX_VIDEO_SIZE[0] / width, _MAX_VIDEO_SIZE[1] / height)
    even_width = max(2, int(width * factor) // 2 * 2)
    even_height = max(2, int(height * factor) // 2 * 2)
    return even_width, even_height


def _ken_burns_frame(
    still: Image.Image, frame_size: tuple[int, int], index: int, frame_count: int
) -> Image.Image:
    """One frame of a slow zoom-in drifting right and down, so the caption stays in view."""
    progress = index / (frame_count - 1) if frame_count > 1 else 0.0
    eased = progress * progress * (3 - 2 * progress)
    zoom = 1.04 + 0.14 * eased
    source_width, source_height = still.size
    crop_width, crop_height = source_width / zoom, source_height / zoom
    center_x = source_width * (0.44 + 0.12 * eased)
    center_y = source_height * (0.5 + 0.08 * eased)
    left = min(max(center_x - crop_width / 2, 0.0), source_width - crop_width)
    top = min(max(center_y - crop_height / 2, 0.0), source_height - crop_height)
    return still.resize(
        frame_size,
        Image.Resampling.BILINEAR,
        box=(left, top, left + crop_width, top + crop_height),
    )


def _label_badge(label: str, frame_size: tuple[int, int]) -> Image.Image:
    """A rounded, semi-opaque badge with `label`, to paste on every frame."""
    font_size = max(9, round(min(frame_size[1] * 0.045, frame_size[0] * 0.035)))
    font = caption_font(font_size)
    text = truncate(" ".join(label.split()) or "Offline", font, frame_size[0] * 0.8)
    pad_x, pad_y = font_size * 0.7, font_size * 0.45
    width = round(text_width(font, text) + 2 * pad_x)
    height = round(font_size + 2 * pad_y)
    badge = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    draw.rounded_rectangle(
        (0, 0, width - 1, height - 1), radius=height / 2, fill=(*BADGE_BACKGROUND, 220)
    )
    draw.text((pad_x, height / 2), text, (*BADGE_TEXT, 255), font, anchor="lm")
    return badge


def _badge_position(frame_size: tuple[int, int]) -> tuple[int, int]:
    margin = max(4, round(frame_size[1] * 0.03))
    return margin, margin


@lru_cache(maxsize=4)
def _encoder_args(ffmpeg: str) -> tuple[str, ...]:
    """Encoder options: H.264 through libx264 when available, else MPEG-4 part 2."""

    listing = subprocess.run(
        [ffmpeg, "-hide_banner", "-encoders"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    ).stdout
    encoders = {fields[1] for line in listing.splitlines() if len(fields := line.split()) >= 2}
    if "libx264" in encoders:
        return ("-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-profile:v", "high")
    if "mpeg4" in encoders:
        return ("-c:v", "mpeg4", "-q:v", "4", "-tag:v", "mp4v")
    raise OfflineMediaError("the bundled ffmpeg has neither libx264 nor mpeg4")
