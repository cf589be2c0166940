"""The API's ASGI middlewares: request bodies framed as API Gateway accepts them, and a 500 for
an error nothing else handled."""

from __future__ import annotations

from fastapi import status
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kidstory.observability import logger


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
