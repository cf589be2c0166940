"""`make bench`, the infrastructure's own figures: what one story costs on AWS besides the models'
fees, how long until its text can be read against until it is complete, and how many model calls
run one after another before the first picture is started.

Every figure is counted from what happened in a run on the local stack (infra/local/), with the
offline providers made to wait as a hosted model would:

- Lambda: each invocation of each function timed in this process (the emulator's handlers
  wrapped), times the function's memory in the synthesized template; the API function's
  invocations are the HTTP requests the client made, timed in the ASGI app.
- Step Functions: the state transitions in the execution's history.
- DynamoDB, S3, SQS, EventBridge: every AWS call made in the process (botocore's
  `BaseClient._make_api_call` wrapped), by our functions, the Step Functions interpreter's
  service integrations and Lambda's SQS poller; the emulator's own bookkeeping is left out.
  DynamoDB's request units are computed from the sizes of the items read and written (read
  back before and after each write), by DynamoDB's published rules: moto reports no real
  consumed capacity.
- CloudFront: the media the client fetched (served locally by the API, in CloudFront's place).
- CloudWatch Logs and X-Ray: estimates, printed as such.

The offline story writer waits OFFLINE_TEXT_SECONDS in each draft (`write_story`) but answers a
scene plan (`plan_scenes`) at once, where a model-backed writer makes one model call for each
(kidstory.providers.structured_text). Here each scene plan waits as long as a draft, so that every
text-provider call costs what a hosted model's would. OFFLINE_IMAGE_SECONDS is per picture.

Run alone: `python -m tests.bench.infra_cost` (the figures), or `--smoke [template.json]` (no
waits, few pictures: the smoke test's run, which checks the lines are printed, not the values).
"""

from __future__ import annotations

import argparse
import contextvars
import io
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
import httpx
from botocore.client import BaseClient

from infra.lambda_factory import MEDIA_MEMORY_MB, WAITING_MEMORY_MB

# Waits of the offline providers, as a hosted model's: a story draft from a chat model, a picture
# from an image model. Assumptions, not measurements of any one provider.
TEXT_SECONDS = 8.0
IMAGE_SECONDS = 12.0
CLIENT_POLL_SECONDS = 1.0  # the kidstory CLI's interval (`kidstory make --interval`)
TEXT_POLL_SECONDS = 0.1  # time-to-text: polled often, so the figure is the stack's, not the poll's
SWEEPS_PER_MONTH = 30 * 24 * 12  # SweepPendingJobs runs every 5 minutes
PICTURE_FUNCTION = "GenerateImageFunction"
ROOT = Path(__file__).resolve().parents[2]

# Prices in us-east-1 (N. Virginia), as published on AWS's pricing pages in 2025, when they were
# taken for this bench (check them before quoting a figure); free tiers left out. DynamoDB's
# on-demand request prices are those since its cut of 2024-11-01 ($1.25 and $0.25 per million
# before). Lambda bills each invocation's duration rounded up to the millisecond, and since
# 2025-08-01 the INIT phase of cold starts as well.
PRICES_AS_OF = "2025"
PRICE_SOURCES = (
    "aws.amazon.com/{step-functions,lambda,api-gateway,dynamodb,s3,eventbridge,sqs,"
    "cloudfront,cloudwatch,xray}/pricing"
)


@dataclass(frozen=True)
class Price:
    usd: float  # for `per` units
    per: int
    label: str

    def of(self, count: float) -> float:
        return count * self.usd / self.per


PRICES = {
    "transition": Price(0.025, 1_000, "$0.025 / 1K"),  # Step Functions Standard
    "gb_second": Price(0.0000133334, 1, "$0.0000133334"),  # Lambda arm64, first 7.5 B GB-s
    "lambda_request": Price(0.20, 1_000_000, "$0.20 / 1M"),
    "api_request": Price(3.50, 1_000_000, "$3.50 / 1M"),  # REST API, first 333 M
    "wru": Price(0.625, 1_000_000, "$0.625 / 1M"),  # DynamoDB on-demand write request unit
    "rru": Price(0.125, 1_000_000, "$0.125 / 1M"),  # DynamoDB on-demand read request unit
    "s3_put": Price(0.005, 1_000, "$0.005 / 1K"),  # PUT, COPY, POST, LIST
    "s3_get": Price(0.0004, 1_000, "$0.0004 / 1K"),  # GET, HEAD and all other requests
    "event": Price(1.00, 1_000_000, "$1.00 / 1M"),  # EventBridge custom event (64 KB chunks)
    "sqs_request": Price(0.40, 1_000_000, "$0.40 / 1M"),  # standard queue (64 KB chunks)
    "cdn_request": Price(0.0100, 10_000, "$0.01 / 10K"),  # CloudFront HTTPS, United States
    "cdn_gb": Price(0.085, 1, "$0.085 / GB"),  # CloudFront to the internet, first 10 TB
    "log_gb": Price(0.50, 1, "$0.50 / GB"),  # CloudWatch Logs ingestion (and vended logs)
    "trace": Price(5.00, 1_000_000, "$5.00 / 1M"),  # X-Ray traces recorded
    "s3_gb_month": Price(0.023, 1, "$0.023 / GB-mo"),  # S3 Standard, first 50 TB
    "dynamodb_gb_month": Price(0.25, 1, "$0.25 / GB-mo"),  # DynamoDB Standard table storage
}
GB = 1024**3

# Estimates where the emulator has nothing to measure (CloudWatch Logs counts each event's
# UTF-8 bytes plus 26).
LOG_EVENT_OVERHEAD = 26
PLATFORM_LOG_BYTES = 500  # Lambda's platform.start and platform.report lines, JSON, traced
STATES_LOG_ENVELOPE = 220  # Step Functions' log record around a history event (ARN, ids, time)

# S3 operations billed at the PUT, COPY, POST, LIST rate; DELETE is free; every other at GET's.
S3_PUT_CLASS = {
    "PutObject",
    "CopyObject",
    "PostObject",
    "CreateMultipartUpload",
    "UploadPart",
    "UploadPartCopy",
    "CompleteMultipartUpload",
    "ListObjects",
    "ListObjectsV2",
    "ListObjectVersions",
    "ListBuckets",
    "ListMultipartUploads",
    "ListParts",
}
S3_FREE = {"DeleteObject", "DeleteObjects", "AbortMultipartUpload"}

