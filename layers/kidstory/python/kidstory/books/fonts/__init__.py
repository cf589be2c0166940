"""The typeface the books are set in, shipped with the package (Lambda has no system fonts):
DejaVu Sans 2.37, free under the Bitstream Vera and Arev licences (LICENSE-DejaVu.txt beside
it). It covers Latin, Greek, Cyrillic and Hebrew."""

from __future__ import annotations

from pathlib import Path

DEJAVU_SANS = Path(__file__).with_name("DejaVuSans.ttf")
