"""The records that list a story's sequels and versions (docs/architecture.md, DynamoDB): a
link item in the parent's partition, written in the same transaction that completes the child,
never for a failed child, read with one Query, removed with the child."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from kidstory.models import AgeGroup, Character, Job, JobStatus, Story, StoryRequest
from kidstory.store.related import relation_of
from kidstory.store.story_table import StoryTable
from tests.unit.conftest import TABLE

MADE = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _child(table: StoryTable, parent_id: str, *, series_id: str | None, made: datetime) -> Story:
    job = Job(request=StoryRequest(prompt="More", age_group="3-5", num_illustrations=1))
    table.put_job(job)
    story = Story(
        job_id=job.job_id,
        title=f"Child made {made:%H:%M}",
        content="One page.",
        pages=["One page."],
        character=Character(name="Pip", species="fox", look="a fox in a red scarf"),
        art_style="watercolour",
        age_group=AgeGroup.PRESCHOOL,
        prompt="More",
        language="es" if series_id is None else "en",
        series_id=series_id,
        parent_id=parent_id,
        created_at=made,
    )
    table.put_story(story)
    return story


def _keys(parent_id: str) -> list[str]:
    items = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"STORY#{parent_id}"}},
    )["Items"]
    return [item["sk"]["S"] for item in items]


def test_a_completed_child_is_linked_in_its_parents_partition_and_unlinked_when_deleted(
    table: StoryTable,
) -> None:
    sequel = _child(table, "parent-1", series_id="parent-1", made=MADE)
    version = _child(table, "parent-1", series_id=None, made=MADE.replace(hour=10))

    for story in (version, sequel):
        story.status = JobStatus.COMPLETED
        table.finish_story(story, None)

    assert _keys("parent-1") == [
        f"RELATED#sequel#2026-12-01T09:30:00+00:00#{sequel.id}",
        f"RELATED#version#2026-12-01T10:30:00+00:00#{version.id}",
    ]
    related = table.related_stories("parent-1")
    assert [(r.id, r.relation, r.language, r.title) for r in related] == [
        (sequel.id, "sequel", "en", "Child made 09:30"),
        (version.id, "version", "es", "Child made 10:30"),
    ]

    table.forget_in_parent(sequel)
    assert [r.id for r in table.related_stories("parent-1")] == [version.id]


def test_a_failed_child_and_a_story_made_from_nothing_are_never_linked(
    table: StoryTable,
) -> None:
    failed = _child(table, "parent-2", series_id="parent-2", made=MADE)
    failed.status = JobStatus.FAILED
    table.finish_story(failed, "it failed")
    alone = failed.model_copy(update={"parent_id": None, "series_id": None})

    assert table.related_stories("parent-2") == []
    assert relation_of(alone) is None
    assert table.related_stories(failed.id) == []