API_CALLER = "ApiFunction"
CDN_CALLER = "CloudFront"  # the API serving media in CloudFront's place
POLLER_CALLER = "Lambda's SQS poller"
STATES_CALLER = "Step Functions"
CDN_HEADER = "x-bench-cdn"

# Who is making an AWS call or writing a log line: a function's logical id, the API, the CDN
# stand-in; unset outside them (Step Functions' integrations, the emulator's threads).
_caller: ContextVar[str | None] = ContextVar("bench_caller", default=None)
_uncounted: ContextVar[bool] = ContextVar("bench_uncounted", default=False)
# The seconds an invocation spent in the meter's own reads (DynamoDB items read back around each
# write), taken off its duration.
_overhead: ContextVar[list[float] | None] = ContextVar("bench_overhead", default=None)


@contextmanager
def _metering() -> Iterator[None]:
    """The block's time is the meter's, not the invocation's."""
    started = time.monotonic()
    try:
        yield
    finally:
        spent = _overhead.get()
        if spent is not None:
            spent.append(time.monotonic() - started)


# What is recorded


@dataclass(frozen=True)
class Invocation:
    function: str  # logical id
    started: float  # time.time()
    seconds: float
    error: str | None


@dataclass(frozen=True)
class AwsCall:
    service: str
    operation: str
    caller: str
    read_units: float = 0.0
    write_units: float = 0.0
    index_write_units: float = 0.0
    entries: int = 1  # EventBridge: events in a PutEvents
    empty: bool = False  # SQS: a receive that got no message
    failed: bool = False


@dataclass(frozen=True)
class ProviderCall:
    kind: str  # draft, scene plan, picture
    caller: str
    started: float
    seconds: float


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    cdn: bool
    started: float
    seconds: float
    status: int
    response_bytes: int


@dataclass(frozen=True)
class LogWrite:
    caller: str
    size: int
    events: int


@dataclass
class Window:
    """What the meter recorded between two marks."""

    invocations: list[Invocation]
    calls: list[AwsCall]
    provider_calls: list[ProviderCall]
    requests: list[ApiRequest]
    logs: list[LogWrite]


# DynamoDB's request units, from item sizes (docs: "Item sizes and formats", "Read/write
# capacity mode"): an item's size is the UTF-8 length of its attribute names plus its values'.


def _number_size(text: str) -> int:
    digits = text.lstrip("-").replace(".", "").lstrip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(member).encode()) for member in inner)
    if kind == "NS":
        return sum(_number_size(str(member)) for member in inner)
    if kind == "BS":
        return sum(len(member) for member in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(member) for member in inner)
    if kind == "M":
        return 3 + sum(
            1 + len(name.encode()) + _value_size(member) for name, member in inner.items()
        )
    return 0


def item_size(item: Mapping[str, Any] | None) -> int:
    return sum(len(name.encode()) + _value_size(value) for name, value in (item or {}).items())


def read_units(size: int, *, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


@dataclass(frozen=True)
class TableKeys:
    """A table's key attributes and those of each global secondary index (projection ALL)."""

    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...]

    def index_write_units(
        self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
    ) -> int:
        """An index is written when an item enters it, leaves it, or changes in it (two writes
        when its key changes: the old entry deleted, the new one put)."""
        units = 0
        old, new = before or {}, after or {}
        for keys in self.indexes:
            was = before is not None and all(name in old for name in keys)
            now = after is not None and all(name in new for name in keys)
            if was and now:
                if any(old[name] != new[name] for name in keys):
                    units += write_units(item_size(before)) + write_units(item_size(after))
                elif before != after:
                    units += write_units(item_size(after))
            elif was:
                units += write_units(item_size(before))
            elif now:
                units += write_units(item_size(after))
        return units


# The meter: every recording hook, installed for the life of a bench stack


class _LogSink(io.TextIOBase):
    """Counts what a function or the API writes to its log (as CloudWatch Logs would ingest it)
    and keeps it off the terminal; passes anything else through."""

    def __init__(self, meter: Meter, through: TextIO) -> None:
        self._meter = meter
        self._through = through

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        caller = _caller.get()
        if caller is None:
            return self._through.write(text)
        self._meter.record_log(LogWrite(caller, len(text.encode()), text.count("\n")))
        return len(text)

    def flush(self) -> None:
        self._through.flush()


