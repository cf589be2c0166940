"""Client API keys: stored hashed (KEY#<key_id>), listed through gsi1 KEYS, revoked in place."""

from __future__ import annotations

from datetime import datetime

from kidstory.access import ApiKey
from kidstory.store.table import KEY_LIST_KEY, Table, api_key_key, from_item, serialize, to_item


class ApiKeys(Table):
    """The KEY# items."""

    def put_api_key(self, key: ApiKey) -> None:
        item = to_item(
            api_key_key(key.key_id) | {"gsi1pk": KEY_LIST_KEY, "gsi1sk": key.key_id},
            key.model_dump(mode="json"),
        )
        self._client.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
        )

    def get_api_key(self, key_id: str) -> ApiKey | None:
        found = self._client.get_item(
            TableName=self._table, Key=to_item(api_key_key(key_id), {}), ConsistentRead=True
        )
        return ApiKey.model_validate(from_item(found["Item"])) if "Item" in found else None

    def list_api_keys(self) -> list[ApiKey]:
        keys: list[ApiKey] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :keys",
            ExpressionAttributeValues={":keys": {"S": KEY_LIST_KEY}},
        ):
            keys.extend(ApiKey.model_validate(from_item(item)) for item in page["Items"])
        return keys

    def revoke_api_key(self, key_id: str, when: datetime) -> bool:
        """Revoke a key; False when there is no such key."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=to_item(api_key_key(key_id), {}),
                UpdateExpression="SET revoked_at = :when",
                ExpressionAttributeValues={":when": serialize(when.isoformat())},
                ConditionExpression="attribute_exists(pk)",
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True
