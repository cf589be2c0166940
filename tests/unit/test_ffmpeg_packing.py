"""The clip functions' layer ships ffmpeg gzip-packed (infra/bundling.py) and the first use
unpacks it, once, into an executable that runs; unpacked layers use imageio-ffmpeg's own."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import imageio_ffmpeg

from infra.bundling import pack_binaries
from kidstory.ffmpeg import ffmpeg_executable, packed_binary, unpacked

SCRIPT = b"#!/bin/sh\necho ffmpeg version offline-test\n"


def _layer_with_ffmpeg(root: Path) -> Path:
    binaries = root / "python" / "imageio_ffmpeg" / "binaries"
    binaries.mkdir(parents=True)
    binary = binaries / "ffmpeg-linux-aarch64-v9.0.2"
    binary.write_bytes(SCRIPT)
    binary.chmod(0o755)
    (binaries / "README.md").write_text("not an executable")
    return binaries


def test_bundling_packs_ffmpeg_and_nothing_else(tmp_path: Path) -> None:
    binaries = _layer_with_ffmpeg(tmp_path)

    pack_binaries(tmp_path / "python")
    pack_binaries(tmp_path / "python")  # a second pass leaves the packed file alone

    assert sorted(path.name for path in binaries.iterdir()) == [
        "README.md",
        "ffmpeg-linux-aarch64-v9.0.2.gz",
    ]
    assert gzip.decompress((binaries / "ffmpeg-linux-aarch64-v9.0.2.gz").read_bytes()) == SCRIPT


def test_a_packed_ffmpeg_is_unpacked_once_into_an_executable_that_runs(tmp_path: Path) -> None:
    binaries = _layer_with_ffmpeg(tmp_path)
    pack_binaries(tmp_path / "python")
    packed = packed_binary(binaries)
    assert packed is not None
    scratch = tmp_path / "tmp"
    scratch.mkdir()

    first = unpacked(packed, scratch)
    written = first.stat().st_mtime_ns
    again = unpacked(packed, scratch)

    assert first == again == scratch / "ffmpeg-linux-aarch64-v9.0.2"
    assert again.stat().st_mtime_ns == written
    assert subprocess.run([str(first)], capture_output=True, check=True).stdout == (
        b"ffmpeg version offline-test\n"
    )
    assert [path.name for path in scratch.iterdir()] == [first.name]  # no partial file left


def test_an_unpacked_layer_uses_imageio_ffmpegs_own_binary() -> None:
    assert ffmpeg_executable() == imageio_ffmpeg.get_ffmpeg_exe()