class Meter:
    """Records invocations, AWS calls, provider calls, API requests and log lines, each from the
    hooks it installs (`install`) until `remove`."""

    def __init__(self, keys: TableKeys, endpoint_url: str) -> None:
        self._keys = keys
        self._lock = threading.Lock()
        self._invocations: list[Invocation] = []
        self._calls: list[AwsCall] = []
        self._provider_calls: list[ProviderCall] = []
        self._requests: list[ApiRequest] = []
        self._logs: list[LogWrite] = []
        self._undo: list[Callable[[], None]] = []
        self._peek = boto3.client("dynamodb", endpoint_url=endpoint_url)

    # marks and windows

    def mark(self) -> tuple[int, ...]:
        with self._lock:
            return tuple(
                len(items)
                for items in (
                    self._invocations,
                    self._calls,
                    self._provider_calls,
                    self._requests,
                    self._logs,
                )
            )

    def since(self, mark: tuple[int, ...]) -> Window:
        with self._lock:
            return Window(
                self._invocations[mark[0] :],
                self._calls[mark[1] :],
                self._provider_calls[mark[2] :],
                self._requests[mark[3] :],
                self._logs[mark[4] :],
            )

    def record_log(self, write: LogWrite) -> None:
        with self._lock:
            self._logs.append(write)

    def record_request(self, request: ApiRequest) -> None:
        with self._lock:
            self._requests.append(request)

    # hooks

    def install(self, handlers: dict[str, Any], logical_ids: Mapping[str, str]) -> None:
        self._time_handlers(handlers, logical_ids)
        self._count_aws_calls()
        self._time_provider_calls()
        self._count_logs()

    def remove(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _time_handlers(self, handlers: dict[str, Any], logical_ids: Mapping[str, str]) -> None:
        """Each function's handler, as the emulator invokes it, timed under its logical id."""
        originals = dict(handlers)
        for name, handler in originals.items():
            handlers[name] = self._timed(logical_ids.get(name, name), handler)
        self._undo.append(lambda: handlers.update(originals))

    def _timed(
        self, function: str, handler: Callable[[Any, Any], Any]
    ) -> Callable[[Any, Any], Any]:
        def invoke(event: Any, context: Any) -> Any:
            token, spent = _caller.set(function), _overhead.set([])
            started, wall, error = time.monotonic(), time.time(), None
            try:
                return handler(event, context)
            except Exception as raised:
                error = f"{type(raised).__name__}: {raised}"
                raise
            finally:
                seconds = time.monotonic() - started - sum(_overhead.get() or [])
                with self._lock:
                    self._invocations.append(Invocation(function, wall, seconds, error))
                _overhead.reset(spent)
                _caller.reset(token)

        return invoke

    def _count_aws_calls(self) -> None:
        original = BaseClient._make_api_call
        meter = self

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if _uncounted.get():
                return original(client, operation, params)
            thread = threading.current_thread().name
            if (
                thread == "announce-executions"
            ):  # the emulator's stand-in for Step Functions' events
                return original(client, operation, params)
            service = client.meta.service_model.service_name
            caller = _caller.get() or (
                POLLER_CALLER if thread.startswith("poll-") else STATES_CALLER
            )
            if service == "dynamodb":
                return meter._dynamodb_call(client, original, operation, params, caller)
            failed, response = True, None
            try:
                response = original(client, operation, params)
                failed = False
                return response
            finally:
                call = AwsCall(service, operation, caller, failed=failed)
                if service == "events" and operation == "PutEvents":
                    call = AwsCall(
                        service, operation, caller, entries=len(params.get("Entries", []))
                    )
                if service == "sqs" and operation == "ReceiveMessage" and response is not None:
                    call = AwsCall(service, operation, caller, empty=not response.get("Messages"))
                with meter._lock:
                    meter._calls.append(call)

        BaseClient._make_api_call = make_api_call

        def undo() -> None:
            BaseClient._make_api_call = original

        self._undo.append(undo)

    def _item(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item as stored now, read by the emulator's own user and not counted."""

        def read() -> dict[str, Any] | None:
            _uncounted.set(True)
            found = self._peek.get_item(TableName=table, Key=dict(key), ConsistentRead=True)
            item: dict[str, Any] | None = found.get("Item")
            return item

        with _metering():
            return contextvars.Context().run(read)

    def _key_of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self._keys.key if name in item}

    def _dynamodb_call(
        self,
        client: BaseClient,
        original: Callable[[BaseClient, str, dict[str, Any]], Any],
        operation: str,
        params: dict[str, Any],
        caller: str,
    ) -> Any:
        # the writes: (table, key) of each item, its image before, and the units they cost
        targets: list[tuple[str, dict[str, Any], bool]] = []  # table, key, a transaction's
        if operation == "PutItem":
            targets.append((params["TableName"], self._key_of(params["Item"]), False))
        elif operation in ("UpdateItem", "DeleteItem"):
            targets.append((params["TableName"], dict(params["Key"]), False))
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, action),) = entry.items()
                key = self._key_of(action["Item"]) if kind == "Put" else dict(action["Key"])
                targets.append((action["TableName"], key, kind != "ConditionCheck"))
        before = [self._item(table, key) for table, key, _ in targets]
        response, failed = None, True
        try:
            response = original(client, operation, params)
            failed = False
            return response
        finally:
            reads = writes = index = 0.0
            if targets:
                after = before if failed else [self._item(t, k) for t, k, _ in targets]
                factor = 2 if operation == "TransactWriteItems" else 1
                for old, new in zip(before, after, strict=True):
                    writes += factor * write_units(max(item_size(old), item_size(new)))
                    if not failed:
                        index += self._keys.index_write_units(old, new)
            elif operation in ("GetItem", "TransactGetItems", "Query", "Scan", "BatchGetItem"):
                reads = self._read_units(client, original, operation, params, response)
            with self._lock:
                self._calls.append(
                    AwsCall("dynamodb", operation, caller, reads, writes, index, failed=failed)
                )

    def _read_units(
        self,
        client: BaseClient,
        original: Callable[[BaseClient, str, dict[str, Any]], Any],
        operation: str,
        params: dict[str, Any],
        response: Any,
    ) -> float:
        if response is None:
            return 0.0
        consistent = bool(params.get("ConsistentRead"))
        if operation == "GetItem":
            return read_units(item_size(response.get("Item")), consistent=consistent)
        if operation == "TransactGetItems":
            return sum(
                2 * read_units(item_size(found.get("Item")), consistent=True)
                for found in response.get("Responses", [])
            )
        if operation == "BatchGetItem":
            return sum(
                read_units(item_size(item), consistent=consistent)
                for items in response.get("Responses", {}).values()
                for item in items
            )
        items = response.get("Items")
        if items is None:  # Select=COUNT: the same page again, for the sizes of what it read
            again = {key: value for key, value in params.items() if key != "Select"}
            token = _uncounted.set(True)
            try:
                with _metering():
                    items = original(client, operation, again).get("Items", [])
            finally:
                _uncounted.reset(token)
        return read_units(sum(item_size(item) for item in items), consistent=consistent)

    def _time_provider_calls(self) -> None:
        """The offline providers' calls, timed; each scene plan waits as long as a draft."""
        from kidstory.config.load import get_settings
        from kidstory.providers.offline import OfflineImageProvider
        from kidstory.providers.offline_text import OfflineTextProvider

        meter = self
        draft = OfflineTextProvider.write_story
        plan = OfflineTextProvider.plan_scenes
        picture = OfflineImageProvider.generate_image

        def timed(kind: str, call: Callable[..., Any], wait: float = 0.0) -> Callable[..., Any]:
            def run(*args: Any, **kwargs: Any) -> Any:
                started, wall = time.monotonic(), time.time()
                try:
                    time.sleep(wait)
                    return call(*args, **kwargs)
                finally:
                    seconds = time.monotonic() - started
                    with meter._lock:
                        meter._provider_calls.append(
                            ProviderCall(kind, _caller.get() or "?", wall, seconds)
                        )

            return run

        OfflineTextProvider.write_story = timed("draft", draft)  # type: ignore[method-assign]
        OfflineTextProvider.plan_scenes = timed(  # type: ignore[method-assign]
            "scene plan", plan, get_settings().offline_text_seconds
        )
        OfflineImageProvider.generate_image = timed("picture", picture)  # type: ignore[method-assign]

        def undo() -> None:
            OfflineTextProvider.write_story = draft  # type: ignore[method-assign]
            OfflineTextProvider.plan_scenes = plan  # type: ignore[method-assign]
            OfflineImageProvider.generate_image = picture  # type: ignore[method-assign]

        self._undo.append(undo)

    def _count_logs(self) -> None:
        """The functions' log lines (Powertools' handler) and metrics (printed to stdout)."""
        from kidstory.observability import logger

        level = logger.log_level
        logger.setLevel("INFO")  # the dev and prod stages' level (the local stage's is DEBUG)
        stdout = sys.stdout
        sink = _LogSink(self, stdout)
        handlers = [
            handler
            for handler in logging.getLogger(logger.name).handlers
            if isinstance(handler, logging.StreamHandler)
        ]
        streams = [handler.setStream(sink) for handler in handlers]
        sys.stdout = sink

        def undo() -> None:
            logger.setLevel(level)
            sys.stdout = stdout
            for handler, stream in zip(handlers, streams, strict=True):
                handler.setStream(stream)

        self._undo.append(undo)


