"""Stories and their assets (one partition per story): written by the workflow, ended with
their job in one transaction, listed per owner, deleted with their job."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kidstory.job_cost import JobCost
from kidstory.models import Asset, AssetKind, AssetStatus, JobStatus, Story, utc_now
from kidstory.store.jobs import JobAlreadyEnded, job_update
from kidstory.store.related import RelatedStories
from kidstory.store.table import (
    Table,
    asset_key,
    from_item,
    job_key,
    pending_asset_key,
    serialize,
    story_key,
    story_list_key,
    to_item,
)
from kidstory.transactions import CONDITION_FAILED, cancellation_codes

# The job's progress field that counts an asset of each kind when it is done.
PROGRESS_COUNTER = {
    AssetKind.IMAGE: "images_done",
    AssetKind.VIDEO: "videos_done",
    AssetKind.AUDIO: "narration_done",
}


def _asset_key(
    story_id: str,
    kind: AssetKind,
    display_order: int,
    asset: Asset | None,
    pending_job: str | None,
) -> dict[str, str]:
    """A current asset's key, or a page change's redone one (its job's, while it runs)."""
    if asset is not None and asset.pending:
        pending_job = asset.job_id
    if pending_job is not None:
        return pending_asset_key(story_id, pending_job, kind, display_order)
    return asset_key(story_id, kind, display_order)


class Stories(RelatedStories, Table):
    """The STORY# partitions: the story item and one item per illustration and clip (and the
    links to a story's sequels and versions, kidstory.store.related)."""

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
        return to_item(keys, story.model_dump(mode="json") | self._expiry(story.created_at))

    def finish_story(
        self,
        story: Story,
        error: str | None,
        cost: JobCost | None = None,
        spend: dict[str, Any] | None = None,
    ) -> None:
        """End the story's job with the story's status and store the story, in one
        transaction: a client never sees the job ended while the story is not yet written,
        and a job that had already ended keeps its outcome and its story (JobAlreadyEnded).
        The job's `cost` is recorded, and counted in its owner's month (`spend`,
        kidstory.store.spend.spend_update), in the same transaction: once per job."""
        update = job_update(self._table, story.job_id, story.status, story.id, error, cost)
        items: list[dict[str, Any]] = [
            {"Update": update},
            {"Put": {"TableName": self._table, "Item": self._story_item(story)}},
        ]
        if spend is not None:
            items.append({"Update": spend})
        if story.status is JobStatus.COMPLETED:  # a sequel or version, listed in its parent's
            items.extend(self.parent_link_puts(story))
        try:
            self._write("transact_write_items", TransactItems=items)
        except self._client.exceptions.TransactionCanceledException as cancelled:
            # the job's condition (it exists and has not ended) failed: it keeps its outcome;
            # any other reason (an item too large...) is an error the workflow must see
            if cancellation_codes(cancelled)[:1] != [CONDITION_FAILED]:
                raise
            raise JobAlreadyEnded(
                f"job {story.job_id} does not exist or has already ended"
            ) from None

    def get_story_item(self, story_id: str) -> Story | None:
        """The story alone (one GetItem), without its assets."""
        found = self._client.get_item(
            TableName=self._table, Key=to_item(story_key(story_id), {}), ConsistentRead=True
        )
        return Story.model_validate(from_item(found["Item"])) if "Item" in found else None

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
                    stories.append(Story.model_validate(from_item(item)))
                seen += 1
                if len(stories) == limit:
                    return stories, total
        return stories, total

    def delete_story(self, story_id: str, job_id: str) -> None:
        """Remove a story (if it has one), its assets' records and its job with its ledger."""
        story_items = self._query_partition(f"STORY#{story_id}") if story_id else []
        job_items = self._query_partition(f"JOB#{job_id}")
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in story_items + job_items]
        if not job_items:  # the job alone (deleting an item that is gone is no error)
            keys.append(job_key(job_id))
        for key in keys:
            self._client.delete_item(TableName=self._table, Key=to_item(key, {}))

    # assets

    def put_assets(self, assets: Iterable[Asset]) -> None:
        for asset in assets:
            self.put_asset(asset)

    def put_asset(self, asset: Asset, created_at: datetime | None = None) -> None:
        self._client.put_item(TableName=self._table, Item=self._asset_item(asset, created_at))

    def _asset_item(self, asset: Asset, created_at: datetime | None = None) -> dict[str, Any]:
        return to_item(
            _asset_key(asset.story_id, asset.kind, asset.display_order, asset, None),
            asset.model_dump(mode="json") | self._expiry(created_at or utc_now()),
        )

    def get_asset(
        self,
        story_id: str,
        kind: AssetKind,
        display_order: int,
        *,
        pending_job: str | None = None,
    ) -> Asset:
        """The story's asset of that kind and order; with `pending_job`, the one that page
        change redoes (kidstory.steps.page_changes) instead of the current one."""
        key = _asset_key(story_id, kind, display_order, None, pending_job)
        found = self._client.get_item(TableName=self._table, Key=to_item(key, {}))
        if "Item" not in found:
            raise LookupError(f"no {kind.value} {display_order} in story {story_id}")
        return Asset.model_validate(from_item(found["Item"]))

    def complete_asset(self, asset: Asset) -> bool:
        """Store a completed asset and count it in its job's progress, in one transaction, so
        a step retried after a failure can neither lose the count nor count it twice. False
        (nothing written) if the asset was already completed."""
        counter = PROGRESS_COUNTER[asset.kind]
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
                                ":completed": serialize(AssetStatus.COMPLETED.value)
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": to_item(job_key(asset.job_id), {}),
                            "UpdateExpression": f"ADD progress.{counter} :one",
                            "ExpressionAttributeValues": {":one": serialize(1)},
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

    def _query_partition(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        ):
            items.extend(from_item(item) for item in page["Items"])
        return items
