"""A page change is charged for what it redoes only: a picture, a text, a page read again."""

from __future__ import annotations

from kidstory.access import job_cost
from kidstory.models import Job, JobKind, JobOrigin, StoryRequest


def page_job(kind: JobKind, *, narrated: bool = False, **origin: object) -> Job:
    request = StoryRequest(
        prompt="A koala and the moon", age_group="3-5", num_illustrations=3, narration=narrated
    )
    return Job(
        kind=kind,
        origin=JobOrigin(story_id="story-1", page=2, **origin),  # type: ignore[arg-type]
        request=request,
    )


def test_a_regeneration_costs_its_picture_and_its_text_not_the_story() -> None:
    regenerate = JobKind.REGENERATE_PAGE
    assert job_cost(page_job(regenerate, picture=True)) == 1
    assert job_cost(page_job(regenerate, text=True)) == 1
    assert job_cost(page_job(regenerate, picture=True, text=True)) == 2
    # a new text of a narrated story is read aloud again: one unit more
    assert job_cost(page_job(regenerate, narrated=True, picture=True, text=True)) == 3
    assert job_cost(page_job(regenerate, narrated=True, picture=True)) == 1


def test_an_edit_costs_only_the_page_read_again() -> None:
    assert job_cost(page_job(JobKind.EDIT_PAGE, new_text="A new page.")) == 0
    assert job_cost(page_job(JobKind.EDIT_PAGE, narrated=True, new_text="A new page.")) == 1
