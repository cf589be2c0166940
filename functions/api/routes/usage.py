"""The caller's spend: what its jobs cost this calendar month."""

from __future__ import annotations

from fastapi import APIRouter

from api import docs
from api.deps import CallerDep, LibraryDep
from kidstory.contract import MonthSpendResponse

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])


@router.get("", response_model=MonthSpendResponse, responses=docs.UNAUTHORIZED)
def month_spend(caller: CallerDep, library: LibraryDep) -> MonthSpendResponse:
    """Your spend this calendar month (UTC): the US dollars and units of your jobs that ended
    in it, each counted once when it ended (docs/cost.md)."""
    return library.month_spend(caller)
