"""How the API answers errors: a domain error (kidstory.errors) with the status, body and
Retry-After it carries; a request that fails validation with a message per field."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kidstory.errors import KidStoryError
from kidstory.observability import logger


async def domain_error(request: Request, error: Exception) -> JSONResponse:
    """The answer a domain error carries; an outage worth a look (`warning`) is logged too."""
    assert isinstance(error, KidStoryError)
    if error.warning:
        cause = error.__cause__
        context = {"error": type(cause).__name__, "cause": str(cause)} if cause else {}
        logger.warning(error.warning, extra={"path": request.url.path, **context})
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers() or None)


async def invalid_request(request: Request, error: Exception) -> JSONResponse:
    """422 with each issue's type, location and message (not the input it was given)."""
    assert isinstance(error, RequestValidationError)
    details = [
        {key: value for key, value in issue.items() if key in ("type", "loc", "msg")}
        for issue in error.errors()
    ]
    return JSONResponse({"detail": details}, status_code=422)


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(KidStoryError, domain_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
