"""Page versions in a story's partition: the one page change a story may have running (its
claim on the story item), that change's record and redone assets while it runs, and every
version of a page once it has been changed (key design: docs/architecture.md, DynamoDB)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from kidstory.books import book_keys
from kidstory.job_cost import JobCost
from kidstory.models import Asset, JobStatus, Readability, Story, utc_now
from kidstory.store.jobs import JobAlreadyEnded, job_update
from kidstory.store.stories import Stories
from kidstory.store.table import (
    change_sort_key,
    from_item,
    page_version_key,
    page_versions_prefix,
    serialize,
    story_key,
    to_item,
)
from kidstory.transactions import CONDITION_FAILED, cancellation_codes

# The story item's attribute naming the page change (its job id) that holds the story.
CHANGING = "changing"

Change = Literal["regenerated", "edited"]


class PageChange(BaseModel):
    """A page change while it runs: the page, how it changes, and the page's text in the new
    version (its current text when only the picture is redrawn)."""

    job_id: str
    story_id: str
    page: int = Field(ge=0, description="0-based")
    change: Change
    text: str
    text_changed: bool
    readability: Readability | None = Field(
        default=None, description="The story's, measured with the page's new text"
    )
    created_at: datetime = Field(default_factory=utc_now)


class PageVersionRecord(BaseModel):
    """One version of one page: its text, and its pictures and narration as they were."""

    story_id: str
    page: int = Field(ge=0, description="0-based")
    version: int = Field(ge=1)
    change: Literal["written", "regenerated", "edited"]
    job_id: str
    created_at: datetime
    text: str
    assets: list[Asset] = Field(default_factory=list)


class StoryBusy(Exception):
    """Another page change of the story is running (its job id)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"page change {job_id} is running")
        self.job_id = job_id


