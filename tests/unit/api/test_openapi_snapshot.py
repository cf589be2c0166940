"""The HTTP contract does not change by accident: the app's OpenAPI document (paths, operation
ids, tags, status codes, headers, bodies) equals the committed docs/openapi.json. After an
intended change, refresh it: `PYTHONPATH=functions:layers/kidstory/python python -m
api.openapi_snapshot`."""

from __future__ import annotations

import json

from api.openapi_snapshot import DOCUMENT, current_document, render


def test_the_api_serves_the_committed_openapi_document() -> None:
    document = current_document()

    assert document == json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert render(document) == DOCUMENT.read_text(encoding="utf-8")
