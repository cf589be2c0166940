"""A job's cost ledger: what every provider call of the job used, one line per quantity, priced
by the stage's price table (the one estimates use); the meter a step opens to write them and to
keep the job's cost cap against redos; and the job's cost summed from its lines.

A step opens `Ledger.metering(job_id, step)` around its work and each provider call in
`StepMeter.call`; providers report what they used (kidstory.usage), and code that asks again
wraps the new ask in `usage.redo`. Every job kind that runs through the steps is recorded the
same way. Line keys are made once per report, so a write replayed (a retried request, a
conflict) lands on the same item and counts once, while a step tried again by the workflow,
which calls its provider again, writes new lines, marked as a retry (docs/cost.md)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from kidstory import observability, usage
from kidstory.config.prices import PriceTable
from kidstory.config.settings import Settings
from kidstory.estimate import estimate
from kidstory.job_cost import JobCost, JobCostItem
from kidstory.models import Job, new_id, utc_now
from kidstory.providers.errors import ProviderError
from kidstory.usage import Usage

# The kind of work each unit is, as in an estimate's breakdown.
KIND_OF_UNIT = {
    usage.INPUT_TOKENS: "text",
    usage.OUTPUT_TOKENS: "text",
    usage.PICTURES: "pictures",
    usage.CLIP_SECONDS: "clips",
    usage.CHARACTERS: "narration",
}
KIND_OF_CALL: dict[observability.ProviderKind, str] = {
    "text": "text",
    "image": "pictures",
    "video": "clips",
    "narration": "narration",
}
KIND_ORDER = ["text", "pictures", "clips", "narration", "infrastructure"]
# A call that failed (throttled, timed out, refused...) is a line of this unit, not billed.
FAILED_CALLS = "failed calls"
# A step tried again by the workflow after a failed attempt: what it uses is a retry.
STEP_RETRY = "step retry"
INFRASTRUCTURE_MODEL = "lambda, step functions, dynamodb, s3, api gateway, eventbridge"


class LedgerLine(BaseModel):
    """One quantity one provider call of a job used, and its price."""

    job_id: str
    step: str = Field(description="write_story, image#000, video#001, audio#002...")
    line_id: str
    at: datetime
    kind: str
    provider: str
    model: str
    unit: str
    quantity: float
    detail: str = ""
    unit_price_usd: float | None
    usd: float | None
    redo: str | None = Field(
        default=None, description="Why it was asked again: step retry, repair, revision, redraw"
    )
    outcome: str = Field(default="ok", description="ok, or the error of a failed call")


class CostCapReached(ProviderError):
    """A repair, revision or redraw would take the job past its max_cost_usd: the job stops."""


class LedgerStore(Protocol):
    """Where lines are kept (kidstory.store.ledger.LedgerLines)."""

    def put_line(self, line: LedgerLine) -> None: ...

    def lines(self, job_id: str) -> list[LedgerLine]: ...

    def has_lines(self, job_id: str, step: str) -> bool: ...


@dataclass(frozen=True)
class CostCap:
    """A job's max_cost_usd, and the infrastructure's share of it (the estimate's figure)."""

    usd: float
    infrastructure: float


def cost_cap(job: Job | None, settings: Settings) -> CostCap | None:
    """The job's cap, with the infrastructure's share as its estimate gives it; None: none."""
    if job is None or job.request.max_cost_usd is None:
        return None
    breakdown = estimate(job.request, settings).breakdown
    infrastructure = sum(item.usd or 0.0 for item in breakdown if item.kind == "infrastructure")
    return CostCap(usd=job.request.max_cost_usd, infrastructure=infrastructure)


def priced(table: PriceTable, used: Usage) -> tuple[float | None, float | None]:
    """The unit price of `used` and its US dollars (None, None: the table has no price)."""
    price = table.price(used.provider, used.model)
    rate = price.unit_price(used.unit) if price is not None else None
    return rate, None if rate is None else used.quantity * rate


class Ledger:
    """Writes a job's lines and reads its cap: one per process, made with the stage's prices."""

    def __init__(
        self,
        store: LedgerStore,
        prices: PriceTable,
        *,
        cap: Callable[[str], CostCap | None] = lambda job_id: None,
        line_ids: Callable[[], str] = new_id,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.prices = prices
        self._cap = cap
        self._line_ids = line_ids
        self._clock = clock

    def cap_of(self, job_id: str) -> CostCap | None:
        return self._cap(job_id)

    def new_line_id(self) -> str:
        return self._line_ids()

    def now(self) -> datetime:
        return self._clock()

    @contextmanager
    def metering(self, job_id: str, step: str) -> Iterator[StepMeter]:
        """Meter one attempt of `step` of the job: what providers report inside is written."""
        meter = StepMeter(self, job_id, step)
        with usage.metered_by(meter):
            yield meter

    def cost(self, job_id: str, *, pictures: int, clips: int, pages_read: int) -> JobCost:
        """The job's cost: its lines summed, and the infrastructure for what it made."""
        infrastructure = self.prices.infrastructure(
            pictures=pictures, clips=clips, pages_read=pages_read
        )
        return summarise(self.store.lines(job_id), infrastructure)


# the usd of the provider call in progress in this context (a list: shared with its threads)
_call_spent: ContextVar[list[float] | None] = ContextVar("call_spent", default=None)


class StepMeter:
    """One attempt of one step of a job (kidstory.usage.UsageSink): every report a line."""

    def __init__(self, ledger: Ledger, job_id: str, step: str) -> None:
        self._ledger = ledger
        self.job_id = job_id
        self.step = step
        self._lock = threading.Lock()
        self._retry: bool | None = None  # known at the first line
        self._dearest_call = 0.0
        self._cap_read = False
        self._cap: CostCap | None = None

    @contextmanager
    def call(self, kind: observability.ProviderKind, provider: str, model: str) -> Iterator[None]:
        """One call to `provider`'s `model`, timed (ProviderLatency); a call that fails is a
        line too (unit "failed calls", no charge), so a throttled call shows in the ledger."""
        spent = [0.0]
        token = _call_spent.set(spent)
        try:
            with observability.provider_call(kind):
                yield
        except CostCapReached:
            raise
        except ProviderError as error:
            failed = Usage(provider, model, FAILED_CALLS, 1, redo=usage.current_redo())
            self._write(KIND_OF_CALL[kind], failed, outcome=type(error).__name__)
            raise
        finally:
            _call_spent.reset(token)
            with self._lock:
                self._dearest_call = max(self._dearest_call, spent[0])

    # kidstory.usage.UsageSink

    def record(self, used: Usage) -> None:
        spent = _call_spent.get()
        usd = self._write(KIND_OF_UNIT.get(used.unit, "other"), used)
        if spent is not None and usd:
            spent[0] += usd

    def before_redo(self, reason: str) -> None:
        """CostCapReached when the job's lines so far, the infrastructure's share and this redo
        (priced as the dearest call of this step so far) come to more than its cap."""
        cap = self._job_cap()
        if cap is None:
            return
        spent = sum(line.usd or 0.0 for line in self._ledger.store.lines(self.job_id))
        current = _call_spent.get()
        with self._lock:
            next_one = max(self._dearest_call, current[0] if current else 0.0)
        if spent + cap.infrastructure + next_one > cap.usd:
            observability.count("CostCapReached")
            raise CostCapReached(
                f"The story's cost cap (max_cost_usd ${cap.usd:.4f}) was reached: "
                f"${spent:.4f} spent on models so far and ${cap.infrastructure:.4f} of "
                f"infrastructure, so a {reason} (about ${next_one:.4f}) in {self.step} was not "
                "made"
            )

    def _job_cap(self) -> CostCap | None:
        with self._lock:
            if not self._cap_read:
                self._cap = self._ledger.cap_of(self.job_id)
                self._cap_read = True
            return self._cap

    def _is_retry(self) -> bool:
        with self._lock:
            if self._retry is None:
                self._retry = self._ledger.store.has_lines(self.job_id, self.step)
            return self._retry

    def _write(self, kind: str, used: Usage, *, outcome: str = "ok") -> float | None:
        rate, usd = (0.0, 0.0) if used.unit == FAILED_CALLS else priced(self._ledger.prices, used)
        redo = used.redo or (STEP_RETRY if self._is_retry() else None)
        line = LedgerLine(
            job_id=self.job_id,
            step=self.step,
            line_id=self._ledger.new_line_id(),
            at=self._ledger.now(),
            kind=kind,
            provider=used.provider,
            model=used.model,
            unit=used.unit,
            quantity=used.quantity,
            detail=used.detail,
            unit_price_usd=rate,
            usd=usd,
            redo=redo,
            outcome=outcome,
        )
        self._ledger.store.put_line(line)
        return usd


@contextmanager
def provider_call(kind: observability.ProviderKind, provider: str, model: str) -> Iterator[None]:
    """One call to a provider: in a metered step, its meter's `call` (timed, and a line when it
    fails); elsewhere only timed (observability.provider_call)."""
    meter = usage.current_sink()
    if isinstance(meter, StepMeter):
        with meter.call(kind, provider, model):
            yield
    else:
        with observability.provider_call(kind):
            yield


@contextmanager
def metering(ledger: Ledger | None, job_id: str, step: str) -> Iterator[None]:
    """`ledger.metering`, or nothing for a step made without a ledger."""
    if ledger is None:
        yield
        return
    with ledger.metering(job_id, step):
        yield


def summarise(lines: list[LedgerLine], infrastructure: float) -> JobCost:
    """The job's cost from its lines: one item per kind, provider, model and unit, and the
    infrastructure's."""
    groups: dict[tuple[str, str, str, str], list[LedgerLine]] = {}
    for line in lines:
        groups.setdefault((line.kind, line.provider, line.model, line.unit), []).append(line)
    items = [
        JobCostItem(
            kind=kind,
            provider=provider,
            model=model,
            unit=unit,
            quantity=round(sum(line.quantity for line in group), 6),
            usd=(
                None
                if any(line.usd is None for line in group)
                else round(sum(line.usd or 0.0 for line in group), 6)
            ),
            calls=len(group),
            retries=sum(1 for line in group if line.redo),
        )
        for (kind, provider, model, unit), group in groups.items()
    ]
    items.sort(
        key=lambda item: (
            KIND_ORDER.index(item.kind) if item.kind in KIND_ORDER else len(KIND_ORDER),
            item.provider,
            item.model,
            item.unit,
        )
    )
    items.append(
        JobCostItem(
            kind="infrastructure",
            provider="aws",
            model=INFRASTRUCTURE_MODEL,
            unit="story",
            quantity=1,
            usd=infrastructure,
            calls=0,
            retries=0,
        )
    )
    unpriced = any(item.usd is None for item in items)
    total = None if unpriced else round(sum(item.usd or 0.0 for item in items), 6)
    return JobCost(usd=total, items=items)
