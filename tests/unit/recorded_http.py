"""A provider API behind an httpx2 mock transport: canned replies, every request kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

Reply = httpx2.Response | Callable[[httpx2.Request], httpx2.Response]


class RecordedReplies:
    """Answers requests with the given replies in turn and keeps every request (pass it to
    `httpx2.MockTransport`)."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        reply = self.replies.pop(0)
        return reply(request) if callable(reply) else reply

    def body(self, index: int = 0) -> Any:
        return json.loads(self.requests[index].content)
