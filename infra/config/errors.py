"""Stage configuration errors: pydantic's findings said in cdk.json's own key names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails


class StageConfigError(ValueError):
    """The cdk.json context does not describe a usable stage."""


def _options(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a, b, c"."""
    return expected.replace("'", "").replace(" or ", ", ")


def _problem(error: ErrorDetails, selectors: Mapping[str, str]) -> str:
    kind, loc, given = error["type"], error["loc"], error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    key = str(loc[-1]) if loc else ""
    if key in ("int", "float"):  # a member of `int | float`: a number of either kind
        return f"{loc[-2]} must be a number, not {given!r}"
    if kind == "union_tag_invalid":
        return (
            f"{selectors[key]} must be one of {_options(ctx['expected_tags'])}, not {ctx['tag']!r}"
        )
    if kind == "extra_forbidden" and len(loc) == 3:  # another provider's key
        group, provider, extra = loc
        return f"{extra} does not apply to {selectors[str(group)]} {provider}"
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "literal_error":
        return f"{key} must be one of {_options(ctx['expected'])}, not {given!r}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{key} must be a whole number, not {given!r}"
    if kind in ("float_parsing", "float_type"):
        return f"{key} must be a number, not {given!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{key} must be true or false, not {given!r}"
    if kind == "greater_than":
        return f"{key} must be greater than {ctx['gt']}, not {given!r}"
    if kind == "string_type":
        return f"{key} must be text, not {given!r}"
    if kind == "dict_type":
        return f"{key} must be a mapping of names to values or null"
    return f"{key}: {error['msg']}"


def stage_problems(error: ValidationError, selectors: Mapping[str, str]) -> list[str]:
    """Each problem of a stage once, naming its cdk.json key: missing and unknown keys first.
    `selectors` names the key that chooses each kind of provider ("text": "llm_provider")."""
    missing, unknown, problems = [], [], []
    for found in error.errors():
        kind, loc = found["type"], found["loc"]
        if kind == "missing" and len(loc) == 1:
            missing.append(str(loc[0]))
        elif kind == "union_tag_not_found":
            missing.append(selectors[str(loc[-1])])
        elif kind == "extra_forbidden" and len(loc) == 1:
            unknown.append(str(loc[0]))
        elif (problem := _problem(found, selectors)) not in problems:
            problems.append(problem)
    if missing:
        problems.insert(0, f"missing {', '.join(sorted(missing))}")
    if unknown:
        problems.insert(1 if missing else 0, f"unknown {', '.join(sorted(unknown))}")
    return problems
