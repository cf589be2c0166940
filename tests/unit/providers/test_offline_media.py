"""Unit tests for the offline provider's pictures and videos."""

from __future__ import annotations

import io
import re
import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image, ImageChops, ImageStat

from kidstory.providers.offline_media import (
    OFFLINE_IMAGE_CONTENT_TYPE,
    OFFLINE_VIDEO_CONTENT_TYPE,
    character_body_point,
    character_look,
    draw_illustration,
    render_video,
)

PROMPT = "Pip the fox finds a shiny shell on the beach on a sunny day"


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _top_level_boxes(data: bytes) -> list[str]:
    """Names of the top-level boxes of an MP4 file, in file order."""
    names: list[str] = []
    offset = 0
    while offset + 8 <= len(data):
        size, name = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        names.append(name.decode("latin-1"))
        if size < 8:
            break
        offset += size
    return names


def _probe(video: bytes, tmp_path: Path) -> tuple[str, int, tuple[int, int]]:
    """Decode the whole video with the bundled ffmpeg; return stream info, frame count, size."""
    path = tmp_path / "video.mp4"
    path.write_bytes(video)
    result = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-hide_banner",
            "-i",
            str(path),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    log = result.stderr.decode(errors="replace")
    stream = next(line for line in log.splitlines() if "Video:" in line and "rawvideo" not in line)
    dimensions = re.search(r", (\d+)x(\d+)", stream)
    assert dimensions is not None, stream
    width, height = int(dimensions[1]), int(dimensions[2])
    frame_bytes = width * height * 3
    assert len(result.stdout) % frame_bytes == 0
    return log, len(result.stdout) // frame_bytes, (width, height)


@pytest.fixture(scope="module")
def still() -> bytes:
    return draw_illustration(PROMPT, palette_seed="Pip")


def test_content_types() -> None:
    assert OFFLINE_IMAGE_CONTENT_TYPE == "image/png"
    assert OFFLINE_VIDEO_CONTENT_TYPE == "video/mp4"


def test_illustration_is_a_png_of_the_requested_size(still: bytes) -> None:
    assert still.startswith(b"\x89PNG\r\n\x1a\n")
    image = _open(still)
    assert image.format == "PNG"
    assert image.size == (768, 512)

    small = _open(draw_illustration(PROMPT, palette_seed="Pip", width=320, height=240))
    assert small.size == (320, 240)


def test_illustration_is_deterministic(still: bytes) -> None:
    assert draw_illustration(PROMPT, palette_seed="Pip") == still


def test_different_prompts_give_different_pictures(still: bytes) -> None:
    other = draw_illustration("Pip goes to sleep in a cosy bed at night", palette_seed="Pip")
    assert other != still
    assert _open(other).tobytes() != _open(still).tobytes()


def test_illustration_is_a_real_picture_not_a_blank_canvas(still: bytes) -> None:
    colors = _open(still).convert("RGB").getcolors(maxcolors=1_000_000)
    assert colors is not None
    assert len(colors) > 200
    most_common_share = max(count for count, _ in colors) / (768 * 512)
    assert most_common_share < 0.5


@pytest.mark.parametrize(
    "prompt",
    [
        "Mia builds a snowman in winter",
        "Mia sails a boat across the sea",
        "Mia gets lost in the forest at night",
        "Mia comes home for dinner at sunset",
        "Mia counts clouds",
    ],
)
def test_same_palette_seed_keeps_the_character_colour(prompt: str) -> None:
    image = _open(draw_illustration(prompt, palette_seed="Mia")).convert("RGB")
    assert image.getpixel(character_body_point()) == character_look("Mia").body


def test_character_colour_follows_the_palette_seed() -> None:
    seeds = ["Mia", "Pip", "Zoë", "Tom", "Ada", "Lena", "Omar", "Kai"]
    bodies = set()
    for seed in seeds:
        image = _open(draw_illustration("A picnic in the park", palette_seed=seed)).convert("RGB")
        body = image.getpixel(character_body_point())
        assert body == character_look(seed).body
        bodies.add(body)
    assert len(bodies) >= 3


def test_character_point_scales_with_image_size() -> None:
    png = draw_illustration(PROMPT, palette_seed="Pip", width=400, height=300)
    pixel = _open(png).convert("RGB").getpixel(character_body_point(400, 300))
    assert pixel == character_look("Pip").body


def test_night_prompts_have_a_dark_sky_and_day_prompts_a_bright_one() -> None:
    def sky_brightness(prompt: str) -> float:
        image = _open(draw_illustration(prompt, palette_seed="Pip")).convert("L")
        return ImageStat.Stat(image.crop((0, 0, 768, 120))).mean[0]

    assert sky_brightness("Pip looks at the moon and the stars at night") < 80
    assert sky_brightness("Pip plays in the meadow on a sunny day") > 150


