"""The service's one error model: each domain error carries its HTTP meaning (status, Retry-After)
and the body that explains it, so one handler in the API answers them all."""

from __future__ import annotations

from typing import Any, ClassVar


class KidStoryError(Exception):
    """An answer the service gives instead of the one asked for. `status` is its HTTP status;
    `retry_after_seconds`, when set, says when the same request may succeed (Retry-After);
    `warning`, when set, is logged when a request meets it (an outage worth a look)."""

    status: ClassVar[int] = 500
    warning: ClassVar[str | None] = None
    retry_after_seconds: int | None = None

    def __init__(self, message: str, *, retry_after_seconds: int | None = None) -> None:
        super().__init__(message)
        if retry_after_seconds is not None:
            self.retry_after_seconds = retry_after_seconds

    def body(self) -> dict[str, Any]:
        """The JSON body of the answer: the message as `detail`."""
        return {"detail": str(self)}

    def headers(self) -> dict[str, str]:
        """Retry-After, when the error says when to try again."""
        wait = self.retry_after_seconds
        return {} if wait is None else {"Retry-After": str(wait)}


class NotFoundError(KidStoryError):
    """No such thing, or not one the caller may see (404)."""

    status = 404


class ConflictError(KidStoryError):
    """Not possible in the thing's present state (409)."""

    status = 409


class GoneError(KidStoryError):
    """It existed and was deleted for good (410)."""

    status = 410


class InvalidRequest(KidStoryError):
    """A request the service will not carry out as sent; sending it again will not help (422)."""

    status = 422


class FieldRefused(InvalidRequest):
    """An invalid request whose reason lies in one field of the body: answered like a validation
    error, `{"detail": [{"type", "loc", "msg"}]}`, so clients show it at that field."""

    issue_type: ClassVar[str]
    field: ClassVar[str]

    def body(self) -> dict[str, Any]:
        issue = {"type": self.issue_type, "loc": ["body", self.field], "msg": str(self)}
        return {"detail": [issue]}


class TooManyRequests(KidStoryError):
    """Over a rate limit or quota (429); Retry-After says when the full window resets."""

    status = 429

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)


class ServiceUnavailable(KidStoryError):
    """Something the request needs failed or was busy; the same request may be sent again
    (503, with Retry-After when the wait is known)."""

    status = 503
