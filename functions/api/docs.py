"""The answers the OpenAPI document lists for each route besides its success."""

from __future__ import annotations

from typing import Any

from kidstory.contract import ErrorResponse

ResponseDocs = dict[int | str, dict[str, Any]]

NOT_FOUND: ResponseDocs = {404: {"model": ErrorResponse}}
UNAUTHORIZED: ResponseDocs = {
    401: {"model": ErrorResponse, "description": "Missing or invalid API key"}
}
STILL_RUNNING: ResponseDocs = {409: {"model": ErrorResponse}}
NOT_READY: ResponseDocs = {
    409: {"model": ErrorResponse, "description": "The story is still being made"}
}
GENERATE: ResponseDocs = {
    400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8)"},
    **UNAUTHORIZED,
    410: {
        "model": ErrorResponse,
        "description": "The story made for this Idempotency-Key was deleted",
    },
    413: {"model": ErrorResponse, "description": "Request body over the size limit"},
    422: {
        "description": "Invalid request (a message per field), a prompt refused by "
        "moderation, a request that costs more than a limit of the caller's allows at "
        "once, or an Idempotency-Key reused with another body",
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        {"$ref": "#/components/schemas/HTTPValidationError"},
                        {"$ref": "#/components/schemas/ErrorResponse"},
                    ]
                }
            }
        },
    },
    429: {
        "model": ErrorResponse,
        "description": "Over a rate limit or daily quota",
        "headers": {
            "Retry-After": {
                "description": "Seconds until the limit's window resets",
                "schema": {"type": "integer"},
            }
        },
    },
    503: {
        "model": ErrorResponse,
        "description": "The idea could not be checked for safety (the moderation service "
        "failed), the story workflow could not be started, or concurrent requests kept "
        "the records busy; Retry-After, when present, says when to try again",
    },
}


def media(media_type: str) -> ResponseDocs:
    """A media file's answers: the file, or a redirect to where it is served from."""
    return {
        200: {
            "description": "The file",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
        206: {
            "description": "The part of the file a Range header asked for (one range of bytes)",
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
        307: {"description": "Where the file is served from (the CDN, when configured)"},
        416: {"model": ErrorResponse, "description": "The range asked for lies outside the file"},
        **UNAUTHORIZED,
        **NOT_FOUND,
    }


ESTIMATE: ResponseDocs = {
    400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8)"},
    **UNAUTHORIZED,
    413: {"model": ErrorResponse, "description": "Request body over the size limit"},
}


PAGE_CHANGE: ResponseDocs = {
    **GENERATE,
    **NOT_FOUND,
    409: {
        "model": ErrorResponse,
        "description": "Another change of the same story is running; try again once it ends",
    },
    422: {
        **GENERATE[422],
        "description": "Invalid request (a message per field), instructions or a page's text "
        "refused by moderation (content_policy, at body.instructions or body.text), nothing to "
        "regenerate (nothing_to_regenerate, at body.picture), or an Idempotency-Key reused with "
        "another body",
    },
}
