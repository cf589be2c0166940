"""Webhook signing secrets, one item per owner (OWNER#<owner> / WEBHOOK_SECRET): made on first
use, rotated on request."""

from __future__ import annotations

from kidstory.models import utc_now
from kidstory.store.table import Table, from_item, to_item, webhook_secret_key
from kidstory.webhooks import WebhookSecrets, new_secret


class WebhookSecretStore(Table):
    """The owners' WEBHOOK_SECRET items."""

    def webhook_secrets(self, owner: str) -> WebhookSecrets:
        """The owner's secrets, made on first use (two first uses at once agree on one)."""
        key = webhook_secret_key(owner)
        found = self._client.get_item(
            TableName=self._table, Key=to_item(key, {}), ConsistentRead=True
        )
        if "Item" in found:
            return WebhookSecrets.model_validate(from_item(found["Item"]))
        made = WebhookSecrets(current=new_secret())
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_item(key, made.model_dump(mode="json")),
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
            Item=to_item(webhook_secret_key(owner), rotated.model_dump(mode="json")),
        )
        return rotated