class PageVersions(Stories):
    """The CHANGE# and PAGE# items of a story's partition, and the claim on its story item."""

    # the claim: one page change at a time per story

    def claim_story(self, story_id: str, job_id: str, *, replacing: str | None = None) -> bool:
        """Mark the story as changed by `job_id`, in one conditional write: only if no change
        holds it (or the one that does is `replacing`, a change that has ended). False when
        another change holds it, or there is no such story."""
        condition = f"attribute_exists(pk) AND attribute_not_exists({CHANGING})"
        values = {":job": serialize(job_id)}
        if replacing is not None:
            condition = f"attribute_exists(pk) AND {CHANGING} = :replacing"
            values[":replacing"] = serialize(replacing)
        try:
            self._write(
                "update_item",
                TableName=self._table,
                Key=to_item(story_key(story_id), {}),
                UpdateExpression=f"SET {CHANGING} = :job",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def changing(self, story_id: str) -> str | None:
        """The page change (job id) that holds the story, if one does."""
        found = self._client.get_item(
            TableName=self._table,
            Key=to_item(story_key(story_id), {}),
            ProjectionExpression=CHANGING,
            ConsistentRead=True,
        )
        value = from_item(found.get("Item", {})).get(CHANGING)
        return str(value) if value else None

    def release_story(self, story_id: str, job_id: str) -> None:
        """Give up `job_id`'s claim (nothing, if it holds none)."""
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._write(
                "update_item",
                TableName=self._table,
                Key=to_item(story_key(story_id), {}),
                UpdateExpression=f"REMOVE {CHANGING}",
                ConditionExpression=f"{CHANGING} = :job",
                ExpressionAttributeValues={":job": serialize(job_id)},
            )

    # a change while it runs

    def put_change(self, change: PageChange, story: Story) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=to_item(
                {"pk": f"STORY#{change.story_id}", "sk": change_sort_key(change.job_id)},
                change.model_dump(mode="json") | self._expiry(story.created_at),
            ),
        )

    def get_change(self, story_id: str, job_id: str) -> tuple[PageChange, list[Asset]] | None:
        """A running change and the assets it redoes (as made so far), or None."""
        items = self._query_prefix(story_id, change_sort_key(job_id))
        record = next((item for item in items if item["sk"] == change_sort_key(job_id)), None)
        if record is None:
            return None
        redone = [Asset.model_validate(item) for item in items if item is not record]
        return PageChange.model_validate(record), redone

    # versions

    def page_versions(self, story_id: str, page: int) -> list[PageVersionRecord]:
        """Every stored version of a page (0-based), oldest first; none for a page that was
        never changed."""
        items = self._query_prefix(story_id, page_versions_prefix(page))
        return sorted(
            (PageVersionRecord.model_validate(item) for item in items), key=lambda r: r.version
        )

    def make_current(
        self,
        story: Story,
        change: PageChange,
        redone: list[Asset],
        versions: list[PageVersionRecord],
        *,
        cost: JobCost | None = None,
        spend: dict[str, Any] | None = None,
    ) -> None:
        """In one transaction: the job completed, the story stored as changed (its claim
        released), the redone assets in place of the current ones, the page's versions
        written, and the change's own items removed. JobAlreadyEnded when the job had ended;
        a story no longer held by the change fails the same way (nothing is written)."""
        story_item = self._story_item(story)
        writes: list[dict[str, Any]] = [
            {
                "Update": job_update(
                    self._table, change.job_id, JobStatus.COMPLETED, story.id, None, cost
                )
            },
            {
                "Put": {
                    "TableName": self._table,
                    "Item": story_item,
                    "ConditionExpression": f"{CHANGING} = :job",
                    "ExpressionAttributeValues": {":job": serialize(change.job_id)},
                }
            },
        ]
        for asset in redone:
            current = asset.model_copy(update={"pending": False})
            writes.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": self._asset_item(current, story.created_at),
                    }
                }
            )
        for record in versions:
            item = self._version_item(record, story.created_at)
            writes.append({"Put": {"TableName": self._table, "Item": item}})
        for asset in redone:
            writes.append({"Delete": {"TableName": self._table, "Key": self._pending_key(asset)}})
        change_key = {"pk": f"STORY#{story.id}", "sk": change_sort_key(change.job_id)}
        writes.append({"Delete": {"TableName": self._table, "Key": to_item(change_key, {})}})
        if spend is not None:  # the job counted in its owner's month, once
            writes.append({"Update": spend})
        try:
            self._write("transact_write_items", TransactItems=writes)
        except self._client.exceptions.TransactionCanceledException as cancelled:
            if CONDITION_FAILED not in cancellation_codes(cancelled)[:2]:
                raise
            raise JobAlreadyEnded(
                f"job {change.job_id} has ended, or no longer holds story {story.id}"
            ) from None

    def discard_change(self, story_id: str, job_id: str) -> list[str]:
        """Remove a change that will not finish (its record and redone assets) and release its
        claim; the story stays as it was. The media keys it had made, to delete."""
        items = self._query_prefix(story_id, change_sort_key(job_id))
        for item in items:
            self._client.delete_item(
                TableName=self._table, Key=to_item({"pk": item["pk"], "sk": item["sk"]}, {})
            )
        self.release_story(story_id, job_id)
        return [str(item["s3_key"]) for item in items if item.get("s3_key")]

    def version_media_keys(self, story_id: str) -> list[str]:
        """Every media key a story's page changes made or kept that its current assets do not
        name: earlier versions' pictures and narration, running changes' media, and the books
        bound after each change (deleted with the story)."""
        items = self._query_partition(f"STORY#{story_id}")
        keys: set[str] = set()
        for item in items:
            sk = str(item["sk"])
            if sk.startswith("PAGE#"):
                record = PageVersionRecord.model_validate(item)
                keys.update(asset.s3_key for asset in record.assets if asset.s3_key)
                keys.update(book_keys(story_id, revision=record.job_id))
            elif sk.startswith("CHANGE#"):
                if item.get("s3_key"):
                    keys.add(str(item["s3_key"]))
                keys.update(book_keys(story_id, revision=sk.split("#")[1]))
            elif sk == "STORY" and item.get("changed_by"):
                keys.update(book_keys(story_id, revision=str(item["changed_by"])))
        return sorted(keys)

    def page_change_jobs(self, story_id: str) -> list[str]:
        """The jobs of a story's page changes (deleted with it)."""
        items = self._query_partition(f"STORY#{story_id}")
        jobs = {
            str(item["job_id"])
            for item in items
            if str(item["sk"]).startswith(("PAGE#", "CHANGE#")) and item.get("change") != "written"
        }
        return sorted(jobs)

    def _version_item(self, record: PageVersionRecord, story_created: datetime) -> dict[str, Any]:
        """Kept as long as the story (its TTL is the story's)."""
        return to_item(
            page_version_key(record.story_id, record.page, record.version),
            record.model_dump(mode="json") | self._expiry(story_created),
        )

    def _pending_key(self, asset: Asset) -> dict[str, Any]:
        pending = asset.model_copy(update={"pending": True})
        item = self._asset_item(pending)
        return {"pk": item["pk"], "sk": item["sk"]}

    def _query_prefix(self, story_id: str, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": f"STORY#{story_id}"},
                ":prefix": {"S": prefix},
            },
            ConsistentRead=True,
        ):
            items.extend(from_item(item) for item in page["Items"])
        return items
