"""The API's HTTP contract as a committed file, docs/openapi.json; refresh it with
`PYTHONPATH=functions:layers/kidstory/python python -m api.openapi_snapshot`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.app import create_app
from kidstory.config.settings import Settings

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
# Enough settings to build the app; its document does not depend on them.
PLACEHOLDER_SETTINGS = {"TABLE_NAME": "openapi", "MEDIA_BUCKET": "openapi"}


def current_document() -> dict[str, Any]:
    """The OpenAPI document of the app as the code builds it now."""
    return create_app(Settings.from_environ(PLACEHOLDER_SETTINGS)).openapi()


def render(document: dict[str, Any]) -> str:
    """Pretty-printed with sorted keys, so a change reads as a small diff."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DOCUMENT.write_text(render(current_document()), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
