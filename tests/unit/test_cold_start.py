"""The API function must start fast: no LangGraph and no provider SDK behind its import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pytest_socket import enable_socket

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("langgraph", "openai", "anthropic", "PIL", "imageio_ffmpeg", "cryptography")


def test_the_api_handler_does_not_import_heavy_packages() -> None:
    enable_socket()  # the child process needs none, but this keeps pytest-socket out of it
    code = (
        "import sys, json; import api.handler; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    env = os.environ | {
        "PYTHONPATH": os.pathsep.join(
            str(ROOT / p) for p in ("functions", "layers/kidstory/python")
        ),
        "TABLE_NAME": "t",
        "MEDIA_BUCKET": "b",
        "STATE_MACHINE_ARN": "arn",
    }

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
