"""draw_illustration: one offline picture, its scenery, hero and caption drawn at twice the
size and filtered down."""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

from kidstory.providers.offline_media.canvas import (
    CAPTION_BACKGROUND,
    SUPERSAMPLE,
    check_side,
    page_layout,
)
from kidstory.providers.offline_media.caption import draw_caption
from kidstory.providers.offline_media.character import character_look, draw_character
from kidstory.providers.offline_media.scene import scene_for
from kidstory.providers.offline_media.scenery import draw_scenery


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
    check_side("width", width)
    check_side("height", height)
    layout = page_layout(width, height)
    scene = scene_for(prompt)
    look = character_look(palette_seed, species)
    rng = random.Random(scene.rng_seed)

    scale = SUPERSAMPLE
    canvas = Image.new("RGB", (width * scale, height * scale), CAPTION_BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    ground_color = draw_scenery(canvas, draw, layout, scene, rng, scale)
    draw_character(draw, layout, look, ground_color, scale)
    image = canvas.reduce(scale)

    draw_caption(image, layout, label, prompt)
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=False, compress_level=6)
    return output.getvalue()
