"""Clips from a provider that writes them into the media bucket itself (Bedrock async invoke):
CheckVideo records them from S3 without their bytes passing through, under the clip's own key,
and StartVideo hands the model the page's own illustration when it is already drawn."""

from __future__ import annotations

import pytest

from kidstory.media_store import MediaStore
from kidstory.models import AssetKind, AssetStatus, Job, JobStatus, StoryRequest
from kidstory.providers.base import MediaSpec, VideoCheck, VideoOperation
from kidstory.providers.errors import ProviderError, ProviderUnavailable
from kidstory.providers.offline import OfflineImageProvider, OfflineVideoProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.repository import StoryTable
from kidstory.workflow import AssembleInput, JobRef, MediaResult, StoryDraft, StorySteps

CLIP = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(4096)


class BucketWritingVideo:
    """Writes its clip into the bucket, as Bedrock does: <output prefix>/<job id>/output.mp4,
    with a manifest beside it."""

    name = "bedrock"
    model = "luma.ray-v2:0"  # a model that starts from a picture

    def __init__(self, media: MediaStore) -> None:
        self.media = media
        self.started: list[MediaSpec] = []
        self.written_key: str | None = None
        self.write = True

    def start_video(self, spec: MediaSpec) -> VideoOperation:
        self.started.append(spec)
        return VideoOperation(operation_id=f"job-{len(self.started)}", poll_after_seconds=0)

    def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
        prefix = self.started[int(operation_id.removeprefix("job-")) - 1].output_prefix
        folder = f"{prefix}/{operation_id}"
        self.written_key = f"{folder}/output.mp4"
        if self.write:
            self.media.put(self.written_key, CLIP, "binary/octet-stream")
            self.media.put(f"{folder}/manifest.json", b"{}", "application/json")
        return VideoCheck(done=True, stored_key=self.written_key)


def steps_with(table: StoryTable, media: MediaStore, video: object) -> StorySteps:
    return StorySteps(
        table,
        media,
        text=OfflineTextProvider,
        image=OfflineImageProvider,
        video=lambda: video,  # type: ignore[arg-type, return-value]
        video_max_checks=3,
    )


def draft_of(table: StoryTable, steps: StorySteps, **options: object) -> StoryDraft:
    request = {"prompt": "A penguin learns to skate", "age_group": "3-5"} | options
    job = Job(request=StoryRequest.model_validate({"num_illustrations": 2} | request))
    table.put_job(job)
    return steps.write_story(JobRef(job_id=job.job_id))


def test_a_clip_the_provider_stored_is_recorded_from_s3_at_its_own_key(
    table: StoryTable, media: MediaStore
) -> None:
    provider = BucketWritingVideo(media)
    steps = steps_with(table, media, provider)
    draft = draft_of(table, steps, generate_images=False, generate_videos=True)
    ref = draft.videos[0]

    poll = steps.check_video(steps.start_video(ref))

    assert poll.done
    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.COMPLETED
    assert asset.s3_key == f"stories/{draft.story_id}/{ref.asset_id}.mp4" == asset.media_key()
    assert (asset.content_type, asset.size_bytes) == ("video/mp4", len(CLIP))
    assert (asset.provider, asset.model) == ("bedrock", "luma.ray-v2:0")
    stored = media.head(asset.s3_key)
    assert stored is not None and stored.content_type == "video/mp4"  # served as a video
    assert media.read(asset.s3_key) == CLIP
    # the model's own folder is gone: nothing of the clip outlives a deleted story
    assert media.keys_under(f"stories/{draft.story_id}/{ref.asset_id}/") == []


def test_a_story_of_stored_clips_completes(table: StoryTable, media: MediaStore) -> None:
    steps = steps_with(table, media, BucketWritingVideo(media))
    draft = draft_of(table, steps, generate_images=False, generate_videos=True)
    results = [
        MediaResult(**steps.check_video(steps.start_video(ref)).model_dump())
        for ref in draft.videos
    ]

    outcome = steps.assemble(
        AssembleInput(job_id=draft.job_id, story_id=draft.story_id, media=[[], results])
    )

    assert (outcome.status, outcome.error) == (JobStatus.COMPLETED, None)


def test_a_check_retried_after_the_clip_was_moved_still_records_it(
    table: StoryTable, media: MediaStore
) -> None:
    provider = BucketWritingVideo(media)
    steps = steps_with(table, media, provider)
    draft = draft_of(table, steps, generate_images=False, generate_videos=True)
    poll = steps.start_video(draft.videos[0])
    # an earlier try copied the clip to its own key and removed the folder, then stopped
    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    media.put(asset.media_key(), CLIP, "video/mp4")
    provider.write = False

    assert steps.check_video(poll).done

    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert (asset.status, asset.size_bytes) == (AssetStatus.COMPLETED, len(CLIP))


def test_a_clip_reported_done_but_not_in_the_bucket_is_checked_again(
    table: StoryTable, media: MediaStore
) -> None:
    provider = BucketWritingVideo(media)
    provider.write = False
    steps = steps_with(table, media, provider)
    draft = draft_of(table, steps, generate_images=False, generate_videos=True)
    poll = steps.start_video(draft.videos[0])

    with pytest.raises(ProviderUnavailable, match="not in the bucket"):
        steps.check_video(poll)

    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.GENERATING  # the state machine retries it


def test_a_clip_written_outside_its_folder_fails_the_clip(
    table: StoryTable, media: MediaStore
) -> None:
    class Astray(BucketWritingVideo):
        def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
            media.put("stories/someone-else/clip.mp4", CLIP, "video/mp4")
            return VideoCheck(done=True, stored_key="stories/someone-else/clip.mp4")

    steps = steps_with(table, media, Astray(media))
    draft = draft_of(table, steps, generate_images=False, generate_videos=True)
    poll = steps.start_video(draft.videos[0])

    with pytest.raises(ProviderError, match="outside its folder"):
        steps.check_video(poll)

    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.FAILED
    assert media.read("stories/someone-else/clip.mp4") == CLIP  # not touched


def test_a_clip_starts_from_its_pages_illustration_once_it_is_drawn(
    table: StoryTable, media: MediaStore
) -> None:
    provider = BucketWritingVideo(media)
    steps = steps_with(table, media, provider)
    draft = draft_of(table, steps, generate_images=True, generate_videos=True)
    steps.generate_image(draft.images[0])  # page 1's picture is ready, page 2's is not

    steps.start_video(draft.videos[0])
    steps.start_video(draft.videos[1])

    first, second = provider.started
    picture = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert first.start_image is not None
    assert first.start_image.content == media.read(picture.s3_key or "")
    assert first.start_image.content_type == "image/png"
    assert second.start_image is None  # started before its picture: from the prompt alone
    assert first.output_prefix == f"stories/{draft.story_id}/{draft.videos[0].asset_id}"


def test_a_model_that_cannot_start_from_a_picture_is_not_given_one(
    table: StoryTable, media: MediaStore
) -> None:
    seen: list[MediaSpec] = []

    class Offline(OfflineVideoProvider):
        def start_video(self, spec: MediaSpec) -> VideoOperation:
            seen.append(spec)
            return super().start_video(spec)

    steps = steps_with(table, media, Offline())
    draft = draft_of(table, steps, generate_images=True, generate_videos=True)
    steps.generate_image(draft.images[0])

    steps.start_video(draft.videos[0])

    assert seen[0].start_image is None