class TimedApi:
    """ASGI middleware: each HTTP request timed (one API function invocation, one API Gateway
    request), or marked as a CDN fetch when the client says it stands for one."""

    def __init__(self, app: Any, meter: Meter) -> None:
        self.app = app
        self.meter = meter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cdn = any(name.decode().lower() == CDN_HEADER for name, _ in scope.get("headers", []))
        token, spent = _caller.set(CDN_CALLER if cdn else API_CALLER), _overhead.set([])
        started, wall = time.monotonic(), time.time()
        answer = {"status": 0, "bytes": 0}

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.meter.record_request(
                ApiRequest(
                    scope["method"],
                    scope["path"],
                    cdn,
                    wall,
                    time.monotonic() - started - sum(_overhead.get() or []),
                    answer["status"],
                    answer["bytes"],
                )
            )
            _overhead.reset(spent)
            _caller.reset(token)


# The stack


@dataclass
class StoryRun:
    """One story asked for through the API, and what the meter saw of it."""

    illustrations: int
    narration: bool
    job_id: str
    story_id: str
    requested: float  # time.time() of the generate request
    to_text: float | None  # seconds until the job first carried its story id while processing
    to_complete: float
    window: Window
    history: list[dict[str, Any]]
    stored_bytes: int  # the story's objects in the media bucket
    item_bytes: int  # the story's and its job's items in the table
    partial_pages: int | None = None  # pages read with ?partial=true once the text was there


