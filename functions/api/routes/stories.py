"""Stories: ask for one, follow its job, list, read and delete them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api import PREFIX, docs
from api.deps import CallerDep, LibraryDep, MediaAccessDep
from api.routes.accepted import IdempotencyKey, accepted
from kidstory.contract import GenerateResponse, JobStatusResponse, StoryListResponse, StoryResponse
from kidstory.estimate import EstimateResponse
from kidstory.models import StoryRequest

router = APIRouter(prefix=PREFIX, tags=["stories"])


@router.post(
    "/generate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateResponse,
    responses=docs.GENERATE,
)
def generate(
    request: StoryRequest,
    caller: CallerDep,
    response: Response,
    library: LibraryDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerateResponse:
    return accepted(library.submit(request, caller, idempotency_key), response, "Story generation")


@router.post("/estimate", response_model=EstimateResponse, responses=docs.ESTIMATE)
def estimate(request: StoryRequest, caller: CallerDep, library: LibraryDep) -> EstimateResponse:
    """What a story request (the body of generate) would cost: its units against your limits,
    and its price in US dollars item by item, from the stage's price table. Nothing is made
    and nothing is charged."""
    return library.estimate(request)


@router.get(
    "/jobs/{job_id}",
    response_model=JobStatusResponse,
    responses={**docs.UNAUTHORIZED, **docs.NOT_FOUND},
)
def job_status(job_id: str, caller: CallerDep, library: LibraryDep) -> JobStatusResponse:
    return library.job_status(job_id, caller)


@router.get("", response_model=StoryListResponse, responses=docs.UNAUTHORIZED)
def list_stories(
    caller: CallerDep,
    library: LibraryDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> StoryListResponse:
    return library.list_stories(caller, limit=limit, offset=offset)


@router.get(
    "/{story_id}",
    response_model=StoryResponse,
    responses={**docs.UNAUTHORIZED, **docs.NOT_FOUND},
)
def get_story(
    story_id: str,
    request: Request,
    caller: CallerDep,
    library: LibraryDep,
    access: MediaAccessDep,
    partial: Annotated[
        bool,
        Query(
            description="Also while its pictures and clips are being made: the text, and the "
            "pictures and clips made so far (`complete` false). Without it, a story is found "
            "only once completed."
        ),
    ] = False,
) -> StoryResponse:
    return library.story(story_id, caller, access.urls(request), partial=partial)


@router.delete(
    "/{story_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**docs.UNAUTHORIZED, **docs.NOT_FOUND, **docs.STILL_RUNNING},
)
def delete_story(story_id: str, caller: CallerDep, library: LibraryDep) -> Response:
    """Delete a story (by its id or its job's id) with its pictures, clips and job."""
    library.delete_story(story_id, caller)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
