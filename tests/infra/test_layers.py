"""The dependency layers of a function unpack into one folder (/opt/python): no two of them ship
the same top-level name, each ships what its requirements ask for at the shared pins, and a
layer is installed from the list of what it ships."""

from __future__ import annotations

from itertools import combinations
from typing import Any

from infra.bundling import BASE_GROUP, SHIPPED, shipped_names
from infra.lambda_factory import DEPENDENCY_LAYERS_DIR

GROUPS = sorted(path.parent.name for path in DEPENDENCY_LAYERS_DIR.glob("*/requirements.txt"))


def _pins(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        pin = line.split("#")[0].strip()
        if pin:
            name, version = pin.split("==")
            pins[name.split("[")[0].lower().replace("_", "-")] = version
    return pins


def function_layers(resources: dict[str, Any]) -> dict[str, list[str]]:
    """Each function's dependency layers, by group name (from the layer's description)."""
    groups = {
        logical_id: resource["Properties"]["Description"].split("layers/deps/")[1].split("/")[0]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::LayerVersion"
        and "layers/deps/" in resource["Properties"].get("Description", "")
    }
    return {
        logical_id: [
            groups[ref["Ref"]] for ref in resource["Properties"]["Layers"] if ref["Ref"] in groups
        ]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and "Layers" in resource["Properties"]
    }


def test_no_two_layers_of_a_function_ship_the_same_top_level_name(synthesized):
    shipped = {
        group: set().union(*shipped_names(DEPENDENCY_LAYERS_DIR / group).values())
        for group in GROUPS
    }
    layered = function_layers(synthesized.resources)
    assert any(len(groups) > 1 for groups in layered.values())
    for function, groups in layered.items():
        for first, second in combinations(groups, 2):
            both = shipped[first] & shipped[second]
            assert not both, f"{function}: layers {first} and {second} both ship {sorted(both)}"


def test_each_layer_ships_its_requirements_at_the_shared_pins():
    """shipped.txt is not stale: `make lock-layers` writes it from requirements.txt."""
    locked = _pins((DEPENDENCY_LAYERS_DIR / "constraints.txt").read_text())
    base = _pins((DEPENDENCY_LAYERS_DIR / BASE_GROUP / SHIPPED).read_text())
    for group in GROUPS:
        folder = DEPENDENCY_LAYERS_DIR / group
        ships = _pins((folder / SHIPPED).read_text())
        for name, version in ships.items():
            assert locked[name] == version, (group, name)
        for name in _pins((folder / "requirements.txt").read_text()):
            assert name in ships or name in base, f"{group} asks for {name}; no layer ships it"
        if group != BASE_GROUP:
            assert not ships.keys() & base.keys(), group
