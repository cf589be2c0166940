"""The HTTP API (FastAPI). The same app runs behind API Gateway (through Mangum, see handler.py)
and under uvicorn in the local stack."""

from __future__ import annotations

import hmac
import posixpath
from collections.abc import Iterator
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kidstory.access import (
    ANONYMOUS_CALLER,
    SHARED_KEY_CALLER,
    Caller,
    RateLimited,
    parse_token,
    secret_matches,
)
from kidstory.config.load import get_settings
from kidstory.config.settings import Settings
from kidstory.contract import (
    ErrorResponse,
    GenerateResponse,
    HealthResponse,
    JobStatusResponse,
    StoryListResponse,
    StoryResponse,
    WebhookSecretResponse,
)
from kidstory.library import (
    CostOverLimit,
    IdempotencyConflict,
    IdempotencyKeyGone,
    MediaUrls,
    ModerationUnavailable,
    NotFound,
    PromptRefused,
    StillRunning,
    StoryLibrary,
    WebhookUrlRefused,
    WorkflowUnavailable,
)
from kidstory.media_links import ApiLinks, CloudFrontLinks
from kidstory.models import Asset, AssetKind, StoryRequest, could_be_id
from kidstory.observability import logger
from kidstory.store.story_table import StoryTable
from kidstory.transactions import TableBusy

VERSION = "1.0.0"
PREFIX = "/api/v1/stories"
MEDIA_PREFIX = {AssetKind.IMAGE: "images", AssetKind.VIDEO: "videos"}
# The web reader: static files, served at /reader/ (and from CloudFront on AWS).
READER_DIR = Path(__file__).resolve().parent / "reader"


@cache
def story_library() -> StoryLibrary:
    import boto3

    from kidstory.executions import WorkflowStarter
    from kidstory.providers import text_moderator
    from kidstory.wiring import media_store

    settings = get_settings()
    starter = WorkflowStarter(boto3.client("stepfunctions"), settings.require_state_machine_arn())
    return StoryLibrary(
        story_library_table(),
        starter,
        media_store(settings),
        per_minute=settings.rate_limit_per_minute,
        daily=settings.daily_quota,
        moderator=text_moderator(settings, "INPUT"),
        private_webhooks=settings.webhook_allow_private_targets,
    )


def story_library_table() -> StoryTable:
    from kidstory.wiring import story_table

    return story_table(get_settings())


