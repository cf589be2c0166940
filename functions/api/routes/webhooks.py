"""The caller's webhook signing secret: read it, rotate it."""

from __future__ import annotations

from fastapi import APIRouter

from api import docs
from api.deps import CallerDep, LibraryDep
from kidstory.contract import WebhookSecretResponse

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.get("/secret", response_model=WebhookSecretResponse, responses=docs.UNAUTHORIZED)
def webhook_secret(caller: CallerDep, library: LibraryDep) -> WebhookSecretResponse:
    """The secret that signs your webhook notices (Standard Webhooks)."""
    return library.webhook_secret(caller)


@router.post("/secret/rotate", response_model=WebhookSecretResponse, responses=docs.UNAUTHORIZED)
def rotate_webhook_secret(caller: CallerDep, library: LibraryDep) -> WebhookSecretResponse:
    """A new secret; notices are signed with the old one too for 24 hours."""
    return library.webhook_secret(caller, rotate=True)
