"""Stories made from a story (its sequels and its versions), listed in the parent's partition:
one link item per completed child, written in the child's completing transaction and removed
with the child (key design: docs/architecture.md, DynamoDB)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from kidstory.models import AgeGroup, Story
from kidstory.store.table import Table, from_item, to_item

Relation = Literal["sequel", "version"]
RELATED_PREFIX = "RELATED#"


class RelatedItem(BaseModel):
    """A link item: who the child is, as the parent's response lists it."""

    id: str
    title: str
    relation: Relation
    language: str
    age_group: AgeGroup
    created_at: datetime


def relation_of(story: Story) -> Relation | None:
    """What a story is to its parent: a sequel carries a series (its parent's), a version
    never does; None for a story made from nothing."""
    if story.parent_id is None:
        return None
    return "sequel" if story.series_id else "version"


def related_key(parent_id: str, relation: Relation, created_at: datetime, child_id: str) -> dict:
    """In the parent's partition, ordered by kind and then by when the child was made."""
    return {
        "pk": f"STORY#{parent_id}",
        "sk": f"{RELATED_PREFIX}{relation}#{created_at.isoformat()}#{child_id}",
    }


class RelatedStories(Table):
    """The RELATED# items of a story's partition."""

    def parent_link_puts(self, story: Story) -> list[dict[str, Any]]:
        """The transaction item that lists a completed sequel or version in its parent's
        partition (none for another story). It expires with the child."""
        relation = relation_of(story)
        if relation is None or story.parent_id is None:
            return []
        link = RelatedItem(
            id=story.id,
            title=story.title,
            relation=relation,
            language=story.language,
            age_group=story.age_group,
            created_at=story.created_at,
        )
        key = related_key(story.parent_id, relation, story.created_at, story.id)
        fields = link.model_dump(mode="json") | self._expiry(story.created_at)
        return [{"Put": {"TableName": self._table, "Item": to_item(key, fields)}}]

    def related_stories(self, story_id: str) -> list[RelatedItem]:
        """A story's completed sequels and versions, oldest first within each kind (one
        Query on its partition, links only)."""
        found: list[RelatedItem] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :related)",
            ExpressionAttributeValues={
                ":pk": {"S": f"STORY#{story_id}"},
                ":related": {"S": RELATED_PREFIX},
            },
            ConsistentRead=True,
        ):
            found.extend(RelatedItem.model_validate(from_item(item)) for item in page["Items"])
        return found

    def forget_in_parent(self, story: Story) -> None:
        """Remove a deleted child's link from its parent's list (nothing if it had none)."""
        relation = relation_of(story)
        if relation is None or story.parent_id is None:
            return
        key = related_key(story.parent_id, relation, story.created_at, story.id)
        self._client.delete_item(TableName=self._table, Key=to_item(key, {}))
