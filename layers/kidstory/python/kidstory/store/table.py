"""The one DynamoDB table: its keys, how items are serialized, their TTL, and the retried write
every piece of the store shares (key design: docs/architecture.md, DynamoDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from kidstory.models import AssetKind
from kidstory.transactions import ConflictRetry, TableBusy, cancellation_codes, only_transient

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

DynamoDBClient = Any  # a boto3 client

KEY_LIST_KEY = "KEYS"
# A job is listed in gsi1 under PENDING_LIST_KEY while it is pending (a sparse entry, sort key
# <created_at>#<job_id>), so the pending-job sweeper finds jobs left behind without a scan. Every
# write that moves a job on removes the entry: `job_update` (kidstory.store.jobs), and the
# workflow's MarkProcessing task (infra/workflow/definition.py), with `REMOVE gsi1pk, gsi1sk`.
PENDING_LIST_KEY = "PENDING"


def story_list_key(owner: str) -> str:
    return f"STORIES#{owner}"


def pending_sort_key(created_at: datetime) -> str:
    """Fixed width (microseconds always written, UTC), so the order of keys is the order of
    times, and `< cutoff` selects the jobs made before it."""
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def idempotency_key(owner: str, key: str) -> dict[str, str]:
    return {"pk": f"IDEMPOTENCY#{owner}#{key}", "sk": "IDEMPOTENCY"}


def api_key_key(key_id: str) -> dict[str, str]:
    return {"pk": f"KEY#{key_id}", "sk": "KEY"}


def job_key(job_id: str) -> dict[str, str]:
    return {"pk": f"JOB#{job_id}", "sk": "JOB"}


# A job's cost ledger lives in its partition: one item per line (kidstory.ledger.LedgerLine),
# sorted by step, so a step's earlier attempts are found with one Query.
USAGE_PREFIX = "USAGE#"


def usage_line_key(job_id: str, step: str, line_id: str) -> dict[str, str]:
    return {"pk": f"JOB#{job_id}", "sk": f"{USAGE_PREFIX}{step}#{line_id}"}


def spend_key(owner: str, month: str) -> dict[str, str]:
    """An owner's spend in one calendar month (`YYYY-MM`, UTC)."""
    return {"pk": f"SPEND#{owner}#{month}", "sk": "SPEND"}


def story_key(story_id: str) -> dict[str, str]:
    return {"pk": f"STORY#{story_id}", "sk": "STORY"}


def asset_key(story_id: str, kind: AssetKind, display_order: int) -> dict[str, str]:
    return {"pk": f"STORY#{story_id}", "sk": f"ASSET#{kind.value}#{display_order:03d}"}


def pending_asset_key(
    story_id: str, job_id: str, kind: AssetKind, display_order: int
) -> dict[str, str]:
    """An asset a page change (`job_id`) redoes, kept beside the current one until it is done."""
    return {
        "pk": f"STORY#{story_id}",
        "sk": f"{change_sort_key(job_id)}#ASSET#{kind.value}#{display_order:03d}",
    }


def change_sort_key(job_id: str) -> str:
    """A page change's items in its story's partition: the change, then its redone assets."""
    return f"CHANGE#{job_id}"


def page_version_key(story_id: str, page: int, version: int) -> dict[str, str]:
    """One version of one page (0-based here, 1-based in the key as in the API)."""
    return {"pk": f"STORY#{story_id}", "sk": f"{page_versions_prefix(page)}{version:03d}"}


def page_versions_prefix(page: int) -> str:
    return f"PAGE#{page + 1:03d}#"


def webhook_secret_key(owner: str) -> dict[str, str]:
    return {"pk": f"OWNER#{owner}", "sk": "WEBHOOK_SECRET"}


def limit_key(window_key: str) -> dict[str, str]:
    """The counter of one fixed window (`<owner>#<window>#<start>`, kidstory.access.Window)."""
    return {"pk": f"LIMIT#{window_key}", "sk": "LIMIT"}


@cache
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    """boto3's DynamoDB type codec, loaded on first use: importing boto3 costs the API's cold
    start about 100 ms, and the health check and docs never need it."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def serialize(value: Any) -> dict[str, Any]:
    return _codec()[0].serialize(_decimals(value))


def _decimals(value: Any) -> Any:
    """DynamoDB numbers: floats become Decimals (boto3 refuses floats)."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {key: _decimals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decimals(item) for item in value]
    return value


def to_item(keys: dict[str, str], fields: dict[str, Any]) -> dict[str, Any]:
    return {name: serialize(value) for name, value in {**fields, **keys}.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _codec()[1]
    return {name: deserializer.deserialize(value) for name, value in item.items()}


class Table:
    """The table every piece of the store reads and writes: its client and name, how long
    stories are kept, and how a write meets concurrent writes."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        retention_days: int | None = None,
        conflicts: ConflictRetry | None = None,
    ) -> None:
        self._client = client
        self._table = table_name
        self._retention = timedelta(days=retention_days) if retention_days else None
        self._conflicts = conflicts or ConflictRetry()

    @property
    def table_name(self) -> str:
        return self._table

    def _write(self, operation: str, **request: Any) -> Any:
        """One write (`transact_write_items`, `update_item`...), tried again after a short
        jittered wait while DynamoDB says concurrent writes to the same items were in the way
        (see kidstory.transactions); TableBusy once the tries run out. Any other answer, a
        failed condition included, is the caller's to read."""
        errors = self._client.exceptions
        tries = 0
        while True:
            tries += 1
            try:
                return getattr(self._client, operation)(**request)
            except errors.TransactionCanceledException as error:
                if not only_transient(cancellation_codes(error)):
                    raise
                last: Exception = error
            except errors.TransactionConflictException as error:
                last = error
            if tries >= self._conflicts.attempts:
                raise TableBusy(
                    "The service is busy with other requests for the same records just now; "
                    "nothing was changed. Please try again in a moment."
                ) from last
            self._conflicts.wait(tries)

    def _expiry(self, created_at: datetime) -> dict[str, int]:
        """The TTL attribute for an item made at `created_at`, when stories expire."""
        if self._retention is None:
            return {}
        return {"expires_at": int((created_at + self._retention).timestamp())}
