"""Stories made from a story: its sequel, and its versions in other languages or for other
ages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from api import PREFIX, docs
from api.deps import CallerDep, ServicesDep
from api.routes.accepted import IdempotencyKey, accepted
from kidstory.contract import GenerateResponse
from kidstory.derived_stories import DerivedStories
from kidstory.models import SequelRequest, VersionRequest

router = APIRouter(prefix=PREFIX, tags=["stories"])


def derived_stories(found: ServicesDep) -> DerivedStories:
    return DerivedStories(found.library, found.table)


DerivedDep = Annotated[DerivedStories, Depends(derived_stories)]


@router.post(
    "/{story_id}/sequel",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateResponse,
    responses={**docs.GENERATE, **docs.NOT_FOUND, **docs.NOT_READY},
)
def sequel(
    story_id: str,
    request: SequelRequest,
    caller: CallerDep,
    response: Response,
    derived: DerivedDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerateResponse:
    """The next story with the same hero and art style (a new job, followed like generate's).
    Fields left out are the story's own request's; the prompt says what happens next."""
    submitted = derived.sequel(story_id, request, caller, idempotency_key)
    return accepted(submitted, response, "Sequel generation")


@router.post(
    "/{story_id}/versions",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateResponse,
    responses={**docs.GENERATE, **docs.NOT_FOUND, **docs.NOT_READY},
)
def version(
    story_id: str,
    request: VersionRequest,
    caller: CallerDep,
    response: Response,
    derived: DerivedDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerateResponse:
    """The story in another language and/or for another age group, with its pictures and
    clips (copied, not made again): a new job, followed like generate's."""
    submitted = derived.version(story_id, request, caller, idempotency_key)
    return accepted(submitted, response, "Version generation")
