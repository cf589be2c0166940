"""The page-version records in a story's partition (docs/architecture.md, DynamoDB): one page
change holds a story at a time, its redone assets wait beside the current ones, and making it
current moves them in, keeps every version of the page and removes the change's own items."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3

from kidstory.models import (
    AgeGroup,
    Asset,
    AssetKind,
    AssetStatus,
    Character,
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    Story,
    StoryRequest,
)
from kidstory.store.page_versions import PageChange, PageVersionRecord
from kidstory.store.story_table import StoryTable
from tests.unit.conftest import TABLE

WRITTEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PAGES = ["Pip woke up.", "Pip saw the moon.", "Pip went to sleep."]


def story() -> Story:
    return Story(
        id="story-1",
        job_id="job-story",
        title="Pip and the Moon",
        content="\n\n".join(PAGES),
        pages=PAGES,
        character=Character(name="Pip", species="owl", look="a small brown owl"),
        art_style="watercolour",
        age_group=AgeGroup.PRESCHOOL,
        prompt="An owl and the moon",
        status=JobStatus.COMPLETED,
        created_at=WRITTEN,
    )


def picture(job_id: str, key: str, *, pending: bool = False) -> Asset:
    return Asset(
        asset_id=key,
        story_id="story-1",
        job_id=job_id,
        kind=AssetKind.IMAGE,
        display_order=0,
        prompt_used="Pip on a branch",
        scene_description="Pip wakes",
        status=AssetStatus.COMPLETED,
        s3_key=f"stories/story-1/{key}.png",
        pending=pending,
    )


def sort_keys(table: StoryTable) -> list[str]:
    items = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "STORY#story-1"}},
    )["Items"]
    return sorted(item["sk"]["S"] for item in items)


def stored(table: StoryTable) -> dict[str, Any]:
    found = table.get_story("story-1")
    assert found is not None
    return {"story": found[0], "assets": found[1]}


def test_one_page_change_holds_a_story_at_a_time(table: StoryTable) -> None:
    table.put_story(story())

    assert table.claim_story("story-1", "job-a")
    assert not table.claim_story("story-1", "job-b")
    assert not table.claim_story("no-such-story", "job-b")
    table.release_story("story-1", "job-b")  # not its claim: nothing changes
    assert table.changing("story-1") == "job-a"
    # a claim left by a change that ended is taken over only in a write conditional on it
    assert not table.claim_story("story-1", "job-c", replacing="job-b")
    assert table.claim_story("story-1", "job-c", replacing="job-a")
    table.release_story("story-1", "job-c")
    assert table.changing("story-1") is None
    assert stored(table)["story"] == story()  # the claim is not part of the story


def test_a_redone_asset_waits_beside_the_current_one(table: StoryTable) -> None:
    table.put_story(story())
    table.put_asset(picture("job-story", "old"))

    table.put_asset(picture("job-a", "new", pending=True))

    assert [a.asset_id for a in stored(table)["assets"]] == ["old"]
    assert table.get_asset("story-1", AssetKind.IMAGE, 0).asset_id == "old"
    redone = table.get_asset("story-1", AssetKind.IMAGE, 0, pending_job="job-a")
    assert redone.asset_id == "new" and redone.pending
    assert "CHANGE#job-a#ASSET#image#000" in sort_keys(table)


def test_making_a_change_current_keeps_every_version_in_one_transaction(
    table: StoryTable,
) -> None:
    table.put_story(story())
    table.put_asset(picture("job-story", "old"))
    job = Job(
        job_id="job-a",
        kind=JobKind.REGENERATE_PAGE,
        origin=JobOrigin(story_id="story-1", page=1, picture=True, text=True),
        request=StoryRequest(prompt="An owl and the moon", age_group="3-5", num_illustrations=1),
        story_id="story-1",
        status=JobStatus.PROCESSING,
    )
    table.put_job(job)
    assert table.claim_story("story-1", "job-a")
    change = PageChange(
        job_id="job-a",
        story_id="story-1",
        page=0,
        change="regenerated",
        text="Pip stretched.",
        text_changed=True,
    )
    table.put_change(change, story())
    table.put_asset(picture("job-a", "new", pending=True))
    running = table.get_change("story-1", "job-a")
    assert running is not None and [a.asset_id for a in running[1]] == ["new"]

    changed = story().model_copy(
        update={"pages": ["Pip stretched.", *PAGES[1:]], "page_versions": [2, 1, 1]}
    )
    versions = [
        PageVersionRecord(
            story_id="story-1",
            page=0,
            version=number,
            change=kind,
            job_id=made_by,
            created_at=changed.created_at,
            text=text,
            assets=[picture(made_by, key)],
        )
        for number, kind, made_by, text, key in (
            (1, "written", "job-story", PAGES[0], "old"),
            (2, "regenerated", "job-a", "Pip stretched.", "new"),
        )
    ]
    table.make_current(changed, change, running[1], versions)

    now = stored(table)
    assert now["story"].pages[0] == "Pip stretched." and now["story"].page_version(0) == 2
    assert [(a.asset_id, a.pending) for a in now["assets"]] == [("new", False)]
    assert table.get_job("job-a").status is JobStatus.COMPLETED  # type: ignore[union-attr]
    assert table.changing("story-1") is None
    assert table.get_change("story-1", "job-a") is None
    assert [r.version for r in table.page_versions("story-1", 0)] == [1, 2]
    assert table.page_versions("story-1", 1) == []
    assert sort_keys(table) == ["ASSET#image#000", "PAGE#001#001", "PAGE#001#002", "STORY"]
    # what goes with the story: both pictures' files, the change's books, and its job
    keys = table.version_media_keys("story-1")
    assert {"stories/story-1/old.png", "stories/story-1/new.png"} <= set(keys)
    assert "stories/story-1/job-a/book.epub" in keys
    assert table.page_change_jobs("story-1") == ["job-a"]


def test_a_dropped_change_leaves_the_story_as_it_was(table: StoryTable) -> None:
    table.put_story(story())
    table.put_asset(picture("job-story", "old"))
    before = stored(table)
    assert table.claim_story("story-1", "job-a")
    table.put_change(
        PageChange(
            job_id="job-a",
            story_id="story-1",
            page=0,
            change="edited",
            text="Pip hummed.",
            text_changed=True,
        ),
        story(),
    )
    table.put_asset(picture("job-a", "new", pending=True))

    made = table.discard_change("story-1", "job-a")

    assert made == ["stories/story-1/new.png"]
    assert stored(table) == before
    assert sort_keys(table) == ["ASSET#image#000", "STORY"]
    assert table.changing("story-1") is None
