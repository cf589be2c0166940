"""The caption under an offline picture: the prompt fitted to its lines, with the offline label."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from kidstory.providers.offline_media.canvas import (
    BADGE_BACKGROUND,
    BADGE_TEXT,
    CAPTION_BACKGROUND,
    INK,
    Layout,
)


@lru_cache(maxsize=16)
def caption_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> float:
    return font.getlength(text)


def _fit_lines(
    text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, max_width: float, max_lines: int
) -> list[str]:
    """Word-wrap `text` into at most `max_lines` lines, ending with an ellipsis if it was cut."""
    words = text.split()
    lines: list[str] = []
    current = ""
    index = 0
    while index < len(words) and len(lines) < max_lines:
        candidate = f"{current} {words[index]}".strip()
        if text_width(font, candidate) <= max_width:
            current = candidate
            index += 1
        elif current:
            lines.append(current)
            current = ""
        else:
            current = truncate(words[index], font, max_width)
            index += 1
    if current and len(lines) < max_lines:
        lines.append(current)
    if index < len(words) and lines:
        lines[-1] = truncate(lines[-1] + " …", font, max_width, force_ellipsis=True)
    return lines


def truncate(
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    max_width: float,
    *,
    force_ellipsis: bool = False,
) -> str:
    if not force_ellipsis and text_width(font, text) <= max_width:
        return text
    base = text.removesuffix(" …").rstrip()
    while base and text_width(font, base + "…") > max_width:
        base = base[:-1]
    return base.rstrip() + "…"


def draw_caption(image: Image.Image, layout: Layout, label: str, prompt: str) -> None:
    draw = ImageDraw.Draw(image)
    top = layout.scene_height
    band = layout.caption_height
    width = layout.width
    draw.rectangle((0, top, width, layout.height), CAPTION_BACKGROUND)
    draw.line((0, top, width, top), (232, 214, 190), max(1, band // 30))

    font_size = max(9, round(min(band * 0.21, width * 0.03)))
    font = caption_font(font_size)
    margin = max(4, round(band * 0.14))

    badge_text = truncate(" ".join(label.split()) or "Offline", font, width * 0.4)
    pad_x, pad_y = font_size * 0.6, font_size * 0.45
    badge_width = text_width(font, badge_text) + 2 * pad_x
    badge_height = font_size + 2 * pad_y
    badge_top = top + (band - badge_height) / 2
    draw.rounded_rectangle(
        (margin, badge_top, margin + badge_width, badge_top + badge_height),
        radius=badge_height / 2,
        fill=BADGE_BACKGROUND,
    )
    draw.text(
        (margin + pad_x, badge_top + badge_height / 2), badge_text, BADGE_TEXT, font, anchor="lm"
    )

    text_left = margin * 2 + badge_width
    lines = _fit_lines(" ".join(prompt.split()), font, width - text_left - margin, max_lines=2)
    line_height = font_size * 1.3
    text_top = top + (band - line_height * len(lines)) / 2
    for number, line in enumerate(lines):
        draw.text(
            (text_left, text_top + line_height * (number + 0.5)), line, INK, font, anchor="lm"
        )
