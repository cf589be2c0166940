"""The API function must start fast: no LangGraph and no provider SDK behind its import."""

from __future__ import annotations

import json

from pytest_socket import enable_socket

from tests.fresh_interpreter import last_line

HEAVY = ("langgraph", "openai", "anthropic", "PIL", "imageio_ffmpeg", "cryptography")


def test_the_api_handler_does_not_import_heavy_packages() -> None:
    enable_socket()  # the child process needs none, but this keeps pytest-socket out of it
    code = (
        "import sys, json; import api.handler; "
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )

    assert json.loads(last_line(code)) == []