@dataclass
class BenchStack:
    """The local stack with the meter installed and the API served; one per process."""

    text_seconds: float
    image_seconds: float
    template: Path | None = None
    stack: Any = None
    meter: Meter | None = None
    memory: dict[str, int] = field(default_factory=dict)  # logical id -> MB
    _server: Any = None
    _workdir: Any = None
    http: httpx.Client | None = None

    def __enter__(self) -> BenchStack:
        from infra.local import emulator
        from infra.local.api_server import ApiServer
        from infra.local.emulator import LocalStack
        from infra.local.synth import synthesize

        if self.template is None:
            self._workdir = tempfile.TemporaryDirectory()
            self.template = synthesize(Path(self._workdir.name))
        environment = {
            "OFFLINE_TEXT_SECONDS": str(self.text_seconds),
            "OFFLINE_IMAGE_SECONDS": str(self.image_seconds),
            "POWERTOOLS_METRICS_DISABLED": "false",  # their records go to the logs, as on Lambda
        }
        self.stack = LocalStack(self.template, environment=environment).start()
        template = self.stack.template
        functions = template.of_type("AWS::Lambda::Function")
        self.memory = {
            logical_id: int(resource["Properties"].get("MemorySize", 128))
            for logical_id, resource in functions.items()
        }
        # The pictures here stand for a model's (a wait): GenerateImage is priced at the memory
        # a stage with a picture model deploys it with, not the local stage's drawing memory.
        self.memory[PICTURE_FUNCTION] = WAITING_MEMORY_MB
        (table,) = template.of_type("AWS::DynamoDB::Table").values()
        properties = template.resolve(table["Properties"])
        keys = TableKeys(
            tuple(part["AttributeName"] for part in properties["KeySchema"]),
            tuple(
                tuple(part["AttributeName"] for part in index["KeySchema"])
                for index in properties.get("GlobalSecondaryIndexes", [])
            ),
        )
        self.meter = Meter(keys, self.stack.endpoint_url)
        names = {template.names[logical_id]: logical_id for logical_id in functions}
        self.meter.install(emulator._handlers, names)

        from api.app import create_app
        from kidstory.config.load import get_settings

        app = TimedApi(create_app(get_settings()), self.meter)
        self._server = ApiServer(self.stack.serve_api(app)).start()
        self.http = httpx.Client(base_url=self._server.url, timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.http is not None:
            self.http.close()
        if self._server is not None:
            self._server.stop()
        if self.meter is not None:
            self.meter.remove()
        if self.stack is not None:
            self.stack.stop()
        if self._workdir is not None:
            self._workdir.cleanup()

    @contextmanager
    def uncounted(self) -> Iterator[None]:
        token = _uncounted.set(True)
        try:
            yield
        finally:
            _uncounted.reset(token)

    def story(
        self,
        illustrations: int,
        *,
        narration: bool = False,
        poll_seconds: float = CLIENT_POLL_SECONDS,
        fetch_media: bool = True,
        read_partial: bool = False,
    ) -> StoryRun:
        """One story as a client asks for it: POST generate, the job polled until it ends, the
        story read, and (`fetch_media`) every picture and page's audio fetched once from the
        CDN."""
        assert self.meter is not None and self.http is not None
        mark = self.meter.mark()
        requested = time.time()
        started = time.monotonic()
        accepted = self.http.post(
            "/api/v1/stories/generate",
            json={
                "prompt": "A bear who loves honey",
                "age_group": "6-8",
                "num_illustrations": illustrations,
                "narration": narration,
            },
        )
        accepted.raise_for_status()
        job_id = accepted.json()["job_id"]
        to_text, partial_pages = None, None
        while True:
            job = self.http.get(f"/api/v1/stories/jobs/{job_id}").json()
            if to_text is None and job["status"] == "processing" and job.get("story_id"):
                to_text = time.monotonic() - started
                if read_partial:
                    partial = self.http.get(
                        f"/api/v1/stories/{job['story_id']}", params={"partial": "true"}
                    )
                    if partial.status_code == 200:
                        partial_pages = len(partial.json().get("pages") or [])
            if job["status"] in ("completed", "failed"):
                break
            time.sleep(poll_seconds)
        to_complete = time.monotonic() - started
        if job["status"] != "completed":
            raise RuntimeError(f"job {job_id} failed: {job['error']}")
        story = self.http.get(f"/api/v1/stories/{job['story_id']}")
        story.raise_for_status()
        if fetch_media:
            body = story.json()
            urls = [image["image_url"] for image in body["images"]]
            urls += [page["audio_url"] for page in (body.get("narration") or {}).get("pages", [])]
            for url in urls:
                self.http.get(url, headers={CDN_HEADER: "1"}).raise_for_status()
        history = self._settle(mark, job_id)
        return StoryRun(
            illustrations,
            narration,
            job_id,
            job["story_id"],
            requested,
            to_text,
            to_complete,
            self.meter.since(mark),
            history,
            self._stored_bytes(job["story_id"]),
            self._item_bytes(job_id, job["story_id"]),
            partial_pages,
        )

    def _settle(
        self, mark: tuple[int, ...], job_id: str, timeout: float = 30
    ) -> list[dict[str, Any]]:
        """Waits for the execution to end and its event's webhook delivery to be done (the SQS
        message deleted); the execution's history."""
        assert self.meter is not None
        arn = self.stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"
        deadline = time.monotonic() + timeout
        with self.uncounted():
            sfn = self.stack.client("stepfunctions")
            while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"execution {job_id} still running")
                time.sleep(0.1)
            while time.monotonic() < deadline:
                window = self.meter.since(mark)
                if any(c.operation == "DeleteMessage" for c in window.calls):
                    break
                time.sleep(0.1)
            events: list[dict[str, Any]] = []
            for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                events += page["events"]
        return events

    def _stored_bytes(self, story_id: str) -> int:
        from kidstory.config.load import get_settings

        total = 0
        with self.uncounted():
            pages = (
                self.stack.client("s3")
                .get_paginator("list_objects_v2")
                .paginate(Bucket=get_settings().media_bucket, Prefix=f"stories/{story_id}/")
            )
            for page in pages:
                total += sum(entry["Size"] for entry in page.get("Contents", []))
        return total

    def _item_bytes(self, job_id: str, story_id: str) -> int:
        with self.uncounted():
            dynamodb = self.stack.client("dynamodb")
            table = self.stack.name_of("AWS::DynamoDB::Table")
            items = [
                dynamodb.get_item(
                    TableName=table, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}}
                ).get("Item")
            ]
            for page in dynamodb.get_paginator("query").paginate(
                TableName=table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"STORY#{story_id}"}},
            ):
                items += page["Items"]
        # DynamoDB adds 100 bytes of overhead per item for storage (and per index entry)
        return sum(item_size(item) + 100 for item in items if item)


# What a story costs


@dataclass(frozen=True)
class LineItem:
    name: str
    count: float
    unit: str
    price: Price
    estimate: bool = False

    @property
    def usd(self) -> float:
        return self.price.of(self.count)


@dataclass(frozen=True)
class FunctionCost:
    function: str
    memory_mb: int
    invocations: int
    seconds: float  # billed: each invocation rounded up to the millisecond
    provider_wait: float
    errors: tuple[str, ...]

    @property
    def gb_seconds(self) -> float:
        return self.seconds * self.memory_mb / 1024

    @property
    def usd(self) -> float:
        return PRICES["gb_second"].of(self.gb_seconds) + PRICES["lambda_request"].of(
            self.invocations
        )


def _billed(seconds: float) -> float:
    return math.ceil(max(seconds, 0.0) * 1000) / 1000


def transitions(history: Sequence[Mapping[str, Any]]) -> tuple[int, Counter[str], int]:
    """Step Functions bills a Standard workflow per state transition, retries included: each state
    entered, and each task tried again. Their count, the states entered by name, the retries."""
    entered = [event for event in history if event["type"].endswith("StateEntered")]
    names = Counter(event["stateEnteredEventDetails"]["name"] for event in entered)
    tries = sum(
        1 for event in history if event["type"] in ("LambdaFunctionScheduled", "TaskScheduled")
    )
    tasks = sum(1 for event in entered if event["type"] == "TaskStateEntered")
    retries = max(0, tries - tasks)
    return len(entered) + retries, names, retries


def function_costs(window: Window, memory: Mapping[str, int]) -> list[FunctionCost]:
    """Each function's invocations in the window, the API's being the client's requests (not
    the media fetches, which CloudFront serves on AWS), most expensive first."""
    durations: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    for invocation in window.invocations:
        durations[invocation.function].append(_billed(invocation.seconds))
        if invocation.error:
            errors[invocation.function].append(invocation.error)
    for request in window.requests:
        if not request.cdn:
            durations[API_CALLER].append(_billed(request.seconds))
    waits: dict[str, float] = defaultdict(float)
    for call in window.provider_calls:
        waits[call.caller] += call.seconds
    costs = [
        FunctionCost(
            function,
            memory[function],
            len(seconds),
            sum(seconds),
            waits.get(function, 0.0),
            tuple(errors.get(function, [])),
        )
        for function, seconds in durations.items()
    ]
    return sorted(costs, key=lambda cost: cost.usd, reverse=True)


