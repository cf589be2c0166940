"""Stage configuration: one validated StageConfig per synth, read from cdk.json context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infra.config.checks import foundation_model_id, inference_profile_geography
from infra.config.errors import StageConfigError
from infra.config.stage import (
    DEFAULT_STAGE,
    LONGEST_PROVIDER_TIMEOUT_SECONDS,
    TUNABLE_SETTINGS,
    LogLevel,
    StageConfig,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def project_context() -> dict[str, Any]:
    """The context block of cdk.json, so `python3 app.py` sees what the CDK CLI would."""
    context: dict[str, Any] = json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]
    return context


__all__ = [
    "DEFAULT_STAGE",
    "LONGEST_PROVIDER_TIMEOUT_SECONDS",
    "PROJECT_ROOT",
    "TUNABLE_SETTINGS",
    "LogLevel",
    "StageConfig",
    "StageConfigError",
    "foundation_model_id",
    "inference_profile_geography",
    "project_context",
]
