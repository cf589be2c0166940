"""Pictures and videos for the offline provider.

Everything here is deterministic for a given input and needs no network and no API key. The
output is real media (PNG and MP4) and is visibly labelled as offline output, so it is never
mistaken for generated artwork.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

OFFLINE_IMAGE_CONTENT_TYPE = "image/png"
OFFLINE_VIDEO_CONTENT_TYPE = "video/mp4"

Color = tuple[int, int, int]
Box = tuple[float, float, float, float]

# Drawing happens at this multiple of the output size and is then box-filtered down, which gives
# smooth edges while keeping flat areas at their exact colour.
_SUPERSAMPLE = 2
_MIN_SIDE = 64
_MAX_SIDE = 4096
_CAPTION_SHARE = 0.17
_MAX_VIDEO_SIZE = (768, 512)
_FFMPEG_TIMEOUT_SECONDS = 120
_MAX_VIDEO_FRAMES = 3600

_OUTLINE_DARKNESS = 0.55
_INK: Color = (51, 45, 61)
_CAPTION_BACKGROUND: Color = (255, 251, 242)
_BADGE_BACKGROUND: Color = (46, 64, 87)
_BADGE_TEXT: Color = (255, 255, 255)

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


def _vocabulary(words: str) -> frozenset[str]:
    return frozenset(words.split())


_TIME_KEYWORDS: dict[str, frozenset[str]] = {
    "night": _vocabulary(
        "night nights nighttime midnight moon moons moonlight moonlit star stars starry starlight "
        "dark bedtime sleep sleepy sleeping asleep dream dreams dreaming owl owls lullaby goodnight"
    ),
    "sunset": _vocabulary("sunset sundown evening dusk twilight"),
    "morning": _vocabulary("morning dawn sunrise breakfast"),
    "day": _vocabulary("day daytime sunny sun sunshine noon afternoon picnic rainbow"),
}
_SETTING_KEYWORDS: dict[str, frozenset[str]] = {
    "sea": _vocabulary(
        "sea seas ocean oceans beach beaches boat boats sail sailing island islands wave waves "
        "fish shore seaside pirate pirates lake river mermaid whale whales harbor harbour swim "
        "swimming"
    ),
    "forest": _vocabulary(
        "forest forests wood woods woodland tree trees jungle grove mushroom mushrooms"
    ),
    "home": _vocabulary("home house houses cottage bedroom room kitchen village farm barn"),
    "snow": _vocabulary(
        "snow snowy snowman snowflake snowflakes winter ice icy frost frosty frozen christmas sled"
    ),
    "meadow": _vocabulary(
        "meadow field fields garden gardens flower flowers park hill hills grass bee bees "
        "butterfly butterflies"
    ),
}
_FALLBACK_TIMES = ("day", "day", "day", "morning", "sunset")
_FALLBACK_SETTINGS = ("meadow", "meadow", "forest", "sea", "home", "snow")

_SKY_GRADIENTS: dict[str, tuple[Color, Color]] = {
    "day": ((110, 190, 240), (208, 238, 255)),
    "morning": ((255, 200, 160), (255, 243, 214)),
    "sunset": ((109, 91, 166), (255, 158, 122)),
    "night": ((11, 29, 58), (44, 62, 117)),
}


class OfflineMediaError(RuntimeError):
    """Raised when offline media cannot be produced (for example ffmpeg failed)."""


@dataclass(frozen=True)
class CharacterLook:
    """How the main character looks; fixed by the palette seed."""

    body: Color
    accent: Color
    headwear: str


@dataclass(frozen=True)
class _Scene:
    time_of_day: str
    setting: str
    rng_seed: int
    words: frozenset[str]


@dataclass(frozen=True)
class _Layout:
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
    digest = _digest("character", palette_seed.strip().casefold())
    body, accent = _CHARACTER_PALETTES[digest[0] % len(_CHARACTER_PALETTES)]
    headwear = _EARS_BY_SPECIES.get(
        (species or "").strip().casefold(), _HEADWEAR[digest[1] % len(_HEADWEAR)]
    )
    return CharacterLook(body=body, accent=accent, headwear=headwear)


def character_body_point(width: int = 768, height: int = 512) -> tuple[int, int]:
    """Return a pixel that always shows the character's plain body colour at this image size."""
    layout = _layout(width, height)
    return (
        round(layout.character_x),
        round(layout.character_y + 0.45 * layout.character_radius),
    )


