"""What a provider call used, as the provider itself reports it (tokens in and out, pictures,
clip seconds, characters read aloud), and whether the call was a redo (a repair, a revision, a
redraw); reported to whoever is metering the work (kidstory.ledger), if anyone is.

Providers call `report` after every call the provider bills, and the code that asks again for
something it already paid for wraps the new ask in `redo`. Both go to the meter the step opened
for its work (a context variable, so the threads LangGraph starts with the step's context report
to the same meter); outside a metered step they do nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

# The units usage is counted in, each priced by a ModelPrice field
from kidstory.config.prices import (
    CHARACTERS,
    CLIP_SECONDS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    PICTURES,
)

__all__ = [
    "CHARACTERS",
    "CLIP_SECONDS",
    "INPUT_TOKENS",
    "OUTPUT_TOKENS",
    "PICTURES",
    "Usage",
    "UsageSink",
    "current_redo",
    "current_sink",
    "metered_by",
    "redo",
    "report",
]


@dataclass(frozen=True)
class Usage:
    """One quantity one provider call used. `detail` says what it was (a picture's size and
    quality, a voice); `redo` why it was asked again, when it was."""

    provider: str
    model: str
    unit: str
    quantity: float
    detail: str = ""
    redo: str | None = None


class UsageSink(Protocol):
    """Where reports go: a step's meter (kidstory.ledger.StepMeter)."""

    def record(self, usage: Usage) -> None: ...

    def before_redo(self, reason: str) -> None:
        """Raises when the redo may not be made (kidstory.ledger.CostCapReached)."""


_sink: ContextVar[UsageSink | None] = ContextVar("usage_sink", default=None)
_redo: ContextVar[str | None] = ContextVar("usage_redo", default=None)


def report(provider: str, model: str, unit: str, quantity: float, detail: str = "") -> None:
    """A provider call used `quantity` of `unit` (nothing happens outside a metered step)."""
    sink = _sink.get()
    if sink is not None:
        sink.record(Usage(provider, model, unit, float(quantity), detail, _redo.get()))


def current_sink() -> UsageSink | None:
    """The meter of the work in progress, if it is metered."""
    return _sink.get()


def current_redo() -> str | None:
    """Why the work in progress is asked again, if it is (inside `redo`)."""
    return _redo.get()


@contextmanager
def redo(reason: str) -> Iterator[None]:
    """Ask again for something already paid for ("repair", "revision", "redraw"): the meter
    may refuse (a cost cap), and what is used inside is marked with `reason`."""
    sink = _sink.get()
    if sink is not None:
        sink.before_redo(reason)
    token = _redo.set(reason)
    try:
        yield
    finally:
        _redo.reset(token)


@contextmanager
def metered_by(sink: UsageSink) -> Iterator[None]:
    """Reports made inside (and in threads started with this context) go to `sink`."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)