class UnexpectedErrors:
    """Answers 500 (logged, no details) for an error nothing else handled, inside the CORS
    layer: Starlette's own last-resort handler sits outside every middleware, so its 500s
    would reach a browser on another origin (the web reader on CloudFront) as unreadable."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception:
            logger.exception("unhandled error", extra={"path": scope.get("path")})
            if started:  # too late for another answer
                raise
            response = JSONResponse(
                {"detail": "Internal server error"},
                status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            )
            await response(scope, receive, send)


class RequestFraming:
    """Reads each request body the way API Gateway and Lambda would accept it, before the app
    sees it: 400 for Content-Length together with Transfer-Encoding, or a Content-Length that is
    not a number; 413 for a body over the limit, counted as it arrives whatever Content-Length
    says (chunked bodies too); 400 for a JSON body that is not UTF-8. An oversized body is read
    and discarded up to DRAIN_BYTES first, so the client finishes sending and reads the 413
    instead of a reset connection."""

    DRAIN_BYTES = 32 * 1024 * 1024

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = [name.lower() for name, _ in scope["headers"]]
        declared = dict(scope["headers"]).get(b"content-length")
        if b"transfer-encoding" in names and declared is not None:
            await self._refuse(
                send, 400, "Content-Length and Transfer-Encoding cannot be sent together"
            )
            return
        if declared is not None and not declared.strip().isdigit():
            await self._refuse(send, 400, "Content-Length must be a number of bytes")
            return
        if declared is not None and int(declared) > self.DRAIN_BYTES:
            await self._too_large(send)
            return
        body = bytearray()
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            received += len(chunk)
            if received <= self.max_bytes:
                body += chunk
            more = message.get("more_body", False)
            if received > self.DRAIN_BYTES:
                break
        if received > self.max_bytes:
            await self._too_large(send)
            return
        if body and _is_json(scope) and not _is_utf8(bytes(body)):
            await self._refuse(send, 400, "There was an error parsing the body")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        limit_mb = self.max_bytes / (1024 * 1024)
        await self._refuse(send, 413, f"Request body too large: the limit is {limit_mb:g} MB")

    @staticmethod
    async def _refuse(send: Send, status_code: int, detail: str) -> None:
        response = JSONResponse({"detail": detail}, status_code=status_code)
        await response({"type": "http"}, _no_body, send)


def _is_json(scope: Scope) -> bool:
    """A body FastAPI reads as JSON: declared so, or with no Content-Type at all."""
    declared = dict(scope["headers"]).get(b"content-type", b"")
    content_type = declared.split(b";")[0].strip().lower()
    return content_type in (b"", b"application/json") or content_type.endswith(b"+json")


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def authenticate(
    request: Request,
    credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))
    ],
) -> Caller:
    """The caller a request speaks for (`caller_for`)."""
    return caller_for(credentials, sent="authorization" in request.headers)


def caller_for(credentials: HTTPAuthorizationCredentials | None, *, sent: bool) -> Caller:
    """A stored key's owner, the shared API_KEY's, or, when authentication is off and no
    credentials were `sent` at all, the anonymous caller. Credentials that are sent and are not
    valid (unknown, revoked, mistyped, another scheme) are refused, whatever the settings: they
    never fall back to the anonymous caller."""
    settings = get_settings()
    token = credentials.credentials if credentials else ""
    if settings.api_key and hmac.compare_digest(token.encode(), settings.api_key.encode()):
        return SHARED_KEY_CALLER
    parsed = parse_token(token)
    if parsed is not None:
        key = story_library_table().get_api_key(parsed[0])
        if key is not None and key.revoked_at is None and secret_matches(key, parsed[1]):
            return key.caller()
    if not sent and not settings.auth_required:
        return ANONYMOUS_CALLER
    raise HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="Missing or invalid API key: send Authorization: Bearer <key>",
        headers={"WWW-Authenticate": "Bearer"},
    )


CallerDep = Annotated[Caller, Depends(authenticate)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]
ExpiresQuery = Annotated[
    str | None, Query(max_length=20, description="Expiry of a signed media link (epoch seconds)")
]
SignatureQuery = Annotated[
    str | None, Query(max_length=100, description="Signature of a signed media link")
]


class MediaAccess:
    """Signed media links for a story's owner, and who may fetch a file: the holder of a link
    that has not expired, or the owner's own key (see kidstory.media_links)."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.media_link_secret
        self.settings = settings
        self.api_links = ApiLinks(
            secret.get_secret_value().encode() if secret else None, settings.media_link_seconds
        )

    @cached_property
    def cdn_links(self) -> CloudFrontLinks | None:
        """CloudFront signed URLs, when the stage has a signing key (made at first use, the
        private key read from SSM then)."""
        settings = self.settings
        if not (settings.media_base_url and settings.media_signing_key_id):
            return None
        key = settings.media_signing_key
        if key is not None:
            private_key = key.get_secret_value()
        else:  # read now, not at cold start: most requests sign nothing
            from kidstory.config.secrets import read_key_parameter

            private_key = read_key_parameter(
                "MEDIA_SIGNING_KEY_PARAMETER", settings.media_signing_key_parameter or ""
            )
        return CloudFrontLinks(
            settings.media_base_url,
            settings.media_signing_key_id,
            private_key,
            settings.media_link_seconds,
        )

    def cdn_url(self, key: str) -> str:
        links = self.cdn_links
        base = (self.settings.media_base_url or "").rstrip("/")
        return links.url(key) if links else f"{base}/{key}"

    def urls(self, request: Request) -> MediaUrls:
        """Where the owner fetches an asset: CloudFront on AWS, the API's media endpoints
        locally; signed either way."""
        if self.settings.media_base_url:
            return lambda asset: self.cdn_url(asset.media_key())
        api_base = str(request.base_url).rstrip("/") + PREFIX

        def url(asset: Asset) -> str:
            key = asset.media_key()
            return f"{api_base}/{MEDIA_PREFIX[asset.kind]}/{key}?{self.api_links.query(key)}"

        return url

    def may_fetch(
        self,
        key: str,
        expires: str | None,
        signature: str | None,
        credentials: HTTPAuthorizationCredentials | None,
        *,
        sent: bool,
    ) -> bool:
        """A signed link for `key`, or the bearer key of the story's owner (401 for a missing
        key where keys are required, and for a wrong one always)."""
        if self.api_links.allows(key, expires, signature):
            return True
        caller = caller_for(credentials, sent=sent)
        story = story_library_table().get_story_item(key.split("/")[1])
        return story is not None and story.owner == caller.owner


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="Kids Story Agent",
        version=VERSION,
        description="Turns a short idea into an illustrated children's story, with optional "
        "short videos. Post an idea, follow the job, read the story.",
    )
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(RequestFraming, max_bytes=settings.max_request_bytes)
    if settings.cors_origin_list:  # added last, so outermost: every answer carries its headers
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Retry-After", "Idempotent-Replayed"],
        )
    access = MediaAccess(settings)

    @app.exception_handler(NotFound)
    async def not_found(request: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_404_NOT_FOUND)

    @app.exception_handler(WorkflowUnavailable)
    async def unavailable(request: Request, error: WorkflowUnavailable) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE)

    @app.exception_handler(ModerationUnavailable)
    async def moderation_unavailable(
        request: Request, error: ModerationUnavailable
    ) -> JSONResponse:
        cause = error.__cause__
        logger.warning(
            "moderation unavailable",
            extra={"error": type(cause).__name__, "cause": str(cause)},
        )
        wait = error.retry_after_seconds
        return JSONResponse(
            {"detail": str(error)},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(wait)} if wait else None,
        )

    @app.exception_handler(TableBusy)
    async def table_busy(request: Request, error: TableBusy) -> JSONResponse:
        logger.warning("writes kept conflicting", extra={"path": request.url.path})
        return JSONResponse(
            {"detail": str(error)},
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(error.retry_after_seconds)},
        )

    @app.exception_handler(RateLimited)
    async def rate_limited(request: Request, error: RateLimited) -> JSONResponse:
        return JSONResponse(
            {"detail": str(error)},
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(error.retry_after_seconds)},
        )

    @app.exception_handler(StillRunning)
    async def still_running(request: Request, error: StillRunning) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_409_CONFLICT)

    @app.exception_handler(PromptRefused)
    async def prompt_refused(request: Request, error: PromptRefused) -> JSONResponse:
        issue = {"type": "content_policy", "loc": ["body", "prompt"], "msg": str(error)}
        return JSONResponse({"detail": [issue]}, status_code=422)

    @app.exception_handler(WebhookUrlRefused)
    async def webhook_refused(request: Request, error: WebhookUrlRefused) -> JSONResponse:
        issue = {"type": "webhook_url", "loc": ["body", "webhook_url"], "msg": str(error)}
        return JSONResponse({"detail": [issue]}, status_code=422)

    @app.exception_handler(CostOverLimit)
    async def cost_over_limit(request: Request, error: CostOverLimit) -> JSONResponse:
        issue = {"type": "cost_limit", "loc": ["body", "num_illustrations"], "msg": str(error)}
        return JSONResponse({"detail": [issue]}, status_code=422)

    @app.exception_handler(IdempotencyKeyGone)
    async def idempotency_key_gone(request: Request, error: IdempotencyKeyGone) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=status.HTTP_410_GONE)

    @app.exception_handler(IdempotencyConflict)
    async def idempotency_conflict(request: Request, error: IdempotencyConflict) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {key: value for key, value in issue.items() if key in ("type", "loc", "msg")}
            for issue in error.errors()
        ]
        return JSONResponse({"detail": details}, status_code=422)

    ResponseDocs = dict[int | str, dict[str, Any]]
    not_found_doc: ResponseDocs = {404: {"model": ErrorResponse}}
    unauthorized_doc: ResponseDocs = {
        401: {"model": ErrorResponse, "description": "Missing or invalid API key"}
    }
    generate_doc: ResponseDocs = {
        400: {"model": ErrorResponse, "description": "The body cannot be read (not UTF-8)"},
        **unauthorized_doc,
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

    def media_doc(media_type: str) -> ResponseDocs:
        return {
            200: {
                "description": "The file",
                "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
            },
            307: {"description": "Where the file is served from (the CDN, when configured)"},
            **unauthorized_doc,
            **not_found_doc,
        }

    @app.get("/health", response_model=HealthResponse, tags=["health"])
    def health() -> HealthResponse:
        return HealthResponse(status="healthy", version=VERSION)

    @app.post(
        f"{PREFIX}/generate",
        status_code=status.HTTP_202_ACCEPTED,
        response_model=GenerateResponse,
        responses=generate_doc,
        tags=["stories"],
    )
    def generate(
        request: StoryRequest,
        caller: CallerDep,
        response: Response,
        idempotency_key: Annotated[
            str | None,
            Header(
                min_length=1,
                max_length=255,
                description="Repeat a request safely: the same key returns the same job",
            ),
        ] = None,
    ) -> GenerateResponse:
        submitted = story_library().submit(request, caller, idempotency_key)
        job = submitted.job
        if submitted.replayed:
            response.headers["Idempotent-Replayed"] = "true"
            message = "Story generation was already started for this Idempotency-Key."
        else:
            logger.info("job accepted", extra={"job_id": job.job_id})
            message = "Story generation started. Use the job_id to check status."
        return GenerateResponse(job_id=job.job_id, status=job.status, message=message)

    @app.get(
        f"{PREFIX}/jobs/{{job_id}}",
        response_model=JobStatusResponse,
        responses={**unauthorized_doc, **not_found_doc},
        tags=["stories"],
    )
    def job_status(job_id: str, caller: CallerDep) -> JobStatusResponse:
        return story_library().job_status(job_id, caller)

    def media(
        kind: AssetKind,
        file_path: str,
        expires: str | None,
        signature: str | None,
        request: Request,
        credentials: HTTPAuthorizationCredentials | None,
    ) -> Any:
        key = posixpath.normpath(file_path)
        if (
            key != file_path
            or not key.startswith("stories/")
            or key.count("/") != 2
            or ".." in key.split("/")
            or not all(map(could_be_id, key.split("/")[1:]))  # too long to be ours: no lookup
        ):
            raise HTTPException(status_code=404, detail="Media not found")
        sent = "authorization" in request.headers
        if not access.may_fetch(key, expires, signature, credentials, sent=sent):
            raise HTTPException(status_code=404, detail="Media not found")
        if settings.media_base_url:
            return RedirectResponse(access.cdn_url(key), headers={"Cache-Control": "no-store"})
        from kidstory.wiring import media_store

        found = media_store(settings).open(key)
        expected_type = "image/" if kind is AssetKind.IMAGE else "video/"
        if found is None or not found.content_type.startswith(expected_type):
            raise HTTPException(status_code=404, detail="Media not found")
        chunks: Iterator[bytes] = found.chunks
        return StreamingResponse(
            chunks,
            media_type=found.content_type,
            headers={
                "Content-Length": str(found.size_bytes),
                "Cache-Control": "private, max-age=3600",
            },
        )

    @app.get(
        "/api/v1/webhooks/secret",
        response_model=WebhookSecretResponse,
        responses=unauthorized_doc,
        tags=["webhooks"],
    )
    def webhook_secret(caller: CallerDep) -> WebhookSecretResponse:
        """The secret that signs your webhook notices (Standard Webhooks)."""
        return story_library().webhook_secret(caller)

    @app.post(
        "/api/v1/webhooks/secret/rotate",
        response_model=WebhookSecretResponse,
        responses=unauthorized_doc,
        tags=["webhooks"],
    )
    def rotate_webhook_secret(caller: CallerDep) -> WebhookSecretResponse:
        """A new secret; notices are signed with the old one too for 24 hours."""
        return story_library().webhook_secret(caller, rotate=True)

    @app.get(
        f"{PREFIX}/images/{{file_path:path}}",
        response_class=Response,
        responses=media_doc("image/*"),
        tags=["media"],
    )
    def image(
        file_path: str,
        request: Request,
        credentials: BearerDep,
        expires: ExpiresQuery = None,
        signature: SignatureQuery = None,
    ) -> Any:
        return media(AssetKind.IMAGE, file_path, expires, signature, request, credentials)

    @app.get(
        f"{PREFIX}/videos/{{file_path:path}}",
        response_class=Response,
        responses=media_doc("video/*"),
        tags=["media"],
    )
    def video(
        file_path: str,
        request: Request,
        credentials: BearerDep,
        expires: ExpiresQuery = None,
        signature: SignatureQuery = None,
    ) -> Any:
        return media(AssetKind.VIDEO, file_path, expires, signature, request, credentials)

    @app.get(
        PREFIX,
        response_model=StoryListResponse,
        responses=unauthorized_doc,
        tags=["stories"],
    )
    def list_stories(
        caller: CallerDep,
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> StoryListResponse:
        return story_library().list_stories(caller, limit=limit, offset=offset)

    @app.get(
        f"{PREFIX}/{{story_id}}",
        response_model=StoryResponse,
        responses={**unauthorized_doc, **not_found_doc},
        tags=["stories"],
    )
    def get_story(story_id: str, request: Request, caller: CallerDep) -> StoryResponse:
        return story_library().story(story_id, caller, access.urls(request))

    @app.delete(
        f"{PREFIX}/{{story_id}}",
        status_code=status.HTTP_204_NO_CONTENT,
        responses={**unauthorized_doc, **not_found_doc, 409: {"model": ErrorResponse}},
        tags=["stories"],
    )
    def delete_story(story_id: str, caller: CallerDep) -> Response:
        """Delete a story (by its id or its job's id) with its pictures, clips and job."""
        story_library().delete_story(story_id, caller)
        return Response(status_code=status.HTTP_204_NO_CONTENT)

    app.mount("/reader", StaticFiles(directory=READER_DIR, html=True), name="reader")

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        # relative, so that behind API Gateway it keeps the stage's path (/dev/reader/)
        return RedirectResponse("reader/")

    return app


app = create_app(get_settings())
