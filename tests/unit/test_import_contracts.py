"""The contracts of .importlinter that list modules name every module of kidstory: a module
added without being named there would escape them."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "kidstory" / "python" / "kidstory"


def _modules() -> set[str]:
    files = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    packages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    return {f"kidstory.{name}" for name in files | packages}


@pytest.mark.parametrize(
    ("contract", "leaf"), [("config-leaf", "config"), ("errors-leaf", "errors")]
)
def test_a_leaf_contract_forbids_every_other_module(contract: str, leaf: str) -> None:
    contracts = configparser.ConfigParser()
    contracts.read(ROOT / ".importlinter")
    forbidden = set(contracts[f"importlinter:contract:{contract}"]["forbidden_modules"].split())

    assert forbidden == _modules() - {f"kidstory.{leaf}"} | {"api", "infra"}


def test_every_module_but_the_clients_is_kept_from_importing_them() -> None:
    contracts = configparser.ConfigParser()
    contracts.read(ROOT / ".importlinter")
    sources = set(contracts["importlinter:contract:clients-outside"]["source_modules"].split())

    assert sources == _modules() - {"kidstory.clients"} | {"api"}
