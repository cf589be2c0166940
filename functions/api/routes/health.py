"""GET /health: the service answers, and which version it is."""

from __future__ import annotations

from fastapi import APIRouter

from api import VERSION
from kidstory.contract import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse)
def health() -> HealthResponse:
    return HealthResponse(status="healthy", version=VERSION)
