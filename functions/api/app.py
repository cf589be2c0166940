"""The API's FastAPI app, assembled: middlewares, error handlers, routes and the web reader, with
the services it works with kept in `app.state` (see api.deps)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api import VERSION
from api.deps import Services
from api.errors import add_error_handlers
from api.middleware import RequestFraming, UnexpectedErrors
from api.routes import books, derived, health, media, pages, stories, usage, webhooks
from kidstory.config.settings import Settings
from kidstory.library import StoryLibrary
from kidstory.store.story_table import StoryTable

# The web reader: static files, served at /reader/ (and from CloudFront on AWS).
READER_DIR = Path(__file__).resolve().parent / "reader"


def create_app(
    settings: Settings,
    *,
    library: StoryLibrary | None = None,
    table: StoryTable | None = None,
) -> FastAPI:
    """The app for `settings`. The story library and its table are built from them at first
    use, unless given (tests give fakes)."""
    app = FastAPI(
        title="Kids Story Agent",
        version=VERSION,
        description="Turns a short idea into an illustrated children's story, with optional "
        "short videos. Post an idea, follow the job, read the story.",
    )
    app.state.services = Services(settings, library=library, table=table)
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(RequestFraming, max_bytes=settings.max_request_bytes)
    if settings.cors_origin_list:  # added last, so outermost: every answer carries its headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Retry-After", "Idempotent-Replayed"],
        )
    add_error_handlers(app)
    for part in (health, stories, derived, pages, books, media, webhooks, usage):
        app.include_router(part.router)
    app.mount("/reader", StaticFiles(directory=READER_DIR, html=True), name="reader")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        # relative, so that behind API Gateway it keeps the stage's path (/dev/reader/)
        return RedirectResponse("reader/")

    return app
