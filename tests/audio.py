"""Real audio for the tests: a quiet tone encoded as MP3 (lameenc), as long as asked, so that
players and mutagen read a true length."""

from __future__ import annotations

import math
import struct


def tone_mp3(
    seconds: float, *, rate: int = 24_000, amplitude: int = 3000, bit_rate: int = 48
) -> bytes:
    """A mono 440 Hz tone of `seconds`, 16-bit at `rate` Hz, as MP3."""
    import lameenc

    frames = round(seconds * rate)
    samples = (round(amplitude * math.sin(2 * math.pi * 440 * n / rate)) for n in range(frames))
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bit_rate)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(struct.pack(f"<{frames}h", *samples)) + encoder.flush())
