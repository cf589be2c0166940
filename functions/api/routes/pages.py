"""One page of a story: regenerate it or edit its text (a job each), and list its versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from api import PREFIX, docs
from api.deps import CallerDep, MediaAccessDep, PageEditingDep
from api.routes.accepted import IdempotencyKey, accepted
from kidstory.contract import GenerateResponse, PageVersionsResponse
from kidstory.models import EditPageRequest, RegeneratePageRequest

router = APIRouter(prefix=PREFIX, tags=["pages"])

PageNumber = Annotated[int, Path(ge=1, le=1000, description="The page, 1-based")]


@router.post(
    "/{story_id}/pages/{page}/regenerate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateResponse,
    responses=docs.PAGE_CHANGE,
)
def regenerate_page(
    story_id: str,
    page: PageNumber,
    body: RegeneratePageRequest,
    caller: CallerDep,
    response: Response,
    editing: PageEditingDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerateResponse:
    """Redraw a page's picture (same hero, same art style) and/or rewrite its text to fit the
    pages around it. Every other page stays as it is; the story shows its current version
    until the job completes, then the new one (`page_versions`)."""
    submitted = editing.regenerate(story_id, page, body, caller, idempotency_key)
    return accepted(submitted, response, "Page regeneration")


@router.patch(
    "/{story_id}/pages/{page}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=GenerateResponse,
    responses=docs.PAGE_CHANGE,
)
def edit_page(
    story_id: str,
    page: PageNumber,
    body: EditPageRequest,
    caller: CallerDep,
    response: Response,
    editing: PageEditingDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerateResponse:
    """Replace a page's text with your own (moderated first); its readability is measured
    again and its narration, if the story is narrated, read again."""
    submitted = editing.edit(story_id, page, body, caller, idempotency_key)
    return accepted(submitted, response, "Page edit")


@router.get(
    "/{story_id}/pages/{page}/versions",
    response_model=PageVersionsResponse,
    responses={**docs.UNAUTHORIZED, **docs.NOT_FOUND},
)
def page_versions(
    story_id: str,
    page: PageNumber,
    request: Request,
    caller: CallerDep,
    editing: PageEditingDep,
    access: MediaAccessDep,
) -> PageVersionsResponse:
    """Every version of a page, oldest first, the current one included, each with its text
    and its picture and narration as they were (signed links, until the story expires)."""
    return editing.versions(story_id, page, caller, access.urls(request))
