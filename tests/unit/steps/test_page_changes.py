"""A regenerated page's text is checked as the story's own pages are: an unsafe try is sent
back with the reason and, still unsafe, fails the change with the story untouched; a try that
takes a story out of its age band is sent back, a bounded number of times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kidstory.models import (
    AgeGroup,
    Character,
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    Story,
    StoryRequest,
)
from kidstory.providers.base import PageBrief
from kidstory.providers.errors import ContentRefused
from kidstory.readability import measure
from kidstory.steps.page_changes import PageChanges
from kidstory.store.story_table import StoryTable

PAGES = [  # reads in the 3-5 band (grade 1.4)
    "Pip the owl woke up in her tree at night.",
    "Pip looked at the moon over the forest.",
    "Pip hooted, then went back to sleep again.",
]
SAFE = "Pip hooted at the bright moon above the trees."
HARD = (
    "Notwithstanding considerable meteorological uncertainty, Pip contemplated "
    "extraordinarily luminous celestial phenomena, deliberating philosophically about "
    "astronomical circumstances and unprecedented nocturnal illumination."
)


class Writer:
    """Gives the pages it is handed, in turn, and keeps every brief."""

    name, model = "scripted", "scripted-1"

    def __init__(self, *pages: str) -> None:
        self.pages = list(pages)
        self.briefs: list[PageBrief] = []

    def rewrite_page(self, brief: PageBrief) -> str:
        self.briefs.append(brief)
        return self.pages.pop(0)


@pytest.fixture
def job(table: StoryTable) -> Job:
    story = Story(
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
        readability=measure("\n\n".join(PAGES), AgeGroup.PRESCHOOL),
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    table.put_story(story)
    change = Job(
        job_id="job-a",
        kind=JobKind.REGENERATE_PAGE,
        origin=JobOrigin(story_id="story-1", page=2, picture=False, text=True),
        request=StoryRequest(prompt="An owl and the moon", age_group="3-5", num_illustrations=1),
        story_id="story-1",
    )
    table.put_job(change)
    return change


def test_an_unsafe_page_is_sent_back_with_the_reason(table: StoryTable, job: Job) -> None:
    writer = Writer("Pip found a gun in the tree.", SAFE)

    draft = PageChanges(table, table).prepare(job, writer)

    assert draft.images == [] and draft.narration == []
    assert "violence" in (writer.briefs[1].revision_notes or "")
    running = table.get_change("story-1", "job-a")
    assert running is not None and running[0].text == SAFE
    assert running[0].readability is not None and running[0].readability.fits_age_group


def test_a_page_that_stays_unsafe_fails_the_change(table: StoryTable, job: Job) -> None:
    writer = Writer(*["Pip found a gun in the tree."] * 3)

    with pytest.raises(ContentRefused, match="the story is unchanged"):
        PageChanges(table, table, max_revisions=2).prepare(job, writer)

    assert len(writer.briefs) == 3
    assert table.get_change("story-1", "job-a") is None
    assert table.get_story_item("story-1").pages == PAGES  # type: ignore[union-attr]


def test_a_page_too_hard_for_its_readers_is_sent_back_a_bounded_number_of_times(
    table: StoryTable, job: Job
) -> None:
    fitting = PageChanges(table, table, max_revisions=2).prepare(job, Writer(HARD, SAFE))
    assert fitting.story_id == "story-1"
    running = table.get_change("story-1", "job-a")
    assert running is not None and running[0].text == SAFE

    writer = Writer(HARD, HARD, HARD)
    PageChanges(table, table, max_revisions=2).prepare(job, writer)
    assert [b.attempt for b in writer.briefs] == [1, 2, 3]
    assert "too hard" in (writer.briefs[1].revision_notes or "")
    kept = table.get_change("story-1", "job-a")
    assert kept is not None and kept[0].text == HARD  # the last safe try, measured as it is
    assert kept[0].readability is not None and not kept[0].readability.fits_age_group
