"""A sequel's part of WriteStory: the story before it (its parent), whose hero and art style
the sequel keeps word for word, a short account of what happened in it for the writer, and
the series both belong to."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from kidstory.models import Job, Story, picture_page
from kidstory.providers.base import StoryBrief
from kidstory.store.stories import Stories

SUMMARY_PAGES = 5  # pages whose first sentence tells the story so far
SUMMARY_CHARACTERS = 1200


class ParentStoryGone(Exception):
    """The story a sequel or a version was asked of was deleted before its job ran."""


def parent_story(job: Job, stories: Stories) -> Story:
    """The story a derived job starts from (ParentStoryGone when it no longer exists)."""
    if job.origin is None:
        raise ValueError(f"job {job.job_id} ({job.kind.value}) has no story to start from")
    parent = stories.get_story_item(job.origin.story_id)
    if parent is None:
        raise ParentStoryGone(
            f"The story {job.origin.story_id} was deleted before its {job.kind.value} was made"
        )
    return parent


def story_so_far(parent: Story) -> str:
    """What happened before, told without a model (so the same story always gives the same
    account): the title, then the first sentence of up to SUMMARY_PAGES pages spread from the
    first page to the last."""
    pages = parent.pages
    count = min(SUMMARY_PAGES, len(pages))
    chosen = sorted({picture_page(index, count, len(pages)) for index in range(count)})
    firsts = [re.split(r"(?<=[.!?])\s", pages[index].strip(), maxsplit=1)[0] for index in chosen]
    account = f'In "{parent.title}": ' + " ... ".join(firsts)
    if len(account) > SUMMARY_CHARACTERS:
        account = account[: SUMMARY_CHARACTERS - 1] + "…"
    return account


@dataclass(frozen=True)
class Sequel:
    """The parent a sequel continues."""

    parent: Story

    def brief(self, brief: StoryBrief) -> StoryBrief:
        """The writer's brief, with the parent's hero, art style and story so far."""
        return replace(
            brief,
            character=self.parent.character,
            art_style=self.parent.art_style,
            previously=story_so_far(self.parent),
        )

    def story(self, story: Story) -> Story:
        """The sequel as stored: the parent's character sheet and art style exactly, in the
        parent's series (the first story's id: the parent's series, or the parent itself)."""
        return story.model_copy(
            update={
                "character": self.parent.character,
                "art_style": self.parent.art_style,
                "series_id": self.parent.series_id or self.parent.id,
                "parent_id": self.parent.id,
            }
        )
