"""A fresh Python interpreter that imports the API function as Lambda does (its package and the
kidstory layer on the path, the settings it needs), for cold-start checks and figures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API_ENVIRONMENT = {
    "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "layers/kidstory/python")),
    "TABLE_NAME": "cold-start",
    "MEDIA_BUCKET": "cold-start",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:cold-start",
}


def last_line(code: str, environment: dict[str, str] | None = None) -> str:
    """The last line `code` prints when run in a fresh interpreter (with `environment` added)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=os.environ | API_ENVIRONMENT | (environment or {}),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]
