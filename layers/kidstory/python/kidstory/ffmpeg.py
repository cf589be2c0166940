"""Where ffmpeg is: imageio-ffmpeg's binary, unpacked once into the temporary folder when the
clip functions' layer ships it packed.

The binary is 125 MiB of the 250 MiB a function's code and layers may unpack to, so the video
layer ships it gzip-packed (58 MiB; infra/bundling.py packs it) and the first use in a process
unpacks it into a folder of its own under /tmp, about a second on Lambda. Where it is not
packed (development machines, tests), imageio-ffmpeg's own binary is used as it is.
"""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import threading
from functools import cache
from pathlib import Path

PACKED_SUFFIX = ".gz"
_unpacking = threading.Lock()


def packed_binary(binaries: Path) -> Path | None:
    """The packed ffmpeg in imageio-ffmpeg's `binaries` folder, if the layer packed it."""
    found = sorted(binaries.glob(f"ffmpeg-*{PACKED_SUFFIX}"))
    return found[0] if found else None


def ffmpeg_executable() -> str:
    """The path of an ffmpeg that runs."""
    import imageio_ffmpeg

    packed = packed_binary(Path(imageio_ffmpeg.__file__).parent / "binaries")
    if packed is None:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    return str(unpacked(packed, _private_folder()))


@cache
def _private_folder() -> Path:
    """A folder of this process's own under the temporary folder (mode 0700): what runs from it
    is what this process wrote, never a file someone else left in /tmp."""
    return Path(tempfile.mkdtemp(prefix="kidstory-ffmpeg-"))


def unpacked(packed: Path, into: Path) -> Path:
    """`packed` unpacked into `into` as an executable, once per process and folder: the file
    appears whole (written aside, then renamed) or not at all."""
    target = into / packed.name.removesuffix(PACKED_SUFFIX)
    with _unpacking:
        if not target.exists():
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            try:
                with gzip.open(packed, "rb") as source, partial.open("wb") as sink:
                    shutil.copyfileobj(source, sink, length=1024 * 1024)
                partial.chmod(0o755)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
    return target