def test_label_and_prompt_appear_in_the_caption_band() -> None:
    def caption(png: bytes) -> bytes:
        return _open(png).convert("RGB").crop((0, 430, 768, 512)).tobytes()

    base = draw_illustration(PROMPT, palette_seed="Pip")
    relabelled = draw_illustration(PROMPT, palette_seed="Pip", label="Local preview")
    assert caption(relabelled) != caption(base)
    band = _open(base).convert("L").crop((0, 430, 768, 512))
    dark_pixels = sum(band.histogram()[:100])
    assert dark_pixels > 300


def test_very_long_and_non_ascii_prompts_still_render() -> None:
    prompt = "Zoë und der Drache 🐉 " + "fly over the sleepy village and far away " * 30
    image = _open(draw_illustration(prompt, palette_seed="Zoë"))
    assert image.size == (768, 512)


@pytest.mark.parametrize("size", [(10, 512), (768, 0), (100_000, 512)])
def test_unreasonable_sizes_are_rejected(size: tuple[int, int]) -> None:
    with pytest.raises(ValueError):
        draw_illustration(PROMPT, palette_seed="Pip", width=size[0], height=size[1])


def test_video_is_a_streamable_mp4(still: bytes) -> None:
    video = render_video(still)
    assert video[4:8] == b"ftyp"
    boxes = _top_level_boxes(video)
    assert "moov" in boxes
    assert "mdat" in boxes
    assert boxes.index("moov") < boxes.index("mdat")


def test_video_decodes_with_expected_frames_codec_and_duration(
    still: bytes, tmp_path: Path
) -> None:
    video = render_video(still, seconds=3.0, fps=12)
    log, frames, size = _probe(video, tmp_path)
    assert frames == 36
    assert size == (768, 512)
    assert re.search(r"Duration: 00:00:0(2\.9\d|3\.0\d)", log)
    assert "yuv420p" in log
    encoders = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-encoders"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    expected_codec = "h264" if re.search(r"\blibx264\b", encoders) else "mpeg4"
    assert f"Video: {expected_codec}" in log


def test_video_length_follows_seconds_and_fps(still: bytes, tmp_path: Path) -> None:
    _, frames, _ = _probe(render_video(still, seconds=1.5, fps=8), tmp_path)
    assert frames == 12


def test_video_moves_and_is_labelled(still: bytes, tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(render_video(still, label="Offline video"))
    frames = []
    for timestamp in ("0", "2.9"):
        frame_path = tmp_path / f"frame-{timestamp}.png"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-v",
                "error",
                "-ss",
                timestamp,
                "-i",
                str(path),
                "-frames:v",
                "1",
                str(frame_path),
            ],
            check=True,
            timeout=60,
        )
        frames.append(Image.open(frame_path).convert("L"))
    first, last = frames
    assert ImageStat.Stat(ImageChops.difference(first, last)).mean[0] > 2
    assert len(first.getcolors(maxcolors=1_000_000) or []) > 50
    # The badge in the top-left corner is dark with white lettering on every frame.
    for frame in frames:
        histogram = frame.crop((10, 10, 170, 50)).histogram()
        assert sum(histogram[:90]) > 100
        assert sum(histogram[221:]) > 30


def test_non_image_input_is_rejected() -> None:
    with pytest.raises(ValueError):
        render_video(b"not a picture")


@pytest.mark.parametrize(("seconds", "fps"), [(0, 12), (-1, 12), (3.0, 0)])
def test_invalid_timing_is_rejected(still: bytes, seconds: float, fps: int) -> None:
    with pytest.raises(ValueError):
        render_video(still, seconds=seconds, fps=fps)


def test_odd_sized_stills_become_even_sized_video(tmp_path: Path) -> None:
    odd_still = draw_illustration("A small odd picture", palette_seed="Kai", width=301, height=201)
    _, frames, size = _probe(render_video(odd_still, seconds=1.0, fps=6), tmp_path)
    assert frames == 6
    assert size[0] % 2 == 0
    assert size[1] % 2 == 0


def test_the_heros_ears_suit_its_species() -> None:
    from kidstory.providers.offline_media import character_look

    assert character_look("Milo", "mouse").headwear == "round_ears"
    assert character_look("Rosie", "rabbit").headwear == "bunny_ears"
    assert character_look("Fern", "fox").headwear == "pointy_ears"
    assert character_look("Milo", "mouse").body == character_look("Milo").body  # same colours
    assert character_look("Zed", "robot").headwear == character_look("Zed").headwear