def _billed_calls(window: Window) -> list[AwsCall]:
    """The calls AWS bills for this story: not the CDN stand-in's own reads of the table (on AWS
    CloudFront reads the bucket only), nor Lambda's empty polls of the queue (a standing cost of
    the event source mapping, whatever the traffic)."""
    return [
        call
        for call in window.calls
        if not (call.caller == CDN_CALLER and call.service != "s3")
        and not (call.service == "sqs" and call.empty)
    ]


def log_bytes(run: StoryRun) -> dict[str, int]:
    """CloudWatch Logs ingestion, estimated: what the functions and the API logged (counted),
    Lambda's platform lines per invocation, Step Functions' log of every history event with its
    data (level ALL), API Gateway's access log line per request."""
    functions = sum(
        write.size + LOG_EVENT_OVERHEAD * write.events
        for write in run.window.logs
        if write.caller != CDN_CALLER
    )
    requests = [request for request in run.window.requests if not request.cdn]
    invocations = len(run.window.invocations) + len(requests)
    states = sum(
        len(json.dumps(event, default=str)) + STATES_LOG_ENVELOPE + LOG_EVENT_OVERHEAD
        for event in run.history
    )
    access = sum(
        len(
            json.dumps(
                {
                    "requestId": "00000000-0000-0000-0000-000000000000",
                    "ip": "203.0.113.10",
                    "requestTime": "07/Dec/2025:19:30:49 +0000",
                    "httpMethod": request.method,
                    "resourcePath": "/{proxy+}",
                    "status": str(request.status),
                    "protocol": "HTTP/1.1",
                    "responseLength": str(request.response_bytes),
                }
            )
        )
        + LOG_EVENT_OVERHEAD
        for request in requests
    )
    return {
        "functions' own lines and metrics": functions,
        "Lambda platform lines": PLATFORM_LOG_BYTES * invocations,
        "Step Functions (level ALL, with data)": states,
        "API Gateway access log": access,
    }


def line_items(run: StoryRun, memory: Mapping[str, int]) -> list[LineItem]:
    window = run.window
    calls = _billed_calls(window)
    costs = function_costs(window, memory)
    count, _, _ = transitions(run.history)
    api_requests = [request for request in window.requests if not request.cdn]
    cdn_requests = [request for request in window.requests if request.cdn]
    dynamodb = [call for call in calls if call.service == "dynamodb"]
    s3 = [call for call in calls if call.service == "s3"]
    sqs = [call for call in calls if call.service == "sqs"]
    received = sum(1 for call in sqs if call.operation == "ReceiveMessage")
    events = sum(call.entries for call in calls if call.service == "events")
    return [
        LineItem("Step Functions state transitions", count, "transitions", PRICES["transition"]),
        LineItem(
            "Lambda requests",
            sum(cost.invocations for cost in costs),
            "requests",
            PRICES["lambda_request"],
        ),
        LineItem(
            "Lambda duration, arm64",
            sum(cost.gb_seconds for cost in costs),
            "GB-s",
            PRICES["gb_second"],
        ),
        LineItem("API Gateway REST requests", len(api_requests), "requests", PRICES["api_request"]),
        LineItem(
            "DynamoDB write request units",
            sum(call.write_units + call.index_write_units for call in dynamodb),
            "WRU",
            PRICES["wru"],
        ),
        LineItem(
            "DynamoDB read request units",
            sum(call.read_units for call in dynamodb),
            "RRU",
            PRICES["rru"],
        ),
        LineItem(
            "S3 PUT/COPY/POST/LIST requests",
            sum(1 for call in s3 if call.operation in S3_PUT_CLASS),
            "requests",
            PRICES["s3_put"],
        ),
        LineItem(
            "S3 GET and other requests",
            sum(1 for call in s3 if call.operation not in S3_PUT_CLASS | S3_FREE),
            "requests",
            PRICES["s3_get"],
        ),
        LineItem("EventBridge custom events", events, "events", PRICES["event"]),
        # EventBridge's SendMessage to the queue is not seen here: one per message received
        LineItem("SQS requests", len(sqs) + received, "requests", PRICES["sqs_request"]),
        LineItem("CloudFront HTTPS requests", len(cdn_requests), "requests", PRICES["cdn_request"]),
        LineItem(
            "CloudFront data transfer out",
            sum(request.response_bytes for request in cdn_requests) / GB,
            "GB",
            PRICES["cdn_gb"],
        ),
        LineItem(
            "CloudWatch Logs ingestion",
            sum(log_bytes(run).values()) / GB,
            "GB",
            PRICES["log_gb"],
            estimate=True,
        ),
        # at most one trace per API request and one for the webhook delivery; the default
        # sampling rule records the first request each second and 5% of the others
        LineItem(
            "X-Ray traces recorded (at most)",
            len(api_requests) + 1,
            "traces",
            PRICES["trace"],
            estimate=True,
        ),
    ]


def _usd(value: float) -> str:
    return f"{value:.7f}"


def _count(value: float) -> str:
    if value == int(value):
        return f"{int(value):d}"
    return f"{value:.6f}" if value < 0.01 else f"{value:.2f}"


