"""WriteStory: run the story graph for a job, store the story and one record per illustration
and clip it will have."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from kidstory import observability
from kidstory.models import Asset, AssetKind, Job, JobStatus, ScenePrompt, Stage, Story, StoryText
from kidstory.providers.base import Medium, PageBrief, StoryBrief, TextProvider
from kidstory.providers.errors import ProviderThrottled
from kidstory.safety import TextModerator
from kidstory.steps.page_changes import PageChanges
from kidstory.steps.payloads import AssetRef, JobRef, StoryDraft, require_job
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
    of kind text; the story graph calls it several times per story."""

    def __init__(self, writer: TextProvider) -> None:
        self._writer = writer
        self.name, self.model = writer.name, writer.model

    def write_story(self, brief: StoryBrief) -> StoryText:
        with observability.provider_call("text"):
            return self._writer.write_story(brief)

    def plan_scenes(
        self, brief: StoryBrief, story: StoryText, medium: Medium, count: int
    ) -> list[ScenePrompt]:
        with observability.provider_call("text"):
            return self._writer.plan_scenes(brief, story, medium, count)

    def rewrite_page(self, brief: PageBrief) -> str:
        with observability.provider_call("text"):
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
        page_changes: Callable[[], PageChanges] | None = None,
    ) -> None:
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
        )
        started = time.monotonic()
        try:
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
        )
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
            images=[self._ref(asset) for asset in images],
            videos=[self._ref(asset) for asset in videos],
            narration=[self._ref(asset) for asset in narration],
        )

    def _change_page(self, job: Job) -> StoryDraft:
        """A page change: its new text and the assets it redoes (kidstory.steps.page_changes)."""
        assert self._page_changes is not None
        if self._writer is None:
            self._writer = self._text()
        try:
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

    @staticmethod
    def _ref(asset: Asset) -> AssetRef:
        return AssetRef(
            job_id=asset.job_id,
            story_id=asset.story_id,
            asset_id=asset.asset_id,
            kind=asset.kind,
            display_order=asset.display_order,
        )
