"""DynamoDB adapter: jobs, stories and their assets in one table (key design: docs/design.md)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from kidstory.models import Asset, AssetKind, Job, JobStatus, Story, utc_now

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

DynamoDBClient = Any  # a boto3 client

STORY_LIST_KEY = "STORIES"


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
    return _codec()[0].serialize(value)


def _to_item(keys: dict[str, str], fields: dict[str, Any]) -> dict[str, Any]:
    return {name: _serialize(value) for name, value in {**fields, **keys}.items()}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _codec()[1]
    return {name: deserializer.deserialize(value) for name, value in item.items()}


class StoryTable:
    """Reads and writes the service's items; the only module that knows the table's keys."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # jobs

    def put_job(self, job: Job) -> None:
        item = _to_item(job_key(job.job_id), job.model_dump(mode="json"))
        self._client.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
        )

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
        fields: dict[str, Any] = {"status": status.value, "updated_at": utc_now().isoformat()}
        if story_id is not None:
            fields["story_id"] = story_id
        if error is not None:
            fields["error"] = error
        names = {f"#{name}": name for name in fields}
        self._client.update_item(
            TableName=self._table,
            Key=_to_item(job_key(job_id), {}),
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in fields),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                f":{name}": _serialize(value) for name, value in fields.items()
            },
            ConditionExpression="attribute_exists(pk)",
        )

    # stories

    def put_story(self, story: Story) -> None:
        keys = story_key(story.id)
        if story.status is JobStatus.COMPLETED:
            keys |= {
                "gsi1pk": STORY_LIST_KEY,
                "gsi1sk": f"{story.created_at.isoformat()}#{story.id}",
            }
        self._client.put_item(
            TableName=self._table, Item=_to_item(keys, story.model_dump(mode="json"))
        )

    def get_story(self, story_id: str) -> tuple[Story, list[Asset]] | None:
        """The story and its assets, read with one query on the story's partition."""
        items = self._query_partition(f"STORY#{story_id}")
        story = next((item for item in items if item["sk"] == "STORY"), None)
        if story is None:
            return None
        assets = [Asset.model_validate(item) for item in items if item["sk"].startswith("ASSET#")]
        return Story.model_validate(story), assets

    def list_stories(self, *, limit: int, offset: int) -> tuple[list[Story], int]:
        """Completed stories, newest first, and how many there are in all."""
        stories: list[Story] = []
        total = 0
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :list",
            ExpressionAttributeValues={":list": {"S": STORY_LIST_KEY}},
            ScanIndexForward=False,
        ):
            for item in page["Items"]:
                if offset <= total < offset + limit:
                    stories.append(Story.model_validate(_from_item(item)))
                total += 1
        return stories, total

    # assets

    def put_assets(self, assets: Iterable[Asset]) -> None:
        for asset in assets:
            self.put_asset(asset)

    def put_asset(self, asset: Asset) -> None:
        item = _to_item(
            asset_key(asset.story_id, asset.kind, asset.display_order),
            asset.model_dump(mode="json"),
        )
        self._client.put_item(TableName=self._table, Item=item)

    def get_asset(self, story_id: str, kind: AssetKind, display_order: int) -> Asset:
        found = self._client.get_item(
            TableName=self._table, Key=_to_item(asset_key(story_id, kind, display_order), {})
        )
        if "Item" not in found:
            raise LookupError(f"no {kind.value} {display_order} in story {story_id}")
        return Asset.model_validate(_from_item(found["Item"]))

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
