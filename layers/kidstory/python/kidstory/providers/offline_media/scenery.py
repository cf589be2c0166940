"""The scenery of an offline picture: sky, land or sea, and what stands in them (sun, moon,
clouds, trees, houses, flowers...), for the scene's time of day and setting."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from kidstory.providers.offline_media.canvas import Color, Layout, darker, lit, mix
from kidstory.providers.offline_media.scene import Scene

_SKY_GRADIENTS: dict[str, tuple[Color, Color]] = {
    "day": ((110, 190, 240), (208, 238, 255)),
    "morning": ((255, 200, 160), (255, 243, 214)),
    "sunset": ((109, 91, 166), (255, 158, 122)),
    "night": ((11, 29, 58), (44, 62, 117)),
}


def draw_scenery(
    canvas: Image.Image,
    draw: ImageDraw.ImageDraw,
    layout: Layout,
    scene: Scene,
    rng: random.Random,
    scale: int,
) -> Color:
    """Draw sky and ground; return the ground colour under the character."""
    width = layout.width * scale
    scene_height = layout.scene_height * scale
    horizon = layout.horizon * scale
    time_of_day = scene.time_of_day

    top, bottom = _SKY_GRADIENTS[time_of_day]
    mask = Image.linear_gradient("L").resize((width, round(horizon * 1.2)))
    sky = Image.composite(
        Image.new("RGB", mask.size, bottom), Image.new("RGB", mask.size, top), mask
    )
    canvas.paste(sky, (0, 0))

    unit = min(width, scene_height)
    if time_of_day == "night":
        _draw_stars(draw, rng, width, horizon, unit)
        _draw_moon(canvas, rng, width, horizon, unit)
    else:
        sun_x = _draw_sun(draw, rng, width, horizon, unit, time_of_day)
        if "rainbow" in scene.words or (scene.setting == "meadow" and rng.random() < 0.2):
            _draw_rainbow(draw, width, horizon, unit, time_of_day)
        cloud_color = lit((255, 255, 255), time_of_day)
        for _ in range(rng.randint(2, 3)):
            x = rng.uniform(0.05, 0.95) * width
            if abs(x - sun_x) < 0.14 * width:
                x = (x + 0.5 * width) % width
            y = rng.uniform(0.1, 0.45) * horizon
            _draw_cloud(draw, x, y, unit * rng.uniform(0.05, 0.075), cloud_color)

    if scene.setting == "sea":
        ground = _draw_sea(draw, rng, layout, scale, scene)
    elif scene.setting == "snow":
        ground = _draw_land(draw, layout, scale, time_of_day, (221, 232, 245), (244, 248, 255))
        _draw_tree_row(draw, rng, layout, scale, time_of_day, snowy=True, count=rng.randint(3, 5))
        _draw_snowflakes(draw, rng, width, scene_height, unit, time_of_day)
    elif scene.setting == "forest":
        ground = _draw_land(draw, layout, scale, time_of_day, (78, 143, 85), (95, 163, 90))
        _draw_tree_row(draw, rng, layout, scale, time_of_day, snowy=False, count=rng.randint(7, 10))
        _draw_mushrooms(draw, rng, layout, scale, time_of_day)
    else:
        ground = _draw_land(draw, layout, scale, time_of_day, (168, 217, 138), (124, 196, 107))
        if scene.setting == "home":
            _draw_house(draw, rng, layout, scale, time_of_day)
        wants_flowers = bool({"flower", "flowers", "garden", "gardens", "meadow"} & scene.words)
        _draw_round_tree(
            draw,
            rng.uniform(0.05, 0.16) * width,
            (layout.horizon + 0.12 * layout.scene_height) * scale,
            unit * rng.uniform(0.1, 0.13),
            time_of_day,
        )
        _draw_flowers(draw, rng, layout, scale, time_of_day, count=18 if wants_flowers else 10)
    return ground


def _draw_land(
    draw: ImageDraw.ImageDraw,
    layout: Layout,
    scale: int,
    time_of_day: str,
    far_color: Color,
    near_color: Color,
) -> Color:
    width = layout.width * scale
    horizon = layout.horizon * scale
    bottom = layout.scene_height * scale
    far = lit(far_color, time_of_day)
    near = lit(near_color, time_of_day)
    draw.ellipse((-0.3 * width, horizon - 0.12 * bottom, 0.6 * width, horizon + 0.5 * bottom), far)
    draw.ellipse((0.35 * width, horizon - 0.08 * bottom, 1.3 * width, horizon + 0.5 * bottom), far)
    draw.rectangle((0, horizon + 0.05 * bottom, width, bottom), near)
    draw.ellipse((-0.2 * width, horizon, 1.2 * width, horizon + 0.2 * bottom), near)
    return near


def _draw_sea(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    layout: Layout,
    scale: int,
    scene: Scene,
) -> Color:
    time_of_day = scene.time_of_day
    width = layout.width * scale
    horizon = layout.horizon * scale
    bottom = layout.scene_height * scale
    water = lit((79, 163, 209), time_of_day)
    foam = lit((225, 245, 255), time_of_day)
    sand = lit((243, 217, 164), time_of_day)
    draw.rectangle((0, horizon, width, bottom), water)
    line = max(2, round(0.006 * bottom))
    for row in range(4):
        y = horizon + (0.04 + row * 0.045) * bottom
        step = width / (6 + row)
        offset = rng.uniform(0, step)
        for index in range(-1, 8 + row):
            x = offset + index * step
            span = step * 0.3
            draw.arc((x - span, y - span * 0.3, x + span, y + span * 0.3), 200, 340, foam, line)
    wants_boat = bool({"boat", "boats", "sail", "sailing", "pirate", "pirates"} & scene.words)
    if wants_boat or rng.random() < 0.5:
        _draw_boat(
            draw, rng.uniform(0.7, 0.85) * width, horizon + 0.09 * bottom, bottom, time_of_day
        )
    sand_top = (layout.ground_line - 0.14 * layout.scene_height) * scale
    draw.ellipse((-0.3 * width, sand_top, 1.3 * width, sand_top + 0.6 * bottom), sand)
    draw.rectangle((0, sand_top + 0.12 * bottom, width, bottom), sand)
    for _ in range(3):
        x = rng.uniform(0.62, 0.95) * width
        y = rng.uniform(sand_top + 0.08 * bottom, bottom * 0.97)
        _draw_shell(draw, x, y, 0.018 * bottom, time_of_day)
    return sand


def _draw_boat(
    draw: ImageDraw.ImageDraw, x: float, y: float, size: float, time_of_day: str
) -> None:
    hull = lit((200, 80, 70), time_of_day)
    sail = lit((255, 250, 240), time_of_day)
    mast = lit((110, 70, 50), time_of_day)
    half = 0.09 * size
    draw.polygon(
        [
            (x - half, y),
            (x + half, y),
            (x + half * 0.7, y + 0.05 * size),
            (x - half * 0.7, y + 0.05 * size),
        ],
        hull,
    )
    draw.line((x, y, x, y - 0.2 * size), mast, max(2, round(0.008 * size)))
    draw.polygon(
        [
            (x + 0.01 * size, y - 0.19 * size),
            (x + 0.01 * size, y - 0.02 * size),
            (x + half, y - 0.02 * size),
        ],
        sail,
    )


def _draw_shell(
    draw: ImageDraw.ImageDraw, x: float, y: float, size: float, time_of_day: str
) -> None:
    shell = lit((250, 180, 170), time_of_day)
    draw.pieslice((x - size, y - size, x + size, y + size), 180, 360, shell, darker(shell, 0.7))


def _draw_sun(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    width: float,
    horizon: float,
    unit: float,
    time_of_day: str,
) -> float:
    """Draw a smiling sun; return its horizontal position."""
    if time_of_day == "sunset":
        x, y, radius, color = (
            rng.uniform(0.6, 0.85) * width,
            horizon * 0.95,
            unit * 0.13,
            (255, 170, 80),
        )
    elif time_of_day == "morning":
        x, y, radius, color = (
            rng.uniform(0.1, 0.25) * width,
            horizon * 0.55,
            unit * 0.09,
            (255, 214, 90),
        )
    else:
        x, y, radius, color = (
            rng.uniform(0.7, 0.88) * width,
            horizon * 0.28,
            unit * 0.085,
            (255, 214, 64),
        )
    ray = max(2, round(radius * 0.12))
    for index in range(12):
        angle = index * math.pi / 6 + rng.uniform(-0.05, 0.05)
        inner, outer = radius * 1.25, radius * 1.6
        draw.line(
            (
                x + inner * math.cos(angle),
                y + inner * math.sin(angle),
                x + outer * math.cos(angle),
                y + outer * math.sin(angle),
            ),
            color,
            ray,
        )
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), color)
    _draw_face(draw, x, y + radius * 0.05, radius * 0.7, darker(color, 0.55))
    return x


def _draw_moon(
    canvas: Image.Image,
    rng: random.Random,
    width: float,
    horizon: float,
    unit: float,
) -> None:
    radius = unit * 0.08
    x = rng.uniform(0.68, 0.88) * width
    y = horizon * rng.uniform(0.2, 0.32)
    size = round(radius * 2) + 2
    mask = Image.new("L", (size, size), 0)
    mask_draw = ImageDraw.Draw(mask)
    mask_draw.ellipse((1, 1, size - 2, size - 2), 255)
    shift = radius * 0.7
    mask_draw.ellipse((1 + shift, 1 - shift * 0.4, size - 2 + shift, size - 2 - shift * 0.4), 0)
    canvas.paste((255, 243, 176), (round(x - radius), round(y - radius)), mask)


def _draw_stars(
    draw: ImageDraw.ImageDraw, rng: random.Random, width: float, horizon: float, unit: float
) -> None:
    for _ in range(rng.randint(18, 28)):
        x = rng.uniform(0.02, 0.98) * width
        y = rng.uniform(0.03, 0.8) * horizon
        radius = unit * rng.uniform(0.008, 0.02)
        color = rng.choice(((255, 243, 176), (255, 255, 255), (255, 224, 140)))
        _draw_star(draw, x, y, radius, color)


def _draw_star(draw: ImageDraw.ImageDraw, x: float, y: float, radius: float, color: Color) -> None:
    points = []
    for index in range(10):
        distance = radius if index % 2 == 0 else radius * 0.45
        angle = -math.pi / 2 + index * math.pi / 5
        points.append((x + distance * math.cos(angle), y + distance * math.sin(angle)))
    draw.polygon(points, color)


def _draw_cloud(draw: ImageDraw.ImageDraw, x: float, y: float, size: float, color: Color) -> None:
    for dx, dy, factor in ((-1.1, 0.2, 0.75), (0.0, -0.15, 1.0), (1.1, 0.2, 0.8), (0.4, 0.35, 0.8)):
        radius = size * factor
        cx, cy = x + dx * size, y + dy * size
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), color)


def _draw_rainbow(
    draw: ImageDraw.ImageDraw, width: float, horizon: float, unit: float, time_of_day: str
) -> None:
    colors = (
        (239, 71, 111),
        (255, 159, 67),
        (255, 209, 102),
        (6, 214, 160),
        (17, 138, 178),
        (118, 93, 180),
    )
    band = unit * 0.025
    x, y, radius = width * 0.22, horizon * 1.05, unit * 0.42
    for index, color in enumerate(colors):
        r = radius - index * band
        draw.arc(
            (x - r, y - r, x + r, y + r),
            180,
            360,
            mix(lit(color, time_of_day), (255, 255, 255), 0.25),
            round(band) + 1,
        )


def _draw_tree_row(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    layout: Layout,
    scale: int,
    time_of_day: str,
    *,
    snowy: bool,
    count: int,
) -> None:
    width = layout.width * scale
    base = (layout.horizon + 0.08 * layout.scene_height) * scale
    unit = min(width, layout.scene_height * scale)
    slots = sorted(rng.uniform(0.0, 1.0) for _ in range(count))
    for position in slots:
        x = position * width
        height = unit * rng.uniform(0.25, 0.4)
        y = base + rng.uniform(-0.03, 0.05) * unit
        _draw_pine(draw, x, y, height, time_of_day, snowy=snowy)


def _draw_pine(
    draw: ImageDraw.ImageDraw, x: float, y: float, height: float, time_of_day: str, *, snowy: bool
) -> None:
    trunk = lit((121, 85, 61), time_of_day)
    needles = lit((46, 125, 80), time_of_day)
    snow = lit((250, 252, 255), time_of_day)
    draw.rectangle((x - height * 0.05, y - height * 0.15, x + height * 0.05, y), trunk)
    for level in range(3):
        bottom = y - height * (0.12 + level * 0.22)
        half = height * (0.32 - level * 0.07)
        top = bottom - height * 0.4
        draw.polygon([(x - half, bottom), (x + half, bottom), (x, top)], needles)
        if snowy:
            draw.polygon(
                [
                    (x - half * 0.35, top + height * 0.14),
                    (x + half * 0.35, top + height * 0.14),
                    (x, top),
                ],
                snow,
            )


def _draw_round_tree(
    draw: ImageDraw.ImageDraw, x: float, y: float, size: float, time_of_day: str
) -> None:
    trunk = lit((133, 94, 66), time_of_day)
    leaves = lit((76, 160, 84), time_of_day)
    fruit = lit((231, 76, 60), time_of_day)
    draw.rectangle((x - size * 0.15, y - size * 1.3, x + size * 0.15, y), trunk)
    for dx, dy, factor in ((0, -2.0, 1.0), (-0.6, -1.55, 0.75), (0.6, -1.55, 0.75)):
        radius = size * factor
        cx, cy = x + dx * size, y + dy * size
        draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), leaves)
    for dx, dy in ((-0.4, -2.1), (0.35, -1.7), (0.1, -2.5), (-0.7, -1.5)):
        r = size * 0.09
        draw.ellipse(
            (x + dx * size - r, y + dy * size - r, x + dx * size + r, y + dy * size + r), fruit
        )


def _draw_house(
    draw: ImageDraw.ImageDraw, rng: random.Random, layout: Layout, scale: int, time_of_day: str
) -> None:
    unit = min(layout.width, layout.scene_height) * scale
    x = rng.uniform(0.7, 0.8) * layout.width * scale
    base = (layout.horizon + 0.1 * layout.scene_height) * scale
    wall = lit(rng.choice(((246, 231, 193), (250, 218, 221), (215, 236, 217))), time_of_day)
    roof = lit(rng.choice(((209, 73, 91), (141, 90, 151), (46, 134, 171))), time_of_day)
    window = (
        (255, 224, 102) if time_of_day in ("night", "sunset") else lit((173, 216, 230), time_of_day)
    )
    door = lit((133, 94, 66), time_of_day)
    half, tall = unit * 0.17, unit * 0.24
    outline = darker(wall, 0.6)
    line = max(2, round(unit * 0.006))
    draw.rectangle(
        (x + half * 0.45, base - tall - unit * 0.15, x + half * 0.7, base - tall),
        roof,
        outline,
        line,
    )
    draw.rectangle((x - half, base - tall, x + half, base), wall, outline, line)
    draw.polygon(
        [
            (x - half * 1.2, base - tall),
            (x + half * 1.2, base - tall),
            (x, base - tall - unit * 0.16),
        ],
        roof,
        outline,
    )
    draw.rounded_rectangle(
        (x - half * 0.25, base - tall * 0.55, x + half * 0.25, base),
        radius=half * 0.2,
        fill=door,
        outline=outline,
        width=line,
    )
    for side in (-1, 1):
        wx = x + side * half * 0.62
        draw.rectangle(
            (wx - half * 0.2, base - tall * 0.75, wx + half * 0.2, base - tall * 0.4),
            window,
            outline,
            line,
        )


def _draw_flowers(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    layout: Layout,
    scale: int,
    time_of_day: str,
    *,
    count: int,
) -> None:
    top = (layout.horizon + 0.12 * layout.scene_height) * scale
    bottom = layout.scene_height * 0.98 * scale
    width = layout.width * scale
    size = min(width, layout.scene_height * scale) * 0.018
    petals_choices = ((255, 255, 255), (255, 183, 197), (255, 209, 102), (186, 160, 255))
    for _ in range(count):
        x = rng.uniform(0.02, 0.98) * width
        y = rng.uniform(top, bottom)
        petal = lit(rng.choice(petals_choices), time_of_day)
        for index in range(5):
            angle = index * 2 * math.pi / 5
            px, py = x + size * math.cos(angle), y + size * math.sin(angle)
            draw.ellipse(
                (px - size * 0.7, py - size * 0.7, px + size * 0.7, py + size * 0.7), petal
            )
        center = lit((255, 196, 0), time_of_day)
        draw.ellipse((x - size * 0.6, y - size * 0.6, x + size * 0.6, y + size * 0.6), center)


def _draw_mushrooms(
    draw: ImageDraw.ImageDraw, rng: random.Random, layout: Layout, scale: int, time_of_day: str
) -> None:
    width = layout.width * scale
    unit = min(width, layout.scene_height * scale)
    cap = lit((220, 70, 70), time_of_day)
    stem = lit((250, 240, 220), time_of_day)
    for _ in range(rng.randint(2, 4)):
        x = rng.choice((rng.uniform(0.05, 0.25), rng.uniform(0.65, 0.95))) * width
        y = rng.uniform(0.85, 0.97) * layout.scene_height * scale
        size = unit * rng.uniform(0.03, 0.045)
        draw.rectangle((x - size * 0.3, y - size, x + size * 0.3, y), stem)
        draw.pieslice((x - size, y - size * 1.9, x + size, y - size * 0.1), 180, 360, cap)
        for dx in (-0.5, 0.1, 0.55):
            r = size * 0.13
            dy = y - size * 1.3
            draw.ellipse((x + dx * size - r, dy - r, x + dx * size + r, dy + r), stem)


def _draw_snowflakes(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    width: float,
    height: float,
    unit: float,
    time_of_day: str,
) -> None:
    flake = lit((255, 255, 255), time_of_day)
    for _ in range(rng.randint(30, 45)):
        x, y = rng.uniform(0, width), rng.uniform(0, height * 0.9)
        r = unit * rng.uniform(0.004, 0.009)
        draw.ellipse((x - r, y - r, x + r, y + r), flake)


def _draw_face(draw: ImageDraw.ImageDraw, x: float, y: float, size: float, ink: Color) -> None:
    """A tiny smiling face, used on the sun."""
    eye = size * 0.12
    for side in (-1, 1):
        ex, ey = x + side * size * 0.35, y - size * 0.2
        draw.ellipse((ex - eye, ey - eye, ex + eye, ey + eye), ink)
    draw.arc(
        (x - size * 0.4, y - size * 0.35, x + size * 0.4, y + size * 0.35),
        25,
        155,
        ink,
        max(2, round(size * 0.09)),
    )
