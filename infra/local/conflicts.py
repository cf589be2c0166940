"""Transaction conflicts on the local stack's DynamoDB, switched on at will.

On AWS, a transaction that meets another write in flight on one of its items is cancelled with
`TransactionCanceledException`, reason `TransactionConflict` for that item. moto applies writes
one at a time and never does this, so code that mishandles it would only fail on AWS. With
`LOCAL_DYNAMODB_CONFLICTS` set (or `injected(...)` in a test), moto's `transact_write_items`
cancels transactions that way before applying anything, as DynamoDB does:

    LOCAL_DYNAMODB_CONFLICTS=first=2           the first 2 tries of every transaction conflict
    LOCAL_DYNAMODB_CONFLICTS=rate=0.3,seed=7   30% of tries conflict (seeded coin flips)
    LOCAL_DYNAMODB_CONFLICTS=first=1,rate=0.2  both
    unset, empty or "off"                      none (moto as it is)

A "transaction" is known by the keys it writes, so a retry of the same write counts as its
next try. The patch wraps whatever `DynamoDBBackend.transact_write_items` is (the emulator's
lock from `make_dynamodb_writes_atomic` included) and is installed once per process."""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

ENVIRONMENT_VARIABLE = "LOCAL_DYNAMODB_CONFLICTS"
CONFLICT_MESSAGE = "Transaction is ongoing for the item"


@dataclass(frozen=True)
class ConflictPolicy:
    """Which tries of a transaction conflict: the first `first` of each, then a `rate` of the
    rest (coin flips seeded with `seed`)."""

    first: int = 0
    rate: float = 0.0
    seed: int = 0

    @classmethod
    def parse(cls, text: str | None) -> ConflictPolicy | None:
        """`first=2`, `rate=0.3,seed=7`...; None for unset, empty or `off`."""
        if not text or text.strip().lower() in ("off", "0", "false", "no"):
            return None
        fields: dict[str, Any] = {}
        for part in text.split(","):
            name, sep, value = part.strip().partition("=")
            if not sep or name not in ("first", "rate", "seed"):
                raise ValueError(
                    f"{ENVIRONMENT_VARIABLE}={text!r}: expected first=N, rate=F and/or seed=N"
                )
            fields[name] = float(value) if name == "rate" else int(value)
        policy = cls(**fields)
        if policy.first < 0 or not 0 <= policy.rate <= 1:
            raise ValueError(f"{ENVIRONMENT_VARIABLE}={text!r}: first >= 0, 0 <= rate <= 1")
        return policy


class ConflictInjector:
    """Decides, per try, whether a transaction conflicts; counts what it injected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._policy: ConflictPolicy | None = None
        self._random = random.Random(0)
        self._tries: dict[tuple[str, ...], int] = {}
        self.injected = 0

    @property
    def policy(self) -> ConflictPolicy | None:
        return self._policy

    def configure(self, policy: ConflictPolicy | None) -> None:
        with self._lock:
            self._policy = policy
            self._random = random.Random(policy.seed if policy else 0)
            self._tries.clear()
            self.injected = 0

    def conflicting_item(self, transaction: tuple[str, ...]) -> int | None:
        """The index of the item this try of `transaction` conflicts on, or None to let it
        through."""
        with self._lock:
            policy = self._policy
            if policy is None or not transaction:
                return None
            tries = self._tries.get(transaction, 0) + 1
            conflict = tries <= policy.first or self._random.random() < policy.rate
            if not conflict:
                self._tries.pop(transaction, None)
                return None
            self._tries[transaction] = tries
            self.injected += 1
            return self._random.randrange(len(transaction))


conflicts = ConflictInjector()
_wrapped = False


def _item_key(backend: DynamoDBBackend, item: dict[str, Any]) -> str:
    ((operation, request),) = item.items()
    name = request.get("TableName", "")
    attributes = request["Item"] if operation == "Put" else request.get("Key", {})
    try:
        table = backend.get_table(name)
    except Exception:  # moto answers a missing table itself
        return f"{name}:{sorted(attributes)}"
    key_names = [table.hash_key_attr, table.range_key_attr]
    return f"{name}:{[attributes.get(key) for key in key_names if key]}"


def _wrap_transactions() -> None:
    """Wrap moto's `transact_write_items`, once per process (other wrappers, such as the
    emulator's write lock, may go around it later); inert while there is no policy."""
    global _wrapped
    if _wrapped:
        return
    _wrapped = True
    current = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[Any]) -> None:
        transaction = tuple(_item_key(self, item) for item in transact_items)
        conflicting = conflicts.conflicting_item(transaction)
        if conflicting is not None:  # cancelled before anything is applied, as on AWS
            raise TransactionCanceledException(
                [
                    ("TransactionConflict", CONFLICT_MESSAGE, None)
                    if index == conflicting
                    else (None, None, None)
                    for index in range(len(transact_items))
                ]
            )
        current(self, transact_items)

    # the emulator's write lock must not wrap it again (it marks what it has wrapped)
    transact_write_items._serialized = getattr(current, "_serialized", False)  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def install_conflict_injection(environ: Mapping[str, str] = os.environ) -> ConflictInjector:
    """Make transactions conflict as `LOCAL_DYNAMODB_CONFLICTS` says (none when unset)."""
    _wrap_transactions()
    conflicts.configure(ConflictPolicy.parse(environ.get(ENVIRONMENT_VARIABLE)))
    return conflicts


@contextmanager
def injected(policy: ConflictPolicy | str) -> Iterator[ConflictInjector]:
    """Inject conflicts with `policy` for the duration (a test's), then go back to the
    policy before."""
    _wrap_transactions()
    before = conflicts.policy
    conflicts.configure(ConflictPolicy.parse(policy) if isinstance(policy, str) else policy)
    try:
        yield conflicts
    finally:
        conflicts.configure(before)
