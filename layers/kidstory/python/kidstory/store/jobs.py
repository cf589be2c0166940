"""Jobs: a new job (charged, under an Idempotency-Key), its status and progress, the pending
list the sweeper reads, and the webhook attempts recorded on it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from kidstory.job_cost import JobCost
from kidstory.models import Job, JobStatus, Stage, utc_now
from kidstory.store.quota import charge_updates, refusal
from kidstory.store.table import (
    PENDING_LIST_KEY,
    Table,
    from_item,
    idempotency_key,
    job_key,
    pending_sort_key,
    serialize,
    to_item,
)
from kidstory.transactions import CONDITION_FAILED, cancellation_codes

if TYPE_CHECKING:
    from kidstory.access import Charge
    from kidstory.webhooks import WebhookAttempt

IDEMPOTENCY_HOURS = 24


class JobAlreadyEnded(Exception):
    """The job is missing, or already completed or failed: it cannot change any more."""


class IdempotencyRecord(BaseModel):
    """Which job an Idempotency-Key started, and a fingerprint of the request that started it."""

    job_id: str
    fingerprint: str


def job_update(
    table_name: str,
    job_id: str,
    status: JobStatus,
    story_id: str | None,
    error: str | None,
    cost: JobCost | None = None,
) -> dict[str, Any]:
    """The conditional update that moves an open job to `status` (also written in one
    transaction with its story, kidstory.store.stories), with its cost when it ends."""
    fields: dict[str, Any] = {"status": status.value, "updated_at": utc_now().isoformat()}
    if story_id is not None:
        fields["story_id"] = story_id
    if error is not None:
        fields["error"] = error
    if cost is not None:
        fields["cost"] = cost.model_dump(mode="json")
    names = {f"#{name}": name for name in fields}
    values = {f":{name}": serialize(value) for name, value in fields.items()}
    assignments = [f"#{name} = :{name}" for name in fields]
    if status.is_terminal:
        assignments.append("progress.stage = :done")
        values[":done"] = serialize(Stage.DONE.value)
    values |= {":pending": serialize("pending"), ":processing": serialize("processing")}
    # a job that leaves pending leaves the sweeper's list in the same write
    remove = " REMOVE gsi1pk, gsi1sk" if status is not JobStatus.PENDING else ""
    return {
        "TableName": table_name,
        "Key": to_item(job_key(job_id), {}),
        "UpdateExpression": "SET " + ", ".join(assignments) + remove,
        "ExpressionAttributeNames": names | {"#status": "status"},
        "ExpressionAttributeValues": values,
        "ConditionExpression": "#status IN (:pending, :processing)",
    }


class Jobs(Table):
    """The JOB# items (and the IDEMPOTENCY# records that start them)."""

    def _job_item(self, job: Job) -> dict[str, Any]:
        """The job's item; a pending job is also listed under PENDING in gsi1 (the sweeper's)."""
        keys = job_key(job.job_id)
        if job.status is JobStatus.PENDING:
            keys |= {
                "gsi1pk": PENDING_LIST_KEY,
                "gsi1sk": f"{pending_sort_key(job.created_at)}#{job.job_id}",
            }
        return to_item(keys, job.model_dump(mode="json") | self._expiry(job.created_at))

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
        updates = charge_updates(self._table, charge)
        try:
            self._write("transact_write_items", TransactItems=[self._new_job_put(job), *updates])
        except self._client.exceptions.TransactionCanceledException as error:
            refused = refusal(charge, cancellation_codes(error)[1:])
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
                "Item": to_item(
                    idempotency_key(job.owner, key),
                    record.model_dump() | {"expires_at": expires},
                ),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        updates = charge_updates(self._table, charge) if charge else []
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
            refused = refusal(charge, codes[2:]) if charge else None
            if refused is not None:
                raise refused from None
            raise
        return None

    def get_idempotency(self, owner: str, key: str) -> IdempotencyRecord | None:
        found = self._client.get_item(
            TableName=self._table,
            Key=to_item(idempotency_key(owner, key), {}),
            ConsistentRead=True,
        )
        if "Item" not in found:
            return None
        return IdempotencyRecord.model_validate(from_item(found["Item"]))

    def get_job(self, job_id: str) -> Job | None:
        found = self._client.get_item(TableName=self._table, Key=to_item(job_key(job_id), {}))
        return Job.model_validate(from_item(found["Item"])) if "Item" in found else None

    def update_job(
        self,
        job_id: str,
        status: JobStatus,
        *,
        story_id: str | None = None,
        error: str | None = None,
        cost: JobCost | None = None,
        spend: dict[str, Any] | None = None,
    ) -> None:
        """Move a job on; a job that has ended (completed or failed) stays as it ended, so
        two late writers cannot flip it (raises JobAlreadyEnded). Ending a job also ends its
        progress, in the same write, and records its `cost` and counts it in its owner's
        month (`spend`, kidstory.store.spend.spend_update) in the same transaction."""
        update = job_update(self._table, job_id, status, story_id, error, cost)
        try:
            if spend is None:
                self._write("update_item", **update)
            else:
                self._write(
                    "transact_write_items", TransactItems=[{"Update": update}, {"Update": spend}]
                )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise JobAlreadyEnded(f"job {job_id} does not exist or has already ended") from None
        except self._client.exceptions.TransactionCanceledException as cancelled:
            if cancellation_codes(cancelled)[:1] != [CONDITION_FAILED]:
                raise
            raise JobAlreadyEnded(f"job {job_id} does not exist or has already ended") from None

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
                yield Job.model_validate(from_item(item))

    def expire_pending_job(self, job_id: str, error: str) -> bool:
        """Fail a job that is still pending (False if it has moved on). Its PENDING entry is
        kept until `unlist_pending` (after story.failed is announced), so an announcement cut
        short is made again by the next sweep."""
        try:
            self._write(
                "update_item",
                TableName=self._table,
                Key=to_item(job_key(job_id), {}),
                UpdateExpression=(
                    "SET #status = :failed, #error = :error, updated_at = :now, "
                    "progress.stage = :done"
                ),
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":failed": serialize(JobStatus.FAILED.value),
                    ":pending": serialize(JobStatus.PENDING.value),
                    ":error": serialize(error),
                    ":now": serialize(utc_now().isoformat()),
                    ":done": serialize(Stage.DONE.value),
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
                Key=to_item(job_key(job_id), {}),
                UpdateExpression="REMOVE gsi1pk, gsi1sk",
                ConditionExpression="attribute_exists(pk) AND #status <> :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": serialize(JobStatus.PENDING.value)},
            )

    def set_stage(
        self,
        job_id: str,
        stage: Stage,
        *,
        images_total: int | None = None,
        videos_total: int | None = None,
        narration_total: int | None = None,
    ) -> None:
        """Move the job's progress to `stage` (and set the totals, when known)."""
        fields: dict[str, Any] = {"stage": stage.value}
        if narration_total is not None:
            fields["narration_total"] = narration_total
        if images_total is not None:
            fields["images_total"] = images_total
        if videos_total is not None:
            fields["videos_total"] = videos_total
        self._write(
            "update_item",
            TableName=self._table,
            Key=to_item(job_key(job_id), {}),
            UpdateExpression="SET " + ", ".join(f"progress.{name} = :{name}" for name in fields),
            ExpressionAttributeValues={f":{name}": serialize(v) for name, v in fields.items()},
            ConditionExpression="attribute_exists(pk)",
        )

    def record_webhook_attempt(self, job_id: str, attempt: WebhookAttempt) -> None:
        self._write(
            "update_item",
            TableName=self._table,
            Key=to_item(job_key(job_id), {}),
            UpdateExpression=(
                "SET webhook_attempts = list_append(if_not_exists(webhook_attempts, :none), :one)"
            ),
            ExpressionAttributeValues={
                ":none": serialize([]),
                ":one": serialize([attempt.model_dump(mode="json")]),
            },
            ConditionExpression="attribute_exists(pk)",
        )
