"""Every domain error reaches a client as the answer it carries (kidstory.errors): its status,
its body (a message, or a message at the field it is about), and Retry-After when waiting helps;
an outage worth a look is logged."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import story_library
from kidstory.access import RateLimited
from kidstory.config.settings import Settings
from kidstory.errors import KidStoryError
from kidstory.library import (
    CostOverLimit,
    IdempotencyConflict,
    IdempotencyKeyGone,
    ModerationUnavailable,
    NotFound,
    PromptRefused,
    StillRunning,
    WebhookUrlRefused,
    WorkflowUnavailable,
)
from kidstory.transactions import TableBusy
from tests.unit.conftest import JsonLines

IDEA = {"prompt": "An otter learns to swim", "age_group": "3-5", "num_illustrations": 1}


class Refusing:
    """A story library that answers every request with `error`."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def submit(self, *args: Any) -> Any:
        raise self.error


def answer(error: KidStoryError) -> Any:
    settings = Settings.from_environ({"TABLE_NAME": "t", "MEDIA_BUCKET": "b"})
    app = create_app(settings)
    app.dependency_overrides[story_library] = lambda: Refusing(error)
    return TestClient(app).post("/api/v1/stories/generate", json=IDEA)


def at(field: str, kind: str, message: str) -> dict[str, Any]:
    return {"detail": [{"type": kind, "loc": ["body", field], "msg": message}]}


@pytest.mark.parametrize(
    ("error", "status", "body", "retry_after"),
    [
        (NotFound("Story s-1 not found"), 404, {"detail": "Story s-1 not found"}, None),
        (StillRunning("still being made"), 409, {"detail": "still being made"}, None),
        (IdempotencyKeyGone("deleted"), 410, {"detail": "deleted"}, None),
        (IdempotencyConflict("another body"), 422, {"detail": "another body"}, None),
        (PromptRefused("no"), 422, at("prompt", "content_policy", "no"), None),
        (WebhookUrlRefused("private"), 422, at("webhook_url", "webhook_url", "private"), None),
        (CostOverLimit("too dear"), 422, at("num_illustrations", "cost_limit", "too dear"), None),
        (RateLimited("slow down", 42), 429, {"detail": "slow down"}, "42"),
        (WorkflowUnavailable("no workflow"), 503, {"detail": "no workflow"}, None),
        (ModerationUnavailable("unchecked"), 503, {"detail": "unchecked"}, None),
        (ModerationUnavailable("later", retry_after_seconds=3), 503, {"detail": "later"}, "3"),
        (TableBusy("busy"), 503, {"detail": "busy"}, "1"),
    ],
)  # fmt: skip
def test_a_domain_error_is_answered_as_it_says(
    error: KidStoryError,
    status: int,
    body: dict[str, Any],
    retry_after: str | None,
    event_loop_sockets: None,
) -> None:
    response = answer(error)

    assert (response.status_code, response.json()) == (status, body)
    assert response.headers.get("retry-after") == retry_after


def test_an_outage_is_logged_with_its_cause(event_loop_sockets: None, logged: JsonLines) -> None:
    try:
        raise TimeoutError("moderation took too long")
    except TimeoutError as cause:
        error = ModerationUnavailable("unchecked")
        error.__cause__ = cause

    answer(error)

    (line,) = [line for line in logged() if line["message"] == "moderation unavailable"]
    assert (line["level"], line["error"], line["cause"]) == (
        "WARNING",
        "TimeoutError",
        "moderation took too long",
    )
