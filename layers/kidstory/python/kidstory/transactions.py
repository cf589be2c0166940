"""DynamoDB transactions under concurrency: which cancellations are worth trying again, and how
long to wait between tries (docs/architecture.md, DynamoDB).

DynamoDB cancels a transaction that meets another write in flight on one of its items
(`TransactionCanceledException`, reason `TransactionConflict`), and refuses a single-item write
to an item a transaction holds (`TransactionConflictException`). Nothing was written either way,
so the same write is tried again after a short, jittered wait. A failed condition
(`ConditionalCheckFailed`) is an answer, not a conflict: it is never retried."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kidstory.errors import ServiceUnavailable

CONFLICT = "TransactionConflict"
CONDITION_FAILED = "ConditionalCheckFailed"
# Cancellation reasons that say "not now" rather than "no": the write may succeed if tried again.
TRANSIENT_REASONS = frozenset({CONFLICT, "ThrottlingError", "ProvisionedThroughputExceeded"})
TABLE_BUSY_RETRY_AFTER_SECONDS = 1


class TableBusy(ServiceUnavailable):
    """A write kept meeting concurrent writes to the same items, more times than it is tried;
    nothing was written, and the same request may be sent again shortly."""

    warning = "writes kept conflicting"
    retry_after_seconds = TABLE_BUSY_RETRY_AFTER_SECONDS


def cancellation_codes(error: Exception) -> list[str]:
    """The reason code of each item of a cancelled transaction, in the request's order
    ("None" for an item that was fine)."""
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    return [str(reason.get("Code", "None")) for reason in response.get("CancellationReasons", [])]


def only_transient(codes: list[str]) -> bool:
    """True when a transaction was cancelled only by concurrency or throttling: no condition
    failed, and at least one item was in conflict."""
    return CONDITION_FAILED not in codes and any(code in TRANSIENT_REASONS for code in codes)


def _full_jitter(ceiling: float) -> float:
    return random.uniform(0, ceiling)  # a wait, not a secret


@dataclass(frozen=True)
class ConflictRetry:
    """Bounded retries with capped exponential backoff and full jitter: try `attempts` times in
    all, waiting a random time up to base * 2^n (at most `max_delay`) before try n + 1. The
    wait and the jitter are inputs, so tests neither sleep nor depend on chance."""

    attempts: int = 5
    base_delay: float = 0.02
    max_delay: float = 0.25
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    jitter: Callable[[float], float] = field(default=_full_jitter, repr=False)

    def wait(self, tries_so_far: int) -> None:
        """Wait before the next try, after `tries_so_far` conflicting ones."""
        self.sleep(self.jitter(min(self.max_delay, self.base_delay * 2 ** (tries_so_far - 1))))
