"""DynamoDB adapter: jobs, stories and their assets in one table (key design:
docs/architecture.md)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kidstory.access import ApiKey, Charge, RateLimited, Window
from kidstory.models import Asset, AssetKind, AssetStatus, Job, JobStatus, Stage, Story, utc_now
from kidstory.transactions import (
    CONDITION_FAILED,
    ConflictRetry,
    TableBusy,
    cancellation_codes,
    only_transient,
)
from kidstory.webhooks import WebhookAttempt, WebhookSecrets, new_secret

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

DynamoDBClient = Any  # a boto3 client

KEY_LIST_KEY = "KEYS"
IDEMPOTENCY_HOURS = 24
# A job is listed in gsi1 under PENDING_LIST_KEY while it is pending (a sparse entry, sort key
# <created_at>#<job_id>), so the pending-job sweeper finds jobs left behind without a scan. Every
# write that moves a job on removes the entry: `_job_update` here, and the workflow's
# MarkProcessing task (infra/workflow.py), with `REMOVE gsi1pk, gsi1sk`.
PENDING_LIST_KEY = "PENDING"


class JobAlreadyEnded(Exception):
    """The job is missing, or already completed or failed: it cannot change any more."""


class IdempotencyRecord(BaseModel):
    """Which job an Idempotency-Key started, and a fingerprint of the request that started it."""

    job_id: str
    fingerprint: str


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


def story_key(story_id: str) -> dict[str, str]:
    return {"pk": f"STORY#{story_id}", "sk": "STORY"}


def asset_key(story_id: str, kind: AssetKind, display_order: int) -> dict[str, str]:
    return {"pk": f"STORY#{story_id}", "sk": f"ASSET#{kind.value}#{display_order:03d}"}


@cache
def _codec() -> tuple[TypeSerializer, TypeDeserializer]:
    """boto3's DynamoDB type codec, loaded on first use: importing boto3 costs the API's cold
    start about 100 ms, and the health check and docs never need it."""
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


def _serialize(value: Any) -> dict[str, Any]:
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


def _to_item(keys: dict[str, str], fields: dict[str, Any]) -> dict[str, Any]:
    return {name: _serialize(value) for name, value in {**fields, **keys}.items()}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _codec()[1]
    return {name: deserializer.deserialize(value) for name, value in item.items()}


class StoryTable:
    """Reads and writes the service's items; the only module that knows the table's keys."""

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

    # jobs

    def _job_item(self, job: Job) -> dict[str, Any]:
        """The job's item; a pending job is also listed under PENDING in gsi1 (the sweeper's)."""
        keys = job_key(job.job_id)
        if job.status is JobStatus.PENDING:
            keys |= {
                "gsi1pk": PENDING_LIST_KEY,
                "gsi1sk": f"{pending_sort_key(job.created_at)}#{job.job_id}",
            }
        return _to_item(keys, job.model_dump(mode="json") | self._expiry(job.created_at))

    def _new_job_put(self, job: Job) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": self._job_item(job),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def put_job(self, job: Job, charge: Charge | None = None) -> None:
        """Store a new job; with a charge, the job and the charge are one transaction, so
        the caller is charged exactly when the job is stored (RateLimited, and nothing
        written, when a window is full)."""
        if charge is None:
            self._client.put_item(**self._new_job_put(job)["Put"])
            return
        updates = self._charge_updates(charge)
        try:
            self._write("transact_write_items", TransactItems=[self._new_job_put(job), *updates])
        except self._client.exceptions.TransactionCanceledException as error:
            refused = _refusal(charge, cancellation_codes(error)[1:])
            if refused is None:
                raise
            raise refused from None

    def put_job_once(
        self, job: Job, key: str, fingerprint: str, charge: Charge | None = None
    ) -> IdempotencyRecord | None:
        """Store a new job under an Idempotency-Key, unless the key was used before: then
        nothing is written (and nothing charged) and the earlier record is returned. One
        transaction, with the charge if any, so two requests racing with the same key cannot
        both create a job, and only the one that does is charged."""
        record = IdempotencyRecord(job_id=job.job_id, fingerprint=fingerprint)
        expires = int((utc_now() + timedelta(hours=IDEMPOTENCY_HOURS)).timestamp())
        claim = {
            "Put": {
                "TableName": self._table,
                "Item": _to_item(
                    idempotency_key(job.owner, key),
                    record.model_dump() | {"expires_at": expires},
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        updates = self._charge_updates(charge) if charge else []
        try:
            self._write(
                "transact_write_items", TransactItems=[claim, self._new_job_put(job), *updates]
            )
        except self._client.exceptions.TransactionCanceledException as error:
            codes = cancellation_codes(error)
            if codes[:1] == [CONDITION_FAILED]:  # the key was used first: a real answer
                earlier = self.get_idempotency(job.owner, key)
                if earlier is not None:
                    return earlier
            refused = _refusal(charge, codes[2:]) if charge else None
            if refused is not None:
                raise refused from None
            raise
        return None

    def get_idempotency(self, owner: str, key: str) -> IdempotencyRecord | None:
        found = self._client.get_item(
            TableName=self._table,
            Key=_to_item(idempotency_key(owner, key), {}),
            ConsistentRead=True,
        )
        if "Item" not in found:
            return None
        return IdempotencyRecord.model_validate(_from_item(found["Item"]))

    def get_job(self, job_id: str) -> Job | None:
        found = self._client.get_item(TableName=self._table, Key=_to_item(job_key(job_id), {}))
        return Job.model_validate(_from_item(found["Item"])) if "Item" in found else None

    def update_job(
        self,
        job_id: str,
        status: JobStatus,
        *,
        story_id: str | None = None,
        error: str | None = None,
    ) -> None:
        """Move a job on; a job that has ended (completed or failed) stays as it ended, so
        two late writers cannot flip it (raises JobAlreadyEnded). Ending a job also ends its
        progress, in the same write."""
        try:
            self._write("update_item", **self._job_update(job_id, status, story_id, error))
        except self._client.exceptions.ConditionalCheckFailedException:
            raise JobAlreadyEnded(f"job {job_id} does not exist or has already ended") from None

    def finish_story(self, story: Story, error: str | None) -> None:
        """End the story's job with the story's status and store the story, in one
        transaction: a client never sees the job ended while the story is not yet written,
        and a job that had already ended keeps its outcome and its story (JobAlreadyEnded)."""
        try:
            self._write(
                "transact_write_items",
                TransactItems=[
                    {"Update": self._job_update(story.job_id, story.status, story.id, error)},
                    {"Put": {"TableName": self._table, "Item": self._story_item(story)}},
                ],
            )
        except self._client.exceptions.TransactionCanceledException:
            raise JobAlreadyEnded(
                f"job {story.job_id} does not exist or has already ended"
            ) from None

    def _job_update(
        self, job_id: str, status: JobStatus, story_id: str | None, error: str | None
    ) -> dict[str, Any]:
        """The conditional update that moves an open job to `status`."""
        fields: dict[str, Any] = {"status": status.value, "updated_at": utc_now().isoformat()}
        if story_id is not None:
            fields["story_id"] = story_id
        if error is not None:
            fields["error"] = error
        names = {f"#{name}": name for name in fields}
        values = {f":{name}": _serialize(value) for name, value in fields.items()}
        assignments = [f"#{name} = :{name}" for name in fields]
        if status.is_terminal:
            assignments.append("progress.stage = :done")
            values[":done"] = _serialize(Stage.DONE.value)
        values |= {":pending": _serialize("pending"), ":processing": _serialize("processing")}
        # a job that leaves pending leaves the sweeper's list in the same write
        remove = " REMOVE gsi1pk, gsi1sk" if status is not JobStatus.PENDING else ""
        return {
            "TableName": self._table,
            "Key": _to_item(job_key(job_id), {}),
            "UpdateExpression": "SET " + ", ".join(assignments) + remove,
            "ExpressionAttributeNames": names | {"#status": "status"},
            "ExpressionAttributeValues": values,
            "ConditionExpression": "#status IN (:pending, :processing)",
        }

    def pending_jobs(self, created_before: datetime) -> Iterator[Job]:
        """Jobs listed as pending (gsi1 PENDING) that were made before `created_before`, oldest
        first: one Query on the sparse index, never a scan. The index is eventually consistent:
        a job may have moved on a moment ago (every action on these is conditional or
        idempotent)."""
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :pending AND gsi1sk < :before",
            ExpressionAttributeValues={
                ":pending": {"S": PENDING_LIST_KEY},
                ":before": {"S": pending_sort_key(created_before)},
            },
        ):
            for item in page["Items"]:
                yield Job.model_validate(_from_item(item))

    def expire_pending_job(self, job_id: str, error: str) -> bool:
        """Fail a job that is still pending (False if it has moved on). Its PENDING entry is
        kept until `unlist_pending` (after story.failed is announced), so an announcement cut
        short is made again by the next sweep."""
        try:
            self._write(
                "update_item",
                TableName=self._table,
                Key=_to_item(job_key(job_id), {}),
                UpdateExpression=(
                    "SET #status = :failed, #error = :error, updated_at = :now, "
                    "progress.stage = :done"
                ),
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":failed": _serialize(JobStatus.FAILED.value),
                    ":pending": _serialize(JobStatus.PENDING.value),
                    ":error": _serialize(error),
                    ":now": _serialize(utc_now().isoformat()),
                    ":done": _serialize(Stage.DONE.value),
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def unlist_pending(self, job_id: str) -> None:
        """Take a job that is no longer pending off the PENDING list (gone already: nothing)."""
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._write(
                "update_item",
                TableName=self._table,
                Key=_to_item(job_key(job_id), {}),
                UpdateExpression="REMOVE gsi1pk, gsi1sk",
                ConditionExpression="attribute_exists(pk) AND #status <> :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": _serialize(JobStatus.PENDING.value)},
            )

    def set_stage(
        self,
        job_id: str,
        stage: Stage,
        *,
        images_total: int | None = None,
        videos_total: int | None = None,
    ) -> None:
        """Move the job's progress to `stage` (and set the totals, when known)."""
        fields: dict[str, Any] = {"stage": stage.value}
        if images_total is not None:
            fields["images_total"] = images_total
        if videos_total is not None:
            fields["videos_total"] = videos_total
        self._write(
            "update_item",
            TableName=self._table,
            Key=_to_item(job_key(job_id), {}),
            UpdateExpression="SET " + ", ".join(f"progress.{name} = :{name}" for name in fields),
            ExpressionAttributeValues={f":{name}": _serialize(v) for name, v in fields.items()},
            ConditionExpression="attribute_exists(pk)",
        )

    def complete_asset(self, asset: Asset) -> bool:
        """Store a completed asset and count it in its job's progress, in one transaction, so
        a step retried after a failure can neither lose the count nor count it twice. False
        (nothing written) if the asset was already completed."""
        counter = "images_done" if asset.kind is AssetKind.IMAGE else "videos_done"
        try:
            self._write(
                "transact_write_items",
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._asset_item(asset),
                            "ConditionExpression": (
                                "attribute_not_exists(pk) OR #status <> :completed"
                            ),
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": {
                                ":completed": _serialize(AssetStatus.COMPLETED.value)
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": _to_item(job_key(asset.job_id), {}),
                            "UpdateExpression": f"ADD progress.{counter} :one",
                            "ExpressionAttributeValues": {":one": _serialize(1)},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ],
            )
        except self._client.exceptions.TransactionCanceledException as error:
            if cancellation_codes(error)[:1] == [CONDITION_FAILED]:
                return False
            raise
        return True

    def record_webhook_attempt(self, job_id: str, attempt: WebhookAttempt) -> None:
        self._write(
            "update_item",
            TableName=self._table,
            Key=_to_item(job_key(job_id), {}),
            UpdateExpression=(
                "SET webhook_attempts = list_append(if_not_exists(webhook_attempts, :none), :one)"
            ),
            ExpressionAttributeValues={
                ":none": _serialize([]),
                ":one": _serialize([attempt.model_dump(mode="json")]),
            },
            ConditionExpression="attribute_exists(pk)",
        )

    # webhook signing secrets, one per owner

    def webhook_secrets(self, owner: str) -> WebhookSecrets:
        """The owner's secrets, made on first use (two first uses at once agree on one)."""
        key = {"pk": f"OWNER#{owner}", "sk": "WEBHOOK_SECRET"}
        found = self._client.get_item(
            TableName=self._table, Key=_to_item(key, {}), ConsistentRead=True
        )
        if "Item" in found:
            return WebhookSecrets.model_validate(_from_item(found["Item"]))
        made = WebhookSecrets(current=new_secret())
        try:
            self._client.put_item(
                TableName=self._table,
                Item=_to_item(key, made.model_dump(mode="json")),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return self.webhook_secrets(owner)
        return made

    def rotate_webhook_secret(self, owner: str) -> WebhookSecrets:
        now = utc_now()
        rotated = WebhookSecrets(
            current=new_secret(), previous=self.webhook_secrets(owner).current, rotated_at=now
        )
        self._client.put_item(
            TableName=self._table,
            Item=_to_item(
                {"pk": f"OWNER#{owner}", "sk": "WEBHOOK_SECRET"}, rotated.model_dump(mode="json")
            ),
        )
        return rotated

    # stories

    def put_story(self, story: Story) -> None:
        self._client.put_item(TableName=self._table, Item=self._story_item(story))

    def _story_item(self, story: Story) -> dict[str, Any]:
        """The story's item; a completed story is also in its owner's list (the index)."""
        keys = story_key(story.id)
        if story.status is JobStatus.COMPLETED:
            keys |= {
                "gsi1pk": story_list_key(story.owner),
                "gsi1sk": f"{story.created_at.isoformat()}#{story.id}",
            }
        return _to_item(keys, story.model_dump(mode="json") | self._expiry(story.created_at))

    def get_story_item(self, story_id: str) -> Story | None:
        """The story alone (one GetItem), without its assets."""
        found = self._client.get_item(
            TableName=self._table, Key=_to_item(story_key(story_id), {}), ConsistentRead=True
        )
        return Story.model_validate(_from_item(found["Item"])) if "Item" in found else None

    def get_story(self, story_id: str) -> tuple[Story, list[Asset]] | None:
        """The story and its assets, read with one query on the story's partition."""
        items = self._query_partition(f"STORY#{story_id}")
        story = next((item for item in items if item["sk"] == "STORY"), None)
        if story is None:
            return None
        assets = [Asset.model_validate(item) for item in items if item["sk"].startswith("ASSET#")]
        return Story.model_validate(story), assets

    def list_stories(self, owner: str, *, limit: int, offset: int) -> tuple[list[Story], int]:
        """An owner's completed stories, newest first (reading only as far as the page), and
        how many there are in all (counted by the index, no items returned)."""
        query = {
            "TableName": self._table,
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :list",
            "ExpressionAttributeValues": {":list": {"S": story_list_key(owner)}},
        }
        total = sum(
            page["Count"]
            for page in self._client.get_paginator("query").paginate(**query, Select="COUNT")
        )
        stories: list[Story] = []
        seen = 0
        for page in self._client.get_paginator("query").paginate(
            **query,
            ScanIndexForward=False,
            PaginationConfig={"PageSize": min(offset + limit, 100)},
        ):
            for item in page["Items"]:
                if seen >= offset:
                    stories.append(Story.model_validate(_from_item(item)))
                seen += 1
                if len(stories) == limit:
                    return stories, total
        return stories, total

    # API keys

    def put_api_key(self, key: ApiKey) -> None:
        item = _to_item(
            api_key_key(key.key_id) | {"gsi1pk": KEY_LIST_KEY, "gsi1sk": key.key_id},
            key.model_dump(mode="json"),
        )
        self._client.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
        )

    def get_api_key(self, key_id: str) -> ApiKey | None:
        found = self._client.get_item(
            TableName=self._table, Key=_to_item(api_key_key(key_id), {}), ConsistentRead=True
        )
        return ApiKey.model_validate(_from_item(found["Item"])) if "Item" in found else None

    def list_api_keys(self) -> list[ApiKey]:
        keys: list[ApiKey] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :keys",
            ExpressionAttributeValues={":keys": {"S": KEY_LIST_KEY}},
        ):
            keys.extend(ApiKey.model_validate(_from_item(item)) for item in page["Items"])
        return keys

    def revoke_api_key(self, key_id: str, when: datetime) -> bool:
        """Revoke a key; False when there is no such key."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_to_item(api_key_key(key_id), {}),
                UpdateExpression="SET revoked_at = :when",
                ExpressionAttributeValues={":when": _serialize(when.isoformat())},
                ConditionExpression="attribute_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    # limits

    def _charge_updates(self, charge: Charge) -> list[dict[str, Any]]:
        """The conditional updates that count a charge in each of its windows (RateLimited at
        once for a charge bigger than a whole window)."""
        over = [window for window in charge.windows if charge.units > window.limit]
        if over:
            raise RateLimited(_over_message(over[0], charge.units), over[0].resets_in(charge.at))
        return [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": self._limit_key(charge, window),
                    "UpdateExpression": "ADD used :units SET expires_at = :expires",
                    "ConditionExpression": "attribute_not_exists(used) OR used <= :room",
                    "ExpressionAttributeValues": {
                        ":units": _serialize(charge.units),
                        ":room": _serialize(window.limit - charge.units),
                        ":expires": _serialize(window.expires_at(charge.at)),
                    },
                }
            }
            for window in charge.windows
        ]

    def _limit_key(self, charge: Charge, window: Window) -> dict[str, Any]:
        return _to_item({"pk": f"LIMIT#{window.key(charge.owner, charge.at)}", "sk": "LIMIT"}, {})

    def charge(self, charge: Charge) -> None:
        """Count a charge against every window of its owner, all or none; raise RateLimited
        naming the first window that has no room left."""
        try:
            self._write("transact_write_items", TransactItems=self._charge_updates(charge))
        except self._client.exceptions.TransactionCanceledException as error:
            refused = _refusal(charge, cancellation_codes(error))
            if refused is None:
                raise
            raise refused from None

    def refund(self, charge: Charge) -> None:
        """Give a charge's units back to the windows it was counted in (for a request that
        was charged but made nothing)."""
        for window in charge.windows:
            with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
                self._write(
                    "update_item",
                    TableName=self._table,
                    Key=self._limit_key(charge, window),
                    UpdateExpression="ADD used :refund",
                    ConditionExpression="attribute_exists(used)",  # not a window long gone
                    ExpressionAttributeValues={":refund": _serialize(-charge.units)},
                )

    # assets

    def put_assets(self, assets: Iterable[Asset]) -> None:
        for asset in assets:
            self.put_asset(asset)

    def put_asset(self, asset: Asset, created_at: datetime | None = None) -> None:
        self._client.put_item(TableName=self._table, Item=self._asset_item(asset, created_at))

    def _asset_item(self, asset: Asset, created_at: datetime | None = None) -> dict[str, Any]:
        return _to_item(
            asset_key(asset.story_id, asset.kind, asset.display_order),
            asset.model_dump(mode="json") | self._expiry(created_at or utc_now()),
        )

    def get_asset(self, story_id: str, kind: AssetKind, display_order: int) -> Asset:
        found = self._client.get_item(
            TableName=self._table, Key=_to_item(asset_key(story_id, kind, display_order), {})
        )
        if "Item" not in found:
            raise LookupError(f"no {kind.value} {display_order} in story {story_id}")
        return Asset.model_validate(_from_item(found["Item"]))

    def delete_story(self, story_id: str, job_id: str) -> None:
        """Remove a story (if it has one), its assets' records and its job."""
        story_items = self._query_partition(f"STORY#{story_id}") if story_id else []
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in story_items] + [job_key(job_id)]
        for key in keys:
            self._client.delete_item(TableName=self._table, Key=_to_item(key, {}))

    def _query_partition(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        ):
            items.extend(_from_item(item) for item in page["Items"])
        return items


def _refusal(charge: Charge, codes: list[str]) -> RateLimited | None:
    """RateLimited naming the first full window, when the charge's updates (`codes`, one per
    window) were refused; None when they were not."""
    full = [w for w, code in zip(charge.windows, codes, strict=False) if code == CONDITION_FAILED]
    if not full:
        return None
    return RateLimited(_over_message(full[0], charge.units), full[0].resets_in(charge.at))


def _over_message(window: Window, units: int) -> str:
    return (
        f"Over the {window.name} limit of {window.limit} units "
        f"(this request costs {units}: 1 per story, 1 per picture, 4 per clip)"
    )
