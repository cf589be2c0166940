"""Clips from a provider that writes them into the media bucket itself (Bedrock async invoke):
CheckVideo records them from S3 without their bytes passing through, under the clip's own key,
and StartVideo hands the model the page's own illustration when it is already drawn. With a
moderation provider, frames of such a clip are shown to it before the clip is recorded."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import imageio_ffmpeg
import pytest
from PIL import Image

from kidstory.clip_frames import FRAME_POSITIONS, ClipUnreadable, clip_frames
from kidstory.media_store import MediaStore
from kidstory.models import AssetKind, AssetStatus, Job, JobStatus, StoryRequest
from kidstory.providers.base import MediaSpec, VideoCheck, VideoOperation
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderUnavailable,
)
from kidstory.providers.offline import OfflineImageProvider, OfflineVideoProvider
from kidstory.providers.offline_media import draw_illustration, render_video
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.safety import (
    ALLOWED,
    LayeredPictureModerator,
    OfflineModerator,
    PictureModerator,
    Verdict,
    content_checks,
)
from kidstory.steps.payloads import (
    AssembleInput,
    CaughtError,
    JobRef,
    MediaResult,
    StoryDraft,
    VideoPoll,
)
from kidstory.store.story_table import StoryTable
from tests.unit.steps.story_workflow import EveryStep

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
        self.clip = CLIP

    def start_video(self, spec: MediaSpec) -> VideoOperation:
        self.started.append(spec)
        return VideoOperation(operation_id=f"job-{len(self.started)}", poll_after_seconds=0)

    def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
        prefix = self.started[int(operation_id.removeprefix("job-")) - 1].output_prefix
        folder = f"{prefix}/{operation_id}"
        self.written_key = f"{folder}/output.mp4"
        if self.write:
            self.media.put(self.written_key, self.clip, "binary/octet-stream")
            self.media.put(f"{folder}/manifest.json", b"{}", "application/json")
        return VideoCheck(done=True, stored_key=self.written_key)


def steps_with(
    table: StoryTable,
    media: MediaStore,
    video: object,
    pictures: PictureModerator | None = None,
) -> EveryStep:
    return EveryStep(
        table,
        media,
        text=OfflineTextProvider,
        image=OfflineImageProvider,
        video=lambda: video,  # type: ignore[arg-type, return-value]
        pictures=(lambda: pictures) if pictures is not None else None,
        video_max_checks=3,
    )


def draft_of(table: StoryTable, steps: EveryStep, **options: object) -> StoryDraft:
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


# Frames of a provider-made clip are shown to the stage's moderation before it is recorded


@cache
def real_clip() -> bytes:
    """A real MP4 (the offline animator's: H.264 or MPEG-4), 2 s long."""
    return render_video(draw_illustration("A fox by the sea", palette_seed="Fox"), seconds=2)


@cache
def black_clip() -> bytes:
    """2 s of plain black: a fade to black, say, which is no reason to refuse a clip."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "black.mp4"
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error"]
        command += ["-f", "lavfi", "-i", "color=c=black:s=256x256:d=2:r=12"]
        command += ["-c:v", "mpeg4", "-y", str(path)]
        subprocess.run(command, capture_output=True, check=True, timeout=60)
        return path.read_bytes()


class Frames:
    """A provider picture moderator with one scripted verdict or error; keeps what it saw."""

    name = "frames"

    def __init__(self, verdict: Verdict = ALLOWED, error: Exception | None = None) -> None:
        self.verdict, self.error = verdict, error
        self.seen: list[tuple[bytes, str]] = []

    def check_picture(self, content: bytes, content_type: str) -> Verdict:
        self.seen.append((content, content_type))
        if self.error is not None:
            raise self.error
        return self.verdict


def moderated(frames: Frames) -> LayeredPictureModerator:
    """The stage's picture moderator, as kidstory.providers.picture_moderator makes it."""
    return LayeredPictureModerator(OfflineModerator(), frames)


def started_clip(
    table: StoryTable, media: MediaStore, frames: Frames | None, clip: bytes
) -> tuple[EveryStep, StoryDraft, VideoPoll, BucketWritingVideo]:
    provider = BucketWritingVideo(media)
    provider.clip = clip
    steps = steps_with(table, media, provider, moderated(frames) if frames else None)
    draft = draft_of(table, steps, generate_images=False, generate_videos=True)
    return steps, draft, steps.start_video(draft.videos[0]), provider


def test_frames_of_a_real_clip_are_png_pictures_at_a_quarter_a_half_and_three_quarters(
    tmp_path: Path,
) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(real_clip())

    frames = clip_frames(path)

    assert [frame.seconds for frame in frames] == [2 * at for at in FRAME_POSITIONS]
    assert len(frames) == 3
    for frame in frames:
        with Image.open(io.BytesIO(frame.png)) as picture:
            assert picture.format == "PNG" and min(picture.size) >= 64
    (tmp_path / "junk.mp4").write_bytes(CLIP)
    with pytest.raises(ClipUnreadable, match="no length"):
        clip_frames(tmp_path / "junk.mp4")


def test_a_clip_the_moderation_passes_is_recorded_after_each_frame_was_shown_to_it(
    table: StoryTable, media: MediaStore
) -> None:
    frames = Frames()
    steps, draft, poll, _ = started_clip(table, media, frames, real_clip())

    assert steps.check_video(poll).done

    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.COMPLETED and media.read(asset.s3_key or "") == real_clip()
    assert len(frames.seen) == len(FRAME_POSITIONS)
    assert {kind for _, kind in frames.seen} == {"image/png"}
    assert all(content.startswith(b"\x89PNG") for content, _ in frames.seen)


def test_a_dark_frame_is_shown_to_the_provider_not_refused_as_a_blank_picture(
    table: StoryTable, media: MediaStore
) -> None:
    frames = Frames()
    steps, draft, poll, _ = started_clip(table, media, frames, black_clip())

    assert steps.check_video(poll).done

    assert len(frames.seen) == 3  # the structural check (blank: < 8 colours) is not applied
    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.COMPLETED


def test_a_clip_the_moderation_refuses_fails_closed_with_the_reason_and_is_not_kept(
    table: StoryTable, media: MediaStore
) -> None:
    reason = "The picture shows violence, which we do not put in children's stories."
    frames = Frames(Verdict(False, "violence", reason))
    steps, draft, poll, _ = started_clip(table, media, frames, real_clip())

    with pytest.raises(ContentRefused) as refused:
        steps.check_video(poll)

    message = f"the clip failed its check: its frame at 0.5 s was refused: {reason}"
    assert str(refused.value) == message
    assert len(frames.seen) == 1  # the first refusal wins
    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.FAILED and asset.s3_key is None
    assert asset.error == f"ContentRefused: {message}"
    # neither at the clip's own key nor in the model's folder
    assert media.keys_under(f"stories/{draft.story_id}/") == []
    # ContentRefused is not retried: the Map's Catch hands it to Assemble, which fails the job
    cause = json.dumps({"errorType": "ContentRefused", "errorMessage": message})
    caught = MediaResult(
        **draft.videos[0].model_dump(), failure=CaughtError(Error="ContentRefused", Cause=cause)
    )
    outcome = steps.assemble(
        AssembleInput(job_id=draft.job_id, story_id=draft.story_id, media=[[], [caught]])
    )
    assert outcome.status is JobStatus.FAILED
    assert outcome.error is not None and f"video 1: ContentRefused: {message}" in outcome.error


@pytest.mark.parametrize(
    "outage",
    [ProviderUnavailable("Bedrock ServiceUnavailableException"), ProviderThrottled("slow down")],
)
def test_a_moderation_outage_is_retried_and_the_clip_checked_again(
    table: StoryTable, media: MediaStore, outage: ProviderError
) -> None:
    frames = Frames(error=outage)
    steps, draft, poll, provider = started_clip(table, media, frames, real_clip())

    with pytest.raises(type(outage)):
        steps.check_video(poll)

    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.GENERATING  # the state machine retries CheckVideo
    assert asset.s3_key is None and not media.exists(asset.media_key())
    assert media.exists(provider.written_key or "")  # kept for the retry to check
    frames.error = None  # the moderation is back

    assert steps.check_video(poll).done
    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.COMPLETED


def test_a_clip_that_cannot_be_read_is_never_recorded_unchecked(
    table: StoryTable, media: MediaStore
) -> None:
    frames = Frames()
    steps, draft, poll, _ = started_clip(table, media, frames, CLIP)  # not a decodable video

    with pytest.raises(ProviderError, match="could not be read to check it") as failed:
        steps.check_video(poll)

    assert not failed.value.retryable and frames.seen == []
    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.FAILED and asset.s3_key is None


def test_without_a_moderation_provider_a_clip_is_not_read(
    table: StoryTable, media: MediaStore
) -> None:
    steps, _, poll, _ = started_clip(table, media, None, CLIP)  # junk: never decoded

    assert steps.check_video(poll).done
    assert content_checks(OfflineModerator()) is None


def test_offline_clips_are_not_shown_to_the_moderation(
    table: StoryTable, media: MediaStore
) -> None:
    """An offline clip pans over the page's picture, which passed its check already."""
    frames = Frames(error=AssertionError("an offline clip was shown to the moderation"))
    steps = steps_with(table, media, OfflineVideoProvider(), moderated(frames))
    draft = draft_of(table, steps, generate_images=False, generate_videos=True)

    assert steps.check_video(steps.start_video(draft.videos[0])).done

    assert frames.seen == []
    asset = table.get_asset(draft.story_id, AssetKind.VIDEO, 0)
    assert asset.status is AssetStatus.COMPLETED


def test_frames_are_shown_to_the_provider_part_of_the_picture_moderator_alone() -> None:
    frames = Frames()
    layered = content_checks(moderated(frames))

    assert isinstance(layered, LayeredPictureModerator) and layered.moderators == (frames,)
    assert content_checks(LayeredPictureModerator(OfflineModerator())) is None
    assert content_checks(frames) is frames
