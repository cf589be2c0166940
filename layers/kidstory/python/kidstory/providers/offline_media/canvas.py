"""What every offline picture and clip shares: output types, sizes, colours and their
arithmetic, and the layout of a page (scene above, caption below)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

OFFLINE_IMAGE_CONTENT_TYPE = "image/png"


OFFLINE_VIDEO_CONTENT_TYPE = "video/mp4"


Color = tuple[int, int, int]


Box = tuple[float, float, float, float]


# Drawing happens at this multiple of the output size and is then box-filtered down, which gives
# smooth edges while keeping flat areas at their exact colour.
SUPERSAMPLE = 2


_MIN_SIDE = 64


_MAX_SIDE = 4096


_CAPTION_SHARE = 0.17


OUTLINE_DARKNESS = 0.55


INK: Color = (51, 45, 61)


CAPTION_BACKGROUND: Color = (255, 251, 242)


BADGE_BACKGROUND: Color = (46, 64, 87)


BADGE_TEXT: Color = (255, 255, 255)


class OfflineMediaError(RuntimeError):
    """Raised when offline media cannot be produced (for example ffmpeg failed)."""


@dataclass(frozen=True)
class Layout:
    """Positions in output pixels, shared by the drawing code and `character_body_point`."""

    width: int
    height: int
    caption_height: int
    scene_height: int
    horizon: float
    ground_line: float
    character_x: float
    character_y: float
    character_radius: float


def seed_digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def page_layout(width: int, height: int) -> Layout:
    caption_height = max(24, round(height * _CAPTION_SHARE))
    scene_height = height - caption_height
    radius = 0.19 * min(scene_height, 0.6 * width)
    ground_line = scene_height * 0.92
    return Layout(
        width=width,
        height=height,
        caption_height=caption_height,
        scene_height=scene_height,
        horizon=scene_height * 0.6,
        ground_line=ground_line,
        character_x=width * 0.4,
        character_y=ground_line - 1.04 * radius,
        character_radius=radius,
    )


def check_side(name: str, value: int) -> None:
    if not _MIN_SIDE <= value <= _MAX_SIDE:
        raise ValueError(f"{name} must be between {_MIN_SIDE} and {_MAX_SIDE} pixels")


def mix(color: Color, other: Color, amount: float) -> Color:
    return (
        round(color[0] + (other[0] - color[0]) * amount),
        round(color[1] + (other[1] - color[1]) * amount),
        round(color[2] + (other[2] - color[2]) * amount),
    )


def darker(color: Color, factor: float) -> Color:
    return (round(color[0] * factor), round(color[1] * factor), round(color[2] * factor))


def lit(color: Color, time_of_day: str) -> Color:
    """Tint a scenery colour for the time of day."""
    if time_of_day == "night":
        return mix(color, (22, 32, 72), 0.5)
    if time_of_day == "sunset":
        return mix(color, (255, 140, 110), 0.18)
    if time_of_day == "morning":
        return mix(color, (255, 226, 190), 0.12)
    return color
