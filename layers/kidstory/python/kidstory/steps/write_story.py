"""WriteStory: run the story graph for a job, store the story and one record per illustration
and clip it will have."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

from kidstory import observability, usage
from kidstory.ledger import Ledger, metering, provider_call
from kidstory.media_store import MediaStore
from kidstory.models import (
    Asset,
    AssetKind,
    Job,
    JobKind,
    JobStatus,
    ScenePrompt,
    Stage,
    Story,
    StoryText,
)
from kidstory.providers.base import Medium, PageBrief, StoryBrief, TextProvider, VersionBrief
from kidstory.providers.errors import ProviderThrottled
from kidstory.safety import OfflineModerator, TextModerator
from kidstory.steps.page_changes import PageChanges
from kidstory.steps.payloads import AssetRef, JobRef, StoryDraft, require_job
from kidstory.steps.sequels import Sequel, parent_story
from kidstory.steps.throttling import wait_out
from kidstory.store.jobs import Jobs
from kidstory.store.stories import Stories

_IDS = uuid.UUID("5f0c6f1e-5b1a-4c55-9d43-7d1c2a7c0b11")


def story_id_for(job_id: str) -> str:
    """Stable, so a retried WriteStory rewrites the same story instead of making another."""
    return str(uuid.uuid5(_IDS, f"story:{job_id}"))


def asset_id_for(story_id: str, kind: AssetKind, display_order: int) -> str:
    return str(uuid.uuid5(_IDS, f"{story_id}:{kind.value}:{display_order}"))


class TimedWriter:
    """A story writer whose every call (a draft, a plan of scenes) is timed as ProviderLatency
    of kind text, and metered in the job's ledger; the story graph calls it several times per
    story. A draft with revision notes is a revision (a redo a cost cap may refuse)."""

    def __init__(self, writer: TextProvider) -> None:
        self._writer = writer
        self.name, self.model = writer.name, writer.model

    def write_story(self, brief: StoryBrief) -> StoryText:
        revising = usage.redo("revision") if brief.revision_notes else nullcontext()
        with revising, provider_call("text", self.name, self.model):
            return self._writer.write_story(brief)

    def plan_scenes(
        self, brief: StoryBrief, story: StoryText, medium: Medium, count: int
    ) -> list[ScenePrompt]:
        with provider_call("text", self.name, self.model):
            return self._writer.plan_scenes(brief, story, medium, count)

    def write_version(self, brief: VersionBrief) -> StoryText:
        revising = usage.redo("revision") if brief.revision_notes else nullcontext()
        with revising, provider_call("text", self.name, self.model):
            return self._writer.write_version(brief)

    def rewrite_page(self, brief: PageBrief) -> str:
        revising = usage.redo("revision") if brief.revision_notes else nullcontext()
        with revising, provider_call("text", self.name, self.model):
            return self._writer.rewrite_page(brief)


class StoryWriting:
    """The WriteStory step. The text provider and the story graph are made on first use (the
    graph loads LangGraph)."""

    def __init__(
        self,
        jobs: Jobs,
        stories: Stories,
        *,
        text: Callable[[], TextProvider],
        story_graph: Callable[[TextProvider], Any] | None = None,
        moderator: Callable[[], TextModerator] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
        media: MediaStore | None = None,
        page_changes: Callable[[], PageChanges] | None = None,
    ) -> None:
        self._ledger = ledger
        self._media = media  # a version copies its parent's pictures and clips
        self._page_changes = page_changes
        self._jobs = jobs
        self._stories = stories
        self._text = text
        self._story_graph = story_graph
        self._moderator = moderator
        self._graph: Any = None
        self._writer: TextProvider | None = None
        self._sleep = sleep

    def write_story(self, ref: JobRef) -> StoryDraft:
        from kidstory.story_graph import build_story_graph, run_story_graph

        job = require_job(self._jobs, ref.job_id)
        if job.kind.changes_page and self._page_changes is not None:
            return self._change_page(job)
        if job.kind is JobKind.VERSION:
            return self._write_version(job)
        sequel = Sequel(parent_story(job, self._stories)) if job.kind is JobKind.SEQUEL else None
        if self._writer is None:
            self._writer = self._text()
            timed = TimedWriter(self._writer)
            if self._story_graph is not None:
                self._graph = self._story_graph(timed)
            else:  # the reviewer checks the title and every page with the stage's moderation
                moderator = self._moderator() if self._moderator else None
                self._graph = build_story_graph(timed, moderator)
        request = job.request
        image_count = request.num_illustrations if request.generate_images else 0
        video_count = request.num_illustrations if request.generate_videos else 0
        brief = StoryBrief(
            prompt=request.prompt,
            age_group=request.age_group,
            min_pages=max(image_count, video_count),
            scenes=max(image_count, video_count),
            language=request.language,
        )
        if sequel is not None:
            brief = sequel.brief(brief)
        started = time.monotonic()
        try:
            with metering(self._ledger, job.job_id, "write_story"):
                state = run_story_graph(
                    self._graph, brief, image_count=image_count, video_count=video_count
                )
        except ProviderThrottled as throttled:
            wait_out(throttled, self._sleep)
            raise
        observability.seconds("StoryWritingTime", time.monotonic() - started)
        text = state["story"]
        story = Story(
            id=story_id_for(job.job_id),
            job_id=job.job_id,
            title=text.title,
            content=text.content,
            pages=text.pages,
            character=text.character,
            art_style=text.art_style,
            age_group=request.age_group,
            prompt=request.prompt,
            owner=job.owner,
            offline=self._writer.name == "offline",
            num_images=image_count,
            num_videos=video_count,
            narrated=request.narration,
            voice=request.voice,
            readability=state.get("readability"),
            language=request.language,
        )
        if sequel is not None:
            story = sequel.story(story)
        self._stories.put_story(story)
        images = self._new_assets(story, AssetKind.IMAGE, state.get("image_scenes", []))
        videos = self._new_assets(story, AssetKind.VIDEO, state.get("video_scenes", []))
        narration = self._page_readings(story) if request.narration else []
        self._stories.put_assets(images + videos + narration)
        self._jobs.update_job(job.job_id, JobStatus.PROCESSING, story_id=story.id)
        self._jobs.set_stage(
            job.job_id,
            Stage.ILLUSTRATING,
            images_total=len(images),
            videos_total=len(videos),
            narration_total=len(narration),
        )
        return StoryDraft(
            job_id=job.job_id,
            story_id=story.id,
            images=[AssetRef.of(asset) for asset in images],
            videos=[AssetRef.of(asset) for asset in videos],
            narration=[AssetRef.of(asset) for asset in narration],
        )

    def _write_version(self, job: Job) -> StoryDraft:
        """A version (kidstory.steps.versions): the parent's text told again and reviewed, its
        pictures and clips copied (nothing for the picture and clip steps to make), its pages
        read aloud again when narrated."""
        from kidstory.steps.versions import Versions

        if self._media is None:
            raise RuntimeError("WriteStory needs the media store to make a version")
        moderator = self._moderator() if self._moderator else OfflineModerator()
        writer = self._text()
        versions = Versions(self._stories, self._media, TimedWriter(writer), moderator)
        parent = parent_story(job, self._stories)
        originals = versions.parent_media(parent)
        try:
            with metering(self._ledger, job.job_id, "write_story"):
                text, readability = versions.retell(job, parent)
        except ProviderThrottled as throttled:  # as a story's writer: wait, then let it retry
            wait_out(throttled, self._sleep)
            raise
        request = job.request
        story = Story(
            id=story_id_for(job.job_id),
            job_id=job.job_id,
            title=text.title,
            content=text.content,
            pages=text.pages,
            character=parent.character,
            art_style=parent.art_style,
            age_group=request.age_group,
            prompt=parent.prompt,
            owner=job.owner,
            offline=writer.name == "offline",
            num_images=parent.num_images,
            num_videos=parent.num_videos,
            narrated=request.narration,
            voice=request.voice,
            language=request.language,
            readability=readability,
            parent_id=parent.id,
        )
        self._stories.put_story(story)
        narration = self._page_readings(story) if request.narration else []
        self._stories.put_assets(narration)
        self._jobs.update_job(job.job_id, JobStatus.PROCESSING, story_id=story.id)
        copies = versions.copy_media(originals, story, asset_id_for)
        self._jobs.set_stage(
            job.job_id,
            Stage.ILLUSTRATING,
            images_total=sum(copy.kind is AssetKind.IMAGE for copy in copies),
            videos_total=sum(copy.kind is AssetKind.VIDEO for copy in copies),
            narration_total=len(narration),
        )
        return StoryDraft(
            job_id=job.job_id,
            story_id=story.id,
            images=[],
            videos=[],
            narration=[AssetRef.of(asset) for asset in narration],
        )

    def _change_page(self, job: Job) -> StoryDraft:
        """A page change: its new text and the assets it redoes (kidstory.steps.page_changes)."""
        assert self._page_changes is not None
        if self._writer is None:
            self._writer = self._text()
        try:
            with metering(self._ledger, job.job_id, "write_story"):
                return self._page_changes().prepare(job, TimedWriter(self._writer))
        except ProviderThrottled as throttled:
            wait_out(throttled, self._sleep)
            raise

    def _page_readings(self, story: Story) -> list[Asset]:
        """One narration per page: its text is what the page says."""
        readings = [
            ScenePrompt(scene_description=f"Page {number} read aloud", prompt=page)
            for number, page in enumerate(story.pages, start=1)
        ]
        return self._new_assets(story, AssetKind.AUDIO, readings)

    def _new_assets(self, story: Story, kind: AssetKind, scenes: list[ScenePrompt]) -> list[Asset]:
        return [
            Asset(
                asset_id=asset_id_for(story.id, kind, order),
                story_id=story.id,
                job_id=story.job_id,
                kind=kind,
                display_order=order,
                prompt_used=scene.prompt,
                scene_description=scene.scene_description,
            )
            for order, scene in enumerate(scenes)
        ]