def draw_illustration(
    prompt: str,
    *,
    palette_seed: str,
    width: int = 768,
    height: int = 512,
    label: str = "Offline illustration",
    species: str | None = None,
) -> bytes:
    """Return PNG bytes of a simple, friendly, deterministic picture for `prompt`.

    The same (prompt, palette_seed) always gives identical bytes. `palette_seed` fixes the main
    character's look; the prompt picks the scene by keywords, otherwise by its hash.
    """
    _check_side("width", width)
    _check_side("height", height)
    layout = _layout(width, height)
    scene = _scene_for(prompt)
    look = character_look(palette_seed, species)
    rng = random.Random(scene.rng_seed)

    scale = _SUPERSAMPLE
    canvas = Image.new("RGB", (width * scale, height * scale), _CAPTION_BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    ground_color = _draw_scene(canvas, draw, layout, scene, rng, scale)
    _draw_character(draw, layout, look, ground_color, scale)
    image = canvas.reduce(scale)

    _draw_caption(image, layout, label, prompt)
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=False, compress_level=6)
    return output.getvalue()


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
    import subprocess
    import tempfile
    from pathlib import Path

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


# --- scene choice -------------------------------------------------------------------------------


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def _scene_for(prompt: str) -> _Scene:
    words = re.findall(r"[a-z]+", prompt.casefold())
    digest = _digest("scene", " ".join(prompt.split()))
    seed = int.from_bytes(digest[:8], "big")
    time_of_day = _first_keyword_match(words, _TIME_KEYWORDS, priority=True)
    setting = _first_keyword_match(words, _SETTING_KEYWORDS, priority=False)
    if time_of_day is None:
        time_of_day = _FALLBACK_TIMES[digest[8] % len(_FALLBACK_TIMES)]
    if setting is None:
        setting = _FALLBACK_SETTINGS[digest[9] % len(_FALLBACK_SETTINGS)]
    return _Scene(time_of_day=time_of_day, setting=setting, rng_seed=seed, words=frozenset(words))


def _first_keyword_match(
    words: list[str], keywords: dict[str, frozenset[str]], *, priority: bool
) -> str | None:
    """Pick a category: by dictionary order if `priority`, else by first mention in the prompt."""
    if priority:
        present = set(words)
        return next((name for name, vocab in keywords.items() if vocab & present), None)
    for word in words:
        for name, vocab in keywords.items():
            if word in vocab:
                return name
    return None


def _layout(width: int, height: int) -> _Layout:
    caption_height = max(24, round(height * _CAPTION_SHARE))
    scene_height = height - caption_height
    radius = 0.19 * min(scene_height, 0.6 * width)
    ground_line = scene_height * 0.92
    return _Layout(
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


def _check_side(name: str, value: int) -> None:
    if not _MIN_SIDE <= value <= _MAX_SIDE:
        raise ValueError(f"{name} must be between {_MIN_SIDE} and {_MAX_SIDE} pixels")


# --- colour arithmetic --------------------------------------------------------------------------


def _mix(color: Color, other: Color, amount: float) -> Color:
    return (
        round(color[0] + (other[0] - color[0]) * amount),
        round(color[1] + (other[1] - color[1]) * amount),
        round(color[2] + (other[2] - color[2]) * amount),
    )


def _darker(color: Color, factor: float) -> Color:
    return (round(color[0] * factor), round(color[1] * factor), round(color[2] * factor))


def _lit(color: Color, time_of_day: str) -> Color:
    """Tint a scenery colour for the time of day."""
    if time_of_day == "night":
        return _mix(color, (22, 32, 72), 0.5)
    if time_of_day == "sunset":
        return _mix(color, (255, 140, 110), 0.18)
    if time_of_day == "morning":
        return _mix(color, (255, 226, 190), 0.12)
    return color


# --- scenery ------------------------------------------------------------------------------------


def _draw_scene(
    canvas: Image.Image,
    draw: ImageDraw.ImageDraw,
    layout: _Layout,
    scene: _Scene,
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
        cloud_color = _lit((255, 255, 255), time_of_day)
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
    layout: _Layout,
    scale: int,
    time_of_day: str,
    far_color: Color,
    near_color: Color,
) -> Color:
    width = layout.width * scale
    horizon = layout.horizon * scale
    bottom = layout.scene_height * scale
    far = _lit(far_color, time_of_day)
    near = _lit(near_color, time_of_day)
    draw.ellipse((-0.3 * width, horizon - 0.12 * bottom, 0.6 * width, horizon + 0.5 * bottom), far)
    draw.ellipse((0.35 * width, horizon - 0.08 * bottom, 1.3 * width, horizon + 0.5 * bottom), far)
    draw.rectangle((0, horizon + 0.05 * bottom, width, bottom), near)
    draw.ellipse((-0.2 * width, horizon, 1.2 * width, horizon + 0.2 * bottom), near)
    return near


def _draw_sea(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    layout: _Layout,
    scale: int,
    scene: _Scene,
) -> Color:
    time_of_day = scene.time_of_day
    width = layout.width * scale
    horizon = layout.horizon * scale
    bottom = layout.scene_height * scale
    water = _lit((79, 163, 209), time_of_day)
    foam = _lit((225, 245, 255), time_of_day)
    sand = _lit((243, 217, 164), time_of_day)
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
    hull = _lit((200, 80, 70), time_of_day)
    sail = _lit((255, 250, 240), time_of_day)
    mast = _lit((110, 70, 50), time_of_day)
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
    shell = _lit((250, 180, 170), time_of_day)
    draw.pieslice((x - size, y - size, x + size, y + size), 180, 360, shell, _darker(shell, 0.7))


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
    _draw_face(draw, x, y + radius * 0.05, radius * 0.7, _darker(color, 0.55))
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
            _mix(_lit(color, time_of_day), (255, 255, 255), 0.25),
            round(band) + 1,
        )


