"""A story's books: its EPUB 3 (read-along when narrated) and its print and screen PDFs, made
once when the story was finished. On AWS the API answers with a signed CloudFront link to the
file (a book can exceed what a Lambda response may carry); locally it serves the file."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, StreamingResponse

from api import PREFIX, docs
from api.deps import CallerDep, LibraryDep, Services, ServicesDep
from api.routes.media import open_part, streamed
from kidstory.access import Caller
from kidstory.books import EPUB, PRINT_PDF, SCREEN_PDF
from kidstory.library import StoryLibrary

router = APIRouter(prefix=PREFIX, tags=["books"])


@router.get(
    "/{story_id}/book.epub",
    response_class=StreamingResponse,
    responses=docs.media("application/epub+zip"),
)
def epub(
    story_id: str, request: Request, caller: CallerDep, library: LibraryDep, found: ServicesDep
) -> Any:
    """The story as an EPUB 3 picture book; a narrated story reads itself aloud in a reader
    that plays media overlays, highlighting each word as it is spoken."""
    return book(story_id, EPUB, caller, library, found, request)


@router.get(
    "/{story_id}/book.pdf",
    response_class=StreamingResponse,
    responses=docs.media("application/pdf"),
)
def pdf(
    story_id: str,
    request: Request,
    caller: CallerDep,
    library: LibraryDep,
    found: ServicesDep,
    variant: Annotated[
        Literal["print", "screen"],
        Query(
            description="print: 8.5 in square pages with 0.125 in bleed, a page count that is a "
            "multiple of 4, pictures at 300 DPI; screen: the same pages without bleed"
        ),
    ] = "print",
) -> Any:
    """The story as a PDF picture book, ready for a print-on-demand service or for reading."""
    name = PRINT_PDF if variant == "print" else SCREEN_PDF
    return book(story_id, name, caller, library, found, request)


def book(
    story_id: str,
    name: str,
    caller: Caller,
    library: StoryLibrary,
    found: Services,
    request: Request,
) -> Any:
    key, title = library.book_key(story_id, caller, name)
    if found.settings.media_base_url:
        return RedirectResponse(
            found.media_access.cdn_url(key), headers={"Cache-Control": "no-store"}
        )
    stored = open_part(found, key, request)
    if stored is None:
        raise HTTPException(status_code=404, detail=f"Story {story_id} has no {name}")
    filename = quote(f"{title}.{name.rsplit('.', 1)[1]}")
    return streamed(stored, {"Content-Disposition": f"attachment; filename*=UTF-8''{filename}"})
