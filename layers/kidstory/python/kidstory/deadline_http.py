"""One HTTP request to a pinned address under a total deadline, with a bounded answer.

urllib3's timeouts apply to each socket operation, so a peer that trickles one byte at a time
can hold a request open for ever. Here a watchdog shuts the connection's socket down when the
deadline passes, which ends whatever read or write is blocked on it (connect, TLS handshake,
sending, the status line, headers or body alike), and the answer's body is read up to a limit.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass
from http.client import HTTPException
from typing import Any

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection


class DeadlineExceeded(Exception):
    """The whole exchange did not finish within its deadline."""


class AnswerTooLarge(Exception):
    """The peer's answer is larger than the caller reads."""


class RequestFailed(Exception):
    """The connection or the exchange failed (refused, reset, TLS, malformed answer)."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class _Watchdog:
    """Shuts a connection down once `seconds` have passed, unless the exchange ended first. It
    holds a duplicate of the connection's socket of its own, so it never touches a descriptor
    that someone else may have closed or reused."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._finished = False
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        """The connection's socket, just made: shut down at the deadline (at once if it passed
        while connecting). shutdown() acts on the connection behind any descriptor of it, so the
        duplicate stops reads and writes on the original, whatever object TLS wraps it in."""
        with self._lock:
            self._socket = sock.dup()
            if self.expired:
                self._shut_down()

    def _expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            self._shut_down()

    def _shut_down(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):  # already closed by the peer or the owner
                self._socket.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._finished = True
            self._timer.cancel()
            if self._socket is not None:
                self._socket.close()


class _DeadlineConnection:
    """Connects within the connect timeout; from then on reads and writes wait up to the whole
    deadline (urllib3 applies the connection's timeout to every read), and the watchdog ends
    them when it passes."""

    watchdog: _Watchdog
    timeout: Any

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self.timeout = self.watchdog.seconds
        sock.settimeout(self.watchdog.seconds)
        self.watchdog.watch(sock)
        return sock


class _WatchedHTTPConnection(_DeadlineConnection, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_DeadlineConnection, HTTPSConnection):
    pass


def post(
    *,
    scheme: str,
    address: str,
    port: int,
    server_name: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    deadline_seconds: float,
    connect_timeout_seconds: float,
    max_answer_bytes: int,
) -> Answer:
    """POST `body` to `address:port` (TLS verified for `server_name` over https); the status and
    at most `max_answer_bytes` of the answer. Redirects are answers, not followed."""
    timeout = min(connect_timeout_seconds, deadline_seconds)  # connecting; then the deadline
    connection: _WatchedHTTPConnection | _WatchedHTTPSConnection
    if scheme == "https":
        connection = _WatchedHTTPSConnection(
            address, port, timeout=timeout, server_hostname=server_name, assert_hostname=server_name
        )
    else:
        connection = _WatchedHTTPConnection(address, port, timeout=timeout)
    watchdog = connection.watchdog = _Watchdog(deadline_seconds)
    try:
        with watchdog:
            connection.request("POST", path, body=body, headers=headers, preload_content=False)
            response: Any = connection.getresponse()
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_answer_bytes:
                raise AnswerTooLarge(f"answer of {declared} bytes (at most {max_answer_bytes})")
            answer = response.read(max_answer_bytes + 1, decode_content=False)
            if watchdog.expired:  # the answer was cut short by the deadline
                raise DeadlineExceeded(f"no complete answer within {deadline_seconds:g} s")
            if len(answer) > max_answer_bytes:
                raise AnswerTooLarge(f"answer over {max_answer_bytes} bytes")
            return Answer(int(response.status), answer)
    except (urllib3.exceptions.HTTPError, HTTPException, OSError) as error:
        if watchdog.expired:
            raise DeadlineExceeded(f"no complete answer within {deadline_seconds:g} s") from None
        raise RequestFailed(f"{type(error).__name__}: {error}") from error
    finally:
        connection.close()