def _draw_tree_row(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    layout: _Layout,
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
    trunk = _lit((121, 85, 61), time_of_day)
    needles = _lit((46, 125, 80), time_of_day)
    snow = _lit((250, 252, 255), time_of_day)
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
    trunk = _lit((133, 94, 66), time_of_day)
    leaves = _lit((76, 160, 84), time_of_day)
    fruit = _lit((231, 76, 60), time_of_day)
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
    draw: ImageDraw.ImageDraw, rng: random.Random, layout: _Layout, scale: int, time_of_day: str
) -> None:
    unit = min(layout.width, layout.scene_height) * scale
    x = rng.uniform(0.7, 0.8) * layout.width * scale
    base = (layout.horizon + 0.1 * layout.scene_height) * scale
    wall = _lit(rng.choice(((246, 231, 193), (250, 218, 221), (215, 236, 217))), time_of_day)
    roof = _lit(rng.choice(((209, 73, 91), (141, 90, 151), (46, 134, 171))), time_of_day)
    window = (
        (255, 224, 102)
        if time_of_day in ("night", "sunset")
        else _lit((173, 216, 230), time_of_day)
    )
    door = _lit((133, 94, 66), time_of_day)
    half, tall = unit * 0.17, unit * 0.24
    outline = _darker(wall, 0.6)
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
    layout: _Layout,
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
        petal = _lit(rng.choice(petals_choices), time_of_day)
        for index in range(5):
            angle = index * 2 * math.pi / 5
            px, py = x + size * math.cos(angle), y + size * math.sin(angle)
            draw.ellipse(
                (px - size * 0.7, py - size * 0.7, px + size * 0.7, py + size * 0.7), petal
            )
        center = _lit((255, 196, 0), time_of_day)
        draw.ellipse((x - size * 0.6, y - size * 0.6, x + size * 0.6, y + size * 0.6), center)


def _draw_mushrooms(
    draw: ImageDraw.ImageDraw, rng: random.Random, layout: _Layout, scale: int, time_of_day: str
) -> None:
    width = layout.width * scale
    unit = min(width, layout.scene_height * scale)
    cap = _lit((220, 70, 70), time_of_day)
    stem = _lit((250, 240, 220), time_of_day)
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
    flake = _lit((255, 255, 255), time_of_day)
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


# --- character ----------------------------------------------------------------------------------


