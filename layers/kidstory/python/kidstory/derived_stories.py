"""Stories made from a completed story of the caller's: a sequel (a new story with the same
hero and art style) and a version (the same story in another language and/or for other ages,
with its pictures and clips). Each is a job like generate's: checked, charged and started by
the story library."""

from __future__ import annotations

from typing import Any

from kidstory.access import Caller
from kidstory.errors import ConflictError, FieldRefused
from kidstory.library import NotFound, PromptRefused, StoryLibrary, Submitted
from kidstory.models import (
    Job,
    JobKind,
    JobOrigin,
    JobStatus,
    SequelRequest,
    Story,
    StoryRequest,
    VersionRequest,
    could_be_id,
)
from kidstory.store.story_table import StoryTable

# What a sequel or a version takes from its parent's request when it does not say: everything
# that shapes the story. webhook_url and max_cost_usd are the new request's own.
INHERITED = (
    "age_group",
    "num_illustrations",
    "generate_images",
    "generate_videos",
    "narration",
    "voice",
    "language",
)


class StoryNotReady(ConflictError):
    """The story is still being made: sequels and versions are made of completed stories."""


class VersionUnchanged(FieldRefused):
    """A version must differ from its story in language, in age group, or in both."""

    issue_type = "version_unchanged"
    field = "language"


class DerivedStories:
    """POST /stories/{id}/sequel and /stories/{id}/versions."""

    def __init__(self, library: StoryLibrary, table: StoryTable) -> None:
        self._library = library
        self._table = table

    def sequel(
        self,
        story_id: str,
        asked: SequelRequest,
        caller: Caller,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """A job for the next story of the series: the parent's request where the sequel's
        leaves a field unset, its own prompt (moderated like an idea)."""
        parent = self._completed_story(story_id, caller)
        given = asked.model_dump(exclude_unset=True, exclude_none=True)
        request = StoryRequest.model_validate(
            self._parent_request(parent)
            | {field: given[field] for field in INHERITED if field in given}
            | {
                "prompt": asked.prompt,
                "webhook_url": asked.webhook_url,
                "max_cost_usd": asked.max_cost_usd,
            }
        )
        self._library.check_cost_cap(request)
        self._library.check_text(request.prompt, PromptRefused, "idea")
        self._library.check_webhook(request)
        job = Job(
            kind=JobKind.SEQUEL,
            origin=JobOrigin(story_id=parent.id),
            request=request,
            owner=caller.owner,
        )
        return self._library.start_job(job, caller, idempotency_key)

    def version(
        self,
        story_id: str,
        asked: VersionRequest,
        caller: Caller,
        idempotency_key: str | None = None,
    ) -> Submitted:
        """A job for the story in another language and/or for other ages, made from its
        text and its pictures and clips (charged the story and narration only)."""
        parent = self._completed_story(story_id, caller)
        language = asked.language or parent.language
        age_group = asked.age_group or parent.age_group
        if language == parent.language and age_group is parent.age_group:
            raise VersionUnchanged(
                f"The story is already in {parent.language} for ages {parent.age_group.value}: "
                "ask for another language, another age group, or both."
            )
        narration = parent.narrated if asked.narration is None else asked.narration
        # the parent's voice reads the parent's language; another language gets its own
        voice = asked.voice or (parent.voice if language == parent.language else None)
        request = StoryRequest.model_validate(
            self._parent_request(parent)
            | {
                "age_group": age_group,
                "language": language,
                "narration": narration,
                "voice": voice,
                "webhook_url": asked.webhook_url,
                "max_cost_usd": asked.max_cost_usd,
            }
        )
        # its pictures and clips are copied, not made: the estimate is the text and narration
        self._library.check_cost_cap(
            request.model_copy(update={"generate_images": False, "generate_videos": False})
        )
        self._library.check_webhook(request)
        job = Job(
            kind=JobKind.VERSION,
            origin=JobOrigin(story_id=parent.id),
            request=request,
            owner=caller.owner,
        )
        return self._library.start_job(job, caller, idempotency_key)

    def _completed_story(self, story_or_job_id: str, caller: Caller) -> Story:
        """A completed story of the caller's, by its id or its job's: another caller's, a
        failed or an unknown one is not found (404); one still being made is not ready (409)."""
        if not could_be_id(story_or_job_id):
            raise NotFound(f"Story {story_or_job_id} not found")
        story = self._table.get_story_item(story_or_job_id)
        job = None
        if story is None:
            job = self._table.get_job(story_or_job_id)
            story = self._table.get_story_item(job.story_id) if job and job.story_id else None
        if story is None and job is not None and job.owner == caller.owner:
            status = job.status  # asked by the id of a job whose story is not written yet
        elif story is not None and story.owner == caller.owner:
            status = story.status
        else:
            raise NotFound(f"Story {story_or_job_id} not found")
        if status is JobStatus.FAILED:
            raise NotFound(f"Story {story_or_job_id} not found")
        if story is None or status is not JobStatus.COMPLETED:
            raise StoryNotReady(
                f"Story {story_or_job_id} is still being made; ask again once it is completed"
            )
        return story

    def _parent_request(self, parent: Story) -> dict[str, Any]:
        """The request that made the parent (its job's), or, if its job is gone, the same
        read from the story."""
        job = self._table.get_job(parent.job_id)
        if job is not None:
            return job.request.model_dump(include={"prompt", *INHERITED})
        return {
            "prompt": parent.prompt,
            "age_group": parent.age_group,
            "num_illustrations": max(parent.num_images, parent.num_videos, 1),
            "generate_images": parent.num_images > 0,
            "generate_videos": parent.num_videos > 0,
            "narration": parent.narrated,
            "voice": parent.voice,
            "language": parent.language,
        }
