"""The story's hero in an offline picture: its look (colours, ears or hat) from the character's
name and species, and its drawing on the page."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import ImageDraw

from kidstory.providers.offline_media.canvas import (
    INK,
    OUTLINE_DARKNESS,
    Box,
    Color,
    Layout,
    darker,
    mix,
    page_layout,
    seed_digest,
)

# (body, accent) pairs: soft, friendly colours with enough contrast against every sky and ground.
_CHARACTER_PALETTES: tuple[tuple[Color, Color], ...] = (
    ((244, 162, 97), (214, 96, 64)),  # orange fox
    ((142, 202, 230), (33, 158, 188)),  # sky blue
    ((181, 228, 140), (82, 182, 154)),  # leaf green
    ((255, 181, 194), (229, 107, 138)),  # pink
    ((205, 180, 219), (142, 125, 190)),  # lavender
    ((255, 209, 102), (239, 159, 58)),  # sunny yellow
    ((128, 207, 169), (58, 158, 126)),  # teal
    ((200, 162, 122), (139, 94, 60)),  # teddy brown
)


_HEADWEAR = ("round_ears", "pointy_ears", "bunny_ears", "party_hat")


@dataclass(frozen=True)
class CharacterLook:
    """How the main character looks; fixed by the palette seed."""

    body: Color
    accent: Color
    headwear: str


# Ears that suit the hero's species; other heroes get ears or a hat from the palette seed.
_EARS_BY_SPECIES = {
    **dict.fromkeys(("rabbit", "bunny"), "bunny_ears"),
    **dict.fromkeys(("cat", "kitten", "fox", "wolf"), "pointy_ears"),
    **dict.fromkeys(
        (
            "mouse",
            "bear",
            "panda",
            "koala",
            "hedgehog",
            "monkey",
            "otter",
            "squirrel",
            "lion",
            "tiger",
            "pig",
            "elephant",
        ),
        "round_ears",
    ),
}


def character_look(palette_seed: str, species: str | None = None) -> CharacterLook:
    """Return the colours and headwear of the character for `palette_seed` (and its species)."""
    digest = seed_digest("character", palette_seed.strip().casefold())
    body, accent = _CHARACTER_PALETTES[digest[0] % len(_CHARACTER_PALETTES)]
    headwear = _EARS_BY_SPECIES.get(
        (species or "").strip().casefold(), _HEADWEAR[digest[1] % len(_HEADWEAR)]
    )
    return CharacterLook(body=body, accent=accent, headwear=headwear)


def character_body_point(width: int = 768, height: int = 512) -> tuple[int, int]:
    """Return a pixel that always shows the character's plain body colour at this image size."""
    layout = page_layout(width, height)
    return (
        round(layout.character_x),
        round(layout.character_y + 0.45 * layout.character_radius),
    )


def draw_character(
    draw: ImageDraw.ImageDraw, layout: Layout, look: CharacterLook, ground: Color, scale: int
) -> None:
    x = layout.character_x * scale
    y = layout.character_y * scale
    r = layout.character_radius * scale
    body, accent = look.body, look.accent
    outline = darker(accent, OUTLINE_DARKNESS)
    line = max(2, round(r * 0.04))

    def oval(cx: float, cy: float, rx: float, ry: float) -> Box:
        return (cx - rx, cy - ry, cx + rx, cy + ry)

    draw.ellipse(oval(x, y + 1.02 * r, 1.05 * r, 0.14 * r), darker(ground, 0.82))

    if look.headwear == "round_ears":
        for side in (-1, 1):
            ear = oval(x + side * 0.62 * r, y - 0.7 * r, 0.27 * r, 0.27 * r)
            draw.ellipse(ear, body, outline, line)
            draw.ellipse(oval(x + side * 0.62 * r, y - 0.7 * r, 0.14 * r, 0.14 * r), accent)
    elif look.headwear == "pointy_ears":
        for side in (-1, 1):
            base_in, base_out = x + side * 0.25 * r, x + side * 0.85 * r
            tip = (x + side * 0.72 * r, y - 1.3 * r)
            draw.polygon(
                [(base_in, y - 0.7 * r), (base_out, y - 0.45 * r), tip], body, outline, line
            )
            inner_tip = (x + side * 0.68 * r, y - 1.1 * r)
            draw.polygon(
                [
                    (x + side * 0.42 * r, y - 0.72 * r),
                    (x + side * 0.74 * r, y - 0.6 * r),
                    inner_tip,
                ],
                accent,
            )
    elif look.headwear == "bunny_ears":
        for side in (-1, 1):
            ex = x + side * 0.32 * r
            draw.ellipse(oval(ex, y - 1.15 * r, 0.17 * r, 0.5 * r), body, outline, line)
            draw.ellipse(oval(ex, y - 1.12 * r, 0.08 * r, 0.36 * r), accent)

    for side in (-1, 1):
        draw.ellipse(
            oval(x + side * 0.45 * r, y + 0.92 * r, 0.26 * r, 0.14 * r), accent, outline, line
        )
        draw.ellipse(
            oval(x + side * 0.98 * r, y + 0.2 * r, 0.16 * r, 0.26 * r), body, outline, line
        )
    draw.ellipse(oval(x, y, 1.0 * r, 0.95 * r), body, outline, line)

    for side in (-1, 1):
        ex, ey = x + side * 0.33 * r, y - 0.25 * r
        draw.ellipse(oval(ex, ey, 0.16 * r, 0.18 * r), (255, 255, 255), outline, max(1, line // 2))
        draw.ellipse(oval(ex + 0.03 * r, ey + 0.03 * r, 0.1 * r, 0.11 * r), INK)
        draw.ellipse(oval(ex + 0.06 * r, ey - 0.02 * r, 0.035 * r, 0.035 * r), (255, 255, 255))
        draw.ellipse(
            oval(x + side * 0.58 * r, y + 0.0 * r, 0.11 * r, 0.07 * r),
            mix(body, (255, 120, 140), 0.45),
        )
    draw.chord(oval(x, y - 0.08 * r, 0.2 * r, 0.18 * r), 15, 165, (190, 70, 90), INK, line)

    if look.headwear == "party_hat":
        left, right, apex = (
            (x - 0.38 * r, y - 0.8 * r),
            (x + 0.38 * r, y - 0.8 * r),
            (x + 0.08 * r, y - 1.6 * r),
        )
        draw.polygon([left, right, apex], accent, outline, line)
        for t in (0.35, 0.65):
            a = (left[0] + (apex[0] - left[0]) * t, left[1] + (apex[1] - left[1]) * t)
            b = (right[0] + (apex[0] - right[0]) * t, right[1] + (apex[1] - right[1]) * t)
            draw.line((a, b), (255, 255, 255), line)
        draw.ellipse(oval(apex[0], apex[1], 0.11 * r, 0.11 * r), (255, 255, 255), outline, line)