def _draw_character(
    draw: ImageDraw.ImageDraw, layout: _Layout, look: CharacterLook, ground: Color, scale: int
) -> None:
    x = layout.character_x * scale
    y = layout.character_y * scale
    r = layout.character_radius * scale
    body, accent = look.body, look.accent
    outline = _darker(accent, _OUTLINE_DARKNESS)
    line = max(2, round(r * 0.04))

    def oval(cx: float, cy: float, rx: float, ry: float) -> Box:
        return (cx - rx, cy - ry, cx + rx, cy + ry)

    draw.ellipse(oval(x, y + 1.02 * r, 1.05 * r, 0.14 * r), _darker(ground, 0.82))

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
        draw.ellipse(oval(ex + 0.03 * r, ey + 0.03 * r, 0.1 * r, 0.11 * r), _INK)
        draw.ellipse(oval(ex + 0.06 * r, ey - 0.02 * r, 0.035 * r, 0.035 * r), (255, 255, 255))
        draw.ellipse(
            oval(x + side * 0.58 * r, y + 0.0 * r, 0.11 * r, 0.07 * r),
            _mix(body, (255, 120, 140), 0.45),
        )
    draw.chord(oval(x, y - 0.08 * r, 0.2 * r, 0.18 * r), 15, 165, (190, 70, 90), _INK, line)

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


# --- caption ------------------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _text_width(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, text: str) -> float:
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
        if _text_width(font, candidate) <= max_width:
            current = candidate
            index += 1
        elif current:
            lines.append(current)
            current = ""
        else:
            current = _truncate(words[index], font, max_width)
            index += 1
    if current and len(lines) < max_lines:
        lines.append(current)
    if index < len(words) and lines:
        lines[-1] = _truncate(lines[-1] + " …", font, max_width, force_ellipsis=True)
    return lines


def _truncate(
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    max_width: float,
    *,
    force_ellipsis: bool = False,
) -> str:
    if not force_ellipsis and _text_width(font, text) <= max_width:
        return text
    base = text.removesuffix(" …").rstrip()
    while base and _text_width(font, base + "…") > max_width:
        base = base[:-1]
    return base.rstrip() + "…"


def _draw_caption(image: Image.Image, layout: _Layout, label: str, prompt: str) -> None:
    draw = ImageDraw.Draw(image)
    top = layout.scene_height
    band = layout.caption_height
    width = layout.width
    draw.rectangle((0, top, width, layout.height), _CAPTION_BACKGROUND)
    draw.line((0, top, width, top), (232, 214, 190), max(1, band // 30))

    font_size = max(9, round(min(band * 0.21, width * 0.03)))
    font = _font(font_size)
    margin = max(4, round(band * 0.14))

    badge_text = _truncate(" ".join(label.split()) or "Offline", font, width * 0.4)
    pad_x, pad_y = font_size * 0.6, font_size * 0.45
    badge_width = _text_width(font, badge_text) + 2 * pad_x
    badge_height = font_size + 2 * pad_y
    badge_top = top + (band - badge_height) / 2
    draw.rounded_rectangle(
        (margin, badge_top, margin + badge_width, badge_top + badge_height),
        radius=badge_height / 2,
        fill=_BADGE_BACKGROUND,
    )
    draw.text(
        (margin + pad_x, badge_top + badge_height / 2), badge_text, _BADGE_TEXT, font, anchor="lm"
    )

    text_left = margin * 2 + badge_width
    lines = _fit_lines(" ".join(prompt.split()), font, width - text_left - margin, max_lines=2)
    line_height = font_size * 1.3
    text_top = top + (band - line_height * len(lines)) / 2
    for number, line in enumerate(lines):
        draw.text(
            (text_left, text_top + line_height * (number + 0.5)), line, _INK, font, anchor="lm"
        )


# --- video --------------------------------------------------------------------------------------


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
    font = _font(font_size)
    text = _truncate(" ".join(label.split()) or "Offline", font, frame_size[0] * 0.8)
    pad_x, pad_y = font_size * 0.7, font_size * 0.45
    width = round(_text_width(font, text) + 2 * pad_x)
    height = round(font_size + 2 * pad_y)
    badge = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(badge)
    draw.rounded_rectangle(
        (0, 0, width - 1, height - 1), radius=height / 2, fill=(*_BADGE_BACKGROUND, 220)
    )
    draw.text((pad_x, height / 2), text, (*_BADGE_TEXT, 255), font, anchor="lm")
    return badge


def _badge_position(frame_size: tuple[int, int]) -> tuple[int, int]:
    margin = max(4, round(frame_size[1] * 0.03))
    return margin, margin


@lru_cache(maxsize=4)
def _encoder_args(ffmpeg: str) -> tuple[str, ...]:
    """Encoder options: H.264 through libx264 when available, else MPEG-4 part 2."""
    import subprocess

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