def print_cost(run: StoryRun, memory: Mapping[str, int]) -> float:
    """The run's bill, item by item, then its Lambda bill by function; the total (USD)."""
    items = line_items(run, memory)
    label = f"{run.illustrations} pictures" + (", narrated" if run.narration else "")
    print(f"\n  {label} (end-to-end {run.to_complete:.1f} s)")
    print(
        f"    {'item':40s} {'count':>12s} {'':8s} {'unit price':>16s} "
        f"{'USD/story':>11s} {'USD/1K':>8s}"
    )
    for item in items:
        mark = "~" if item.estimate else " "
        print(
            f"   {mark}{item.name:40s} {_count(item.count):>12s} {item.unit:8s} "
            f"{item.price.label:>16s} {_usd(item.usd):>11s} {item.usd * 1000:8.4f}"
        )
    measured = sum(item.usd for item in items if not item.estimate)
    total = sum(item.usd for item in items)
    print(f"    {'total, counted items':40s} {'':39s} {_usd(measured):>11s} {measured * 1000:8.4f}")
    print(
        f"    {'total, with the ~ estimates':40s} {'':39s} {_usd(total):>11s} {total * 1000:8.4f}"
    )

    costs = function_costs(run.window, memory)
    lambda_usd = sum(cost.usd for cost in costs)
    print(
        f"    Lambda by function {'MB':>17s} {'calls':>6s} {'billed s':>9s} {'GB-s':>8s} "
        f"{'USD/story':>11s} {'of Lambda':>9s} {'in provider calls':>22s}"
    )
    for cost in costs:
        wait = (
            f"{cost.provider_wait:6.1f} s ({cost.provider_wait / cost.seconds:4.0%})"
            if cost.provider_wait
            else ""
        )
        print(
            f"      {cost.function:29s} {cost.memory_mb:5d} {cost.invocations:6d} "
            f"{cost.seconds:9.2f} {cost.gb_seconds:8.2f} {_usd(cost.usd):>11s} "
            f"{cost.usd / lambda_usd:9.0%} {wait:>22s}"
        )
        for error in sorted(set(cost.errors)):
            print(f"        failed in this run ({cost.errors.count(error)}x): {error[:110]}")
    _, names, retries = transitions(run.history)
    print(
        "    transitions by state: "
        + ", ".join(f"{name} {count}" for name, count in names.items())
        + (f"; retries {retries}" if retries else "")
    )
    units: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for call in _billed_calls(run.window):
        if call.service == "dynamodb":
            tally = units[(call.caller, call.operation)]
            tally[0] += 1
            tally[1] += call.write_units + call.index_write_units
            tally[2] += call.read_units
    print(
        "    DynamoDB calls by caller (calls, WRU, RRU): "
        + ", ".join(
            f"{caller} {operation} {n:g}/{w:g}/{r:g}"
            for (caller, operation), (n, w, r) in sorted(units.items())
        )
    )
    logs = log_bytes(run)
    print(
        "    ~ logs: " + ", ".join(f"{name} {size / 1024:.1f} KiB" for name, size in logs.items())
    )
    others = Counter(
        f"{call.service}:{call.operation}"
        for call in run.window.calls
        if call.service not in ("dynamodb", "s3", "sqs", "events")
    )
    if others:
        print(
            "    not priced here: "
            + ", ".join(f"{name} {n}" for name, n in sorted(others.items()))
            + " (Lambda invokes are its requests above; StartExecution is billed as transitions)"
        )
    stored = PRICES["s3_gb_month"].of(run.stored_bytes / GB) + PRICES["dynamodb_gb_month"].of(
        run.item_bytes / GB
    )
    print(
        f"    storage, each month the story is kept (not in the total): S3 "
        f"{run.stored_bytes / 1024:.0f} KiB, DynamoDB {run.item_bytes / 1024:.1f} KiB: "
        f"${_usd(stored)}"
    )
    return total


# The three sections


def _sweeper_month(bench: BenchStack) -> tuple[float, FunctionCost | None, float]:
    """One run of the pending-job sweeper, as its schedule makes it: its cost a month, the
    run's Lambda figures and its read units."""
    assert bench.meter is not None
    mark = bench.meter.mark()
    bench.stack.invoke_function("SweepPendingJobsFunction")
    window = bench.meter.since(mark)
    costs = function_costs(window, bench.memory)
    calls = [call for call in window.calls if call.service == "dynamodb"]
    reads = sum(call.read_units for call in calls)
    writes = sum(call.write_units + call.index_write_units for call in calls)
    once = sum(cost.usd for cost in costs) + PRICES["rru"].of(reads) + PRICES["wru"].of(writes)
    return once * SWEEPS_PER_MONTH, (costs[0] if costs else None), reads


def infra_cost(bench: BenchStack, *, warm_up: bool = True) -> list[StoryRun]:
    """Section 1: what a 3-picture story costs the infrastructure, without and with narration,
    line by line; the runs (the first is the plain story). A narrated story first (`warm_up`)
    does whatever a first call does once (compiling the moderation rules, say)."""
    if warm_up:
        bench.story(3, narration=True)
    runs = [bench.story(3), bench.story(3, narration=True)]
    sweep_month, sweep, sweep_reads = _sweeper_month(bench)
    print(
        "\nInfrastructure cost of a story on AWS, model fees excluded (us-east-1 prices as "
        f"published in {PRICES_AS_OF} on {PRICE_SOURCES}; free tiers left out; ~ marks an "
        "estimate)"
    )
    print(
        f"  provider waits: each draft and each scene plan {bench.text_seconds:g} s, each "
        f"picture {bench.image_seconds:g} s; client: POST generate, the job polled every "
        f"{CLIENT_POLL_SECONDS:g} s (as the kidstory CLI), GET the story, every picture and "
        "page's audio fetched once from the CDN; warm functions"
    )
    print(
        f"  {PICTURE_FUNCTION} priced at {WAITING_MEMORY_MB} MB, as a stage with a picture model "
        f"deploys it (the offline stage gives it {MEDIA_MEMORY_MB} MB to draw)"
    )
    totals = [print_cost(run, bench.memory) for run in runs]
    print(
        f"\n  per story: 3 pictures ${totals[0]:.5f}, narrated ${totals[1]:.5f} "
        f"(+${totals[1] - totals[0]:.5f}); per 1,000 stories ${totals[0] * 1000:.2f} and "
        f"${totals[1] * 1000:.2f}"
    )
    print(
        "  cold starts are not in these figures: the stack imports every handler once, when it "
        "starts, and a first story warms the rest. Lambda bills each INIT since 2025-08-01: a "
        "function's import time (the API's: `make bench`, API cold import) times its memory"
    )
    if sweep is not None:
        print(
            f"  fixed, not per story: SweepPendingJobs every 5 minutes, "
            f"${sweep_month:.4f} a month (one run: {sweep.seconds * 1000:.0f} ms at "
            f"{sweep.memory_mb} MB, {sweep_reads:g} RRU)"
        )
    print(
        "  notes: Lambda durations are this process's: a wait on a provider lasts as long on "
        "Lambda, but CPU work ran at this machine's speed, not at the share of a CPU Lambda "
        "gives each memory size (a whole vCPU at 1,769 MB), so narration, drawing and books "
        "would take longer there.\n"
        "    DynamoDB units are computed from the sizes of the items read and written (read back "
        "around each write; gsi1's writes included) by DynamoDB's rules; moto reports none.\n"
        "    SQS: EventBridge's SendMessage is counted once per message Lambda's poller received; "
        "its empty long polls are a standing cost of the event source mapping, not per story.\n"
        "    ~ CloudWatch Logs: the functions' lines counted (at INFO, dev and prod's level; "
        "metrics included), Lambda's platform lines, Step Functions' records and API Gateway's "
        "access lines sized by assumption. ~ X-Ray: an upper bound (every trace sampled)."
    )
    return runs


