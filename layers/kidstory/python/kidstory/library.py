"""What clients can ask of the service: submit a story request, follow its job, read stories."""

from __future__ import annotations

from typing import Protocol

from kidstory.contract import (
    OFFLINE_NOTICE,
    ImageOut,
    JobStatusResponse,
    StoryListResponse,
    StoryResponse,
    StorySummary,
    VideoOut,
)
from kidstory.models import Asset, AssetKind, AssetStatus, Job, JobStatus, StoryRequest
from kidstory.repository import StoryTable


class Starter(Protocol):
    def start(self, job_id: str) -> str: ...


class NotFound(LookupError):
    """No such job or story (or not one the caller may see)."""


class WorkflowUnavailable(RuntimeError):
    """The workflow could not be started; the job was marked failed."""


class StoryLibrary:
    def __init__(self, table: StoryTable, starter: Starter) -> None:
        self._table = table
        self._starter = starter

    def submit(self, request: StoryRequest) -> Job:
        job = Job(request=request)
        self._table.put_job(job)
        try:
            self._starter.start(job.job_id)
        except Exception as error:
            reason = f"The story workflow could not be started: {type(error).__name__}"
            self._table.update_job(job.job_id, JobStatus.FAILED, error=reason)
            raise WorkflowUnavailable(reason) from error
        return job

    def job_status(self, job_id: str) -> JobStatusResponse:
        job = self._table.get_job(job_id)
        if job is None:
            raise NotFound(f"Job {job_id} not found")
        return JobStatusResponse(
            job_id=job.job_id,
            status=job.status,
            story_id=job.story_id if job.status is JobStatus.COMPLETED else None,
            error=job.error,
            created_at=job.created_at,
            updated_at=job.updated_at,
        )

    def story(self, story_or_job_id: str, media_url: MediaUrls) -> StoryResponse:
        """A completed story, by its id or by the id of the job that made it."""
        found = self._table.get_story(story_or_job_id)
        if found is None:
            job = self._table.get_job(story_or_job_id)
            if job is not None and job.story_id:
                found = self._table.get_story(job.story_id)
        if found is None or found[0].status is not JobStatus.COMPLETED:
            raise NotFound(f"Story {story_or_job_id} not found")
        story, assets = found
        done = sorted(
            (a for a in assets if a.status is AssetStatus.COMPLETED and a.s3_key),
            key=lambda a: a.display_order,
        )
        return StoryResponse(
            id=story.id,
            title=story.title,
            content=story.content,
            age_group=story.age_group,
            prompt=story.prompt,
            created_at=story.created_at,
            images=[_image_out(a, media_url) for a in done if a.kind is AssetKind.IMAGE],
            videos=[_video_out(a, media_url) for a in done if a.kind is AssetKind.VIDEO],
            job_id=story.job_id,
            pages=story.pages,
            character=story.character,
            offline=story.offline,
            notice=OFFLINE_NOTICE if story.offline else None,
        )

    def list_stories(self, *, limit: int, offset: int) -> StoryListResponse:
        stories, total = self._table.list_stories(limit=limit, offset=offset)
        return StoryListResponse(
            stories=[
                StorySummary(
                    id=story.id,
                    title=story.title,
                    age_group=story.age_group,
                    prompt=story.prompt,
                    created_at=story.created_at,
                    num_images=story.num_images,
                )
                for story in stories
            ],
            total=total,
        )


class MediaUrls(Protocol):
    def __call__(self, asset: Asset) -> str: ...


def _image_out(asset: Asset, media_url: MediaUrls) -> ImageOut:
    return ImageOut(
        id=asset.asset_id,
        image_url=media_url(asset),
        prompt_used=asset.prompt_used,
        scene_description=asset.scene_description,
        display_order=asset.display_order,
    )


def _video_out(asset: Asset, media_url: MediaUrls) -> VideoOut:
    return VideoOut(
        id=asset.asset_id,
        video_url=media_url(asset),
        prompt_used=asset.prompt_used,
        scene_description=asset.scene_description,
        display_order=asset.display_order,
    )
