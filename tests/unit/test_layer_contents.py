"""The kidstory layer ships the package Lambda runs, without the clients (the CLI and the key
admin), which run on people's machines."""

from __future__ import annotations

from pathlib import Path

from infra.bundling import CopyWithBytecode
from infra.lambda_factory import CLIENTS, KIDSTORY_LAYER_DIR


def test_the_kidstory_layer_leaves_the_clients_out(tmp_path: Path) -> None:
    bundler = CopyWithBytecode(KIDSTORY_LAYER_DIR / "python", "python", omit=[CLIENTS])

    assert bundler.try_bundle(str(tmp_path), image=None)  # type: ignore[arg-type]

    shipped = tmp_path / "python" / "kidstory"
    assert (shipped / "models.py").is_file()
    assert (shipped / "steps" / "pictures.py").is_file()
    assert not (shipped / "clients").exists()
    assert (KIDSTORY_LAYER_DIR / "python" / CLIENTS / "cli.py").is_file()  # there to omit