def time_to_text(bench: BenchStack, pictures: Sequence[int] = (1, 10)) -> None:
    """Section 2: from the generate request until the job first carries its story id while
    processing (the text readable with ?partial=true), and until it is completed."""
    runs = [
        bench.story(count, poll_seconds=TEXT_POLL_SECONDS, fetch_media=False, read_partial=True)
        for count in pictures
    ]
    print(
        f"\nTime to text vs time to complete (each draft and scene plan {bench.text_seconds:g} s, "
        f"each picture {bench.image_seconds:g} s; the job polled every {TEXT_POLL_SECONDS:g} s; "
        "one run each)"
    )
    for run in runs:
        text = run.to_text if run.to_text is not None else float("nan")
        readable = (
            f"{run.partial_pages} pages readable" if run.partial_pages else "text not seen early"
        )
        print(
            f"  {run.illustrations:2d} picture(s): time to text {text:6.2f} s ({readable}), "
            f"time to complete {run.to_complete:6.2f} s, "
            f"text/complete {text / run.to_complete:4.2f}"
        )


def calls_before_first_picture(bench: BenchStack, run: StoryRun) -> None:
    """Section 3: the text-provider calls made one after another before the first GenerateImage
    started, and the critical path they start."""
    invocations = run.window.invocations
    pictures = [i for i in invocations if i.function == "GenerateImageFunction"]
    if not pictures:
        print("\nSequential model calls before the first picture: no picture in the run")
        return
    first = min(invocation.started for invocation in pictures)
    text = sorted(
        (call for call in run.window.provider_calls if call.kind in ("draft", "scene plan")),
        key=lambda call: call.started,
    )
    before = [call for call in text if call.started < first]
    slowest = max(_billed(invocation.seconds) for invocation in pictures)
    after = {
        name: sum(i.seconds for i in invocations if i.function == f"{name}Function")
        for name in ("BuildBook", "Assemble")
    }
    waited = sum(call.seconds for call in before)
    critical = waited + slowest + sum(after.values())
    print(
        f"\nSequential model calls before the first picture starts ({run.illustrations} "
        f"pictures; each draft and scene plan {bench.text_seconds:g} s, each picture "
        f"{bench.image_seconds:g} s)"
    )
    print(
        f"  text-provider calls before the first GenerateImage: {len(before)} ("
        + ", ".join(
            f"{call.kind} at +{call.started - run.requested:.2f} s for {call.seconds:.2f} s"
            for call in before
        )
        + ")"
    )
    print(f"  first GenerateImage started at +{first - run.requested:.2f} s after the request")
    print(
        f"  critical path: {len(before)} text calls {waited:.2f} s (nominal {len(before)} x "
        f"{bench.text_seconds:g} s) + slowest picture {slowest:.2f} s + BuildBook "
        f"{after['BuildBook']:.2f} s + Assemble {after['Assemble']:.2f} s = {critical:.2f} s; "
        f"end-to-end {run.to_complete:.2f} s (the rest, {run.to_complete - critical:.2f} s: "
        "the API, MarkProcessing, storing the story, transitions, the client's polling)"
    )


def figures(
    *,
    text_seconds: float = TEXT_SECONDS,
    image_seconds: float = IMAGE_SECONDS,
    pictures: Sequence[int] = (1, 10),
    warm_up: bool = True,
    template: Path | None = None,
) -> None:
    """The three sections on one local stack (`make bench`)."""
    # Powertools warns on stderr of each invocation that records no metric
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with BenchStack(text_seconds, image_seconds, template) as bench:
        runs = infra_cost(bench, warm_up=warm_up)
        time_to_text(bench, pictures)
        calls_before_first_picture(bench, runs[0])
    sys.stdout.flush()


# What a fresh shell has (not a local stack's endpoint, names and settings, which the emulator
# puts in os.environ), and the path the Makefile exports.
SHELL_VARIABLES = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION",
)


def shell_environment() -> dict[str, str]:
    environment = {name: os.environ[name] for name in SHELL_VARIABLES if name in os.environ}
    return {**environment, "PYTHONPATH": "functions:layers/kidstory/python:."}


def figures_in_own_process(*arguments: str) -> None:
    """`figures()` in an interpreter of its own: moto keeps the emulated resources in its
    process, so a stack cannot start where another ran (`make bench`'s fan-out)."""
    sys.stdout.flush()  # what this process printed comes first
    subprocess.run(
        [sys.executable, "-m", "tests.bench.infra_cost", *arguments],
        cwd=ROOT,
        env=shell_environment(),
        check=True,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--smoke", action="store_true", help="no provider waits, 1 and 2 pictures, no warm-up"
    )
    parser.add_argument("template", nargs="?", type=Path, help="a synthesized local template")
    args = parser.parse_args(argv)
    if args.smoke:
        figures(
            text_seconds=0, image_seconds=0, pictures=(1, 2), warm_up=False, template=args.template
        )
    else:
        figures(template=args.template)


if __name__ == "__main__":
    main()
