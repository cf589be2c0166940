"""The steps of the StoryWorkflow state machine, and the payloads that pass between them.

Each Lambda handler parses its event into one of these payload models and calls one method of
`StorySteps`. Payloads carry ids only; text and media live in DynamoDB and S3."""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kidstory import observability
from kidstory.config.models import find_model
from kidstory.media_store import MediaStore
from kidstory.models import (
    Asset,
    AssetKind,
    AssetStatus,
    Job,
    JobStatus,
    ScenePrompt,
    Stage,
    Story,
    StoryText,
)
from kidstory.providers.base import (
    GeneratedMedia,
    ImageProvider,
    MediaSpec,
    Medium,
    StoryBrief,
    TextProvider,
    VideoProvider,
)
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderUnavailable,
    VideoTimedOut,
)
from kidstory.safety import (
    OfflineModerator,
    PictureModerator,
    TextModerator,
    check_clip_frames,
    content_checks,
)
from kidstory.store.jobs import JobAlreadyEnded
from kidstory.store.story_table import StoryTable

PICTURE_REDRAWS = 2
# A throttled provider that says how long to wait (Retry-After) is waited for, up to this long,
# before the error goes to the state machine, whose Retry intervals are fixed and short. The
# functions' timeouts leave room for it.
LONGEST_HONOURED_WAIT_SECONDS = 20.0
# Clips are MP4, whoever stores them.
CLIP_CONTENT_TYPE = "video/mp4"
# The clip provider whose clips are not looked at: it pans over the page's own picture, which
# passed its check before it was stored (a provider-made clip can show anything).
UNCHECKED_CLIP_PROVIDER = "offline"

# The error of the workflow's final Fail state, reached only after story.failed was published.
STORY_FAILED_ERROR = "StoryFailed"

_IDS = uuid.UUID("5f0c6f1e-5b1a-4c55-9d43-7d1c2a7c0b11")


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class JobRef(Payload):
    job_id: str


class AssetRef(Payload):
    job_id: str
    story_id: str
    asset_id: str
    kind: AssetKind
    display_order: int


class StoryDraft(Payload):
    job_id: str
    story_id: str
    images: list[AssetRef]
    videos: list[AssetRef]


class VideoPoll(AssetRef):
    operation_id: str
    checks: int = 0
    done: bool = False
    poll_after_seconds: int = 0


class CaughtError(Payload):
    """What a Catch puts at its result path: the error's name and its cause."""

    Error: str
    Cause: str | None = None


class MediaResult(AssetRef):
    failure: CaughtError | None = None


class AssembleInput(Payload):
    job_id: str
    story_id: str
    media: list[list[MediaResult]]


class MarkFailedInput(Payload):
    job_id: str
    error: CaughtError


class JobOutcome(Payload):
    job_id: str
    story_id: str | None
    status: JobStatus
    error: str | None = None


class ExecutionEnded(Payload):
    """The detail of Step Functions' "Execution Status Change" event."""

    name: str = Field(description="The execution name: the job id")
    status: str
    error: str | None = None
    cause: str | None = None


class JobNotFound(Exception):
    """The execution names a job that does not exist."""


def describe_failure(caught: CaughtError) -> str:
    """A readable sentence from a caught error (a Lambda error's cause is JSON)."""
    message = caught.Cause or ""
    try:
        parsed = json.loads(message)
    except (TypeError, ValueError):
        parsed = None
    if isinstance(parsed, dict):
        message = str(parsed.get("errorMessage") or "")
    message = message.strip() or "no details were given"
    return f"{caught.Error}: {message}"


def story_id_for(job_id: str) -> str:
    """Stable, so a retried WriteStory rewrites the same story instead of making another."""
    return str(uuid.uuid5(_IDS, f"story:{job_id}"))


def asset_id_for(story_id: str, kind: AssetKind, display_order: int) -> str:
    return str(uuid.uuid5(_IDS, f"{story_id}:{kind.value}:{display_order}"))


def _clip_folder(clip: Asset) -> str:
    """stories/<story_id>/<asset_id>: where a provider that writes a clip itself puts it (the
    clip's own key is stories/<story_id>/<asset_id>.mp4, beside it)."""
    return clip.media_key().rsplit(".", 1)[0]


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


class StorySteps:
    """The work behind each state. Adapters are passed in; providers are made on first use, so
    a function loads only the provider it needs."""

    def __init__(
        self,
        table: StoryTable,
        media: MediaStore,
        *,
        text: Callable[[], TextProvider] | None = None,
        image: Callable[[], ImageProvider] | None = None,
        video: Callable[[], VideoProvider] | None = None,
        story_graph: Callable[[TextProvider], Any] | None = None,
        moderator: Callable[[], TextModerator] | None = None,
        pictures: Callable[[], PictureModerator] | None = None,
        video_max_checks: int = 60,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = table
        self._media = media
        self._text = text
        self._image = image
        self._video = video
        self._story_graph = story_graph
        self._moderator = moderator
        self._pictures = pictures
        self._picture_moderator: PictureModerator | None = None
        self._graph: Any = None
        self._writer: TextProvider | None = None
        self._video_max_checks = video_max_checks
        self._sleep = sleep

    # WriteStory

    def write_story(self, ref: JobRef) -> StoryDraft:
        from kidstory.story_graph import build_story_graph, run_story_graph

        job = self._require_job(ref.job_id)
        if self._writer is None:
            assert self._text is not None, "WriteStory needs a text provider"
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
            self._throttled(throttled)
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
            readability=state.get("readability"),
        )
        self._table.put_story(story)
        images = self._new_assets(story, AssetKind.IMAGE, state.get("image_scenes", []))
        videos = self._new_assets(story, AssetKind.VIDEO, state.get("video_scenes", []))
        self._table.put_assets(images + videos)
        self._table.update_job(job.job_id, JobStatus.PROCESSING, story_id=story.id)
        self._table.set_stage(
            job.job_id, Stage.ILLUSTRATING, images_total=len(images), videos_total=len(videos)
        )
        return StoryDraft(
            job_id=job.job_id,
            story_id=story.id,
            images=[self._ref(asset) for asset in images],
            videos=[self._ref(asset) for asset in videos],
        )

    # GenerateImage

    def generate_image(self, ref: AssetRef) -> AssetRef:
        assert self._image is not None, "GenerateImage needs an image provider"
        asset, spec = self._begin(ref)
        if asset.status is AssetStatus.COMPLETED:
            return ref
        provider = self._image()
        try:
            made = self._checked_picture(provider, spec)
        except ProviderError as error:
            self._record_error(asset, error)
            raise
        self._store(asset, made.content, made.content_type, provider.name, provider.model)
        return ref

    def _picture_checks(self) -> PictureModerator:
        """The stage's picture moderator (kidstory.providers.picture_moderator), made once."""
        if self._picture_moderator is None:
            self._picture_moderator = self._pictures() if self._pictures else OfflineModerator()
        return self._picture_moderator

    def _checked_picture(self, provider: ImageProvider, spec: MediaSpec) -> GeneratedMedia:
        """A picture that passed its check, drawn again (a bounded number of times) if not.
        The check is the structural one, then the stage's moderation provider, if any
        (kidstory.providers.picture_moderator); a moderation that cannot answer raises its
        ProviderError, so the picture is never stored unchecked."""
        moderator = self._picture_checks()
        for _ in range(1 + PICTURE_REDRAWS):
            with observability.provider_call("image"):
                made = provider.generate_image(spec)
            verdict = moderator.check_picture(made.content, made.content_type)
            if verdict.allowed:
                return made
        raise ContentRefused(
            f"the picture failed its check {1 + PICTURE_REDRAWS} times: {verdict.reason}"
        )

    # StartVideo, CheckVideo

    def start_video(self, ref: AssetRef) -> VideoPoll:
        assert self._video is not None, "StartVideo needs a video provider"
        asset, spec = self._begin(ref)
        if asset.status is AssetStatus.COMPLETED or asset.operation_id:
            # already made, or already started by an earlier try: never pay for a second clip
            return VideoPoll(
                **ref.model_dump(),
                operation_id=asset.operation_id or "",
                done=asset.status is AssetStatus.COMPLETED,
            )
        provider = self._video()
        spec = self._clip_spec(asset, spec, provider)
        try:
            with observability.provider_call("video"):
                operation = provider.start_video(spec)
        except ProviderError as error:
            self._record_error(asset, error)
            raise
        asset.operation_id = operation.operation_id
        asset.provider, asset.model = provider.name, provider.model
        self._table.put_asset(asset)
        return VideoPoll(
            **ref.model_dump(),
            operation_id=operation.operation_id,
            poll_after_seconds=operation.poll_after_seconds,
        )

    def check_video(self, poll: VideoPoll) -> VideoPoll:
        assert self._video is not None, "CheckVideo needs a video provider"
        asset = self._table.get_asset(poll.story_id, AssetKind.VIDEO, poll.display_order)
        checks = poll.checks + 1
        if asset.status is AssetStatus.COMPLETED:  # a retried check after the clip was stored
            return poll.model_copy(update={"checks": checks, "done": True})
        spec = self._spec(poll.story_id, asset.prompt_used)
        provider = self._video()
        try:
            with observability.provider_call("video"):
                result = provider.check_video(poll.operation_id, spec)
            if not result.done and checks >= self._video_max_checks:
                raise VideoTimedOut(f"the video was not ready after {checks} checks")
        except ProviderError as error:
            self._record_error(asset, error)
            raise
        if result.done and result.stored_key is not None:
            try:
                self._adopt_clip(asset, result.stored_key, provider.name, provider.model)
            except ProviderError as error:
                self._record_error(asset, error)
                raise
        elif result.done and result.media is not None:
            try:
                self._check_clip_chunks([result.media.content], provider.name)
            except ProviderError as error:
                self._record_error(asset, error)
                raise
            self._store(
                asset,
                result.media.content,
                result.media.content_type,
                provider.name,
                provider.model,
            )
        return poll.model_copy(update={"checks": checks, "done": result.done})

    def _clip_spec(self, asset: Asset, spec: MediaSpec, provider: VideoProvider) -> MediaSpec:
        """The clip's spec with where a provider that writes its own output puts it and, for a
        model that starts from a picture, the page's own illustration when it is already made.
        Pictures and clips are made side by side: a clip that starts before its picture is
        ready starts from the prompt alone."""
        known = find_model(provider.model)
        start = self._illustration(asset) if known is not None and known.start_image else None
        return replace(spec, output_prefix=_clip_folder(asset), start_image=start)

    def _illustration(self, clip: Asset) -> GeneratedMedia | None:
        try:
            picture = self._table.get_asset(clip.story_id, AssetKind.IMAGE, clip.display_order)
        except LookupError:  # a story without pictures
            return None
        if picture.status is not AssetStatus.COMPLETED or not picture.s3_key:
            return None
        content = self._media.read(picture.s3_key)
        if content is None:
            return None
        return GeneratedMedia(content=content, content_type=picture.content_type or "image/png")

    def _adopt_clip(self, asset: Asset, written_key: str, provider: str, model: str) -> None:
        """A clip the provider wrote into the bucket itself: its frames checked first (a refused
        clip is deleted, never copied), then copied (on S3's side) to the clip's own key, so it
        is served like every other clip, and the provider's folder removed."""
        folder = _clip_folder(asset) + "/"
        if not written_key.startswith(folder):
            raise ProviderError(f"the clip was written outside its folder {folder}: {written_key}")
        key = asset.media_key()
        written = self._media.head(written_key)
        if written is None:
            # copied by an earlier try that stopped before recording it (only a clip that
            # passed its check is ever copied)
            copied = self._media.head(key)
            if copied is None:
                raise ProviderUnavailable(f"the finished clip is not in the bucket: {written_key}")
            self._record_stored(asset, key, CLIP_CONTENT_TYPE, copied.size_bytes, provider, model)
            return
        try:
            self._check_stored_clip(written_key, provider)
        except ContentRefused:
            self._media.delete(self._media.keys_under(folder))  # a refused clip is not kept
            raise
        self._media.copy(written_key, key, CLIP_CONTENT_TYPE)
        self._media.delete(self._media.keys_under(folder))
        self._record_stored(asset, key, CLIP_CONTENT_TYPE, written.size_bytes, provider, model)

    def _clip_checks(self, provider: str) -> PictureModerator | None:
        """What a finished clip's frames are shown to: the content part of the stage's picture
        moderator (kidstory.safety.content_checks: the provider's moderation, without the
        structural check meant for drawings), or None: for an offline clip, made from the page's
        already-checked picture, and when MODERATION_PROVIDER is offline (nothing would look)."""
        if provider == UNCHECKED_CLIP_PROVIDER:
            return None
        return content_checks(self._picture_checks())

    def _check_stored_clip(self, key: str, provider: str) -> None:
        """A provider-made clip in the bucket, checked before it is recorded (see _check_clip)."""
        if self._clip_checks(provider) is None:  # nothing would look: the clip is not read
            return
        found = self._media.open(key)
        if found is None:
            raise ProviderUnavailable(f"the finished clip is not in the bucket: {key}")
        self._check_clip_chunks(found.chunks, provider)

    def _check_clip_chunks(self, chunks: Iterable[bytes], provider: str) -> None:
        """A provider-made clip, given as its bytes, checked before it is stored."""
        moderator = self._clip_checks(provider)
        if moderator is None:
            return
        with tempfile.TemporaryDirectory(prefix="clip-check-") as work:
            path = Path(work) / "clip.mp4"
            with path.open("wb") as written:
                for chunk in chunks:
                    written.write(chunk)
            self._check_clip(moderator, path)

    @staticmethod
    def _check_clip(moderator: PictureModerator, path: Path) -> None:
        """Frames of the clip (kidstory.clip_frames) shown to `moderator`: a refusal raises
        ContentRefused with its reason (the clip is not made again: the job fails closed), a
        clip that cannot be read ProviderError (likewise), and a moderation that cannot answer
        its retryable ProviderError (CheckVideo is retried, and checks the clip again)."""
        from kidstory.clip_frames import ClipUnreadable, clip_frames

        try:
            frames = clip_frames(path)
        except ClipUnreadable as error:
            raise ProviderError(f"the clip could not be read to check it: {error}") from error
        verdict = check_clip_frames(moderator, frames)
        if not verdict.allowed:
            raise ContentRefused(f"the clip failed its check: {verdict.reason}")

    # Assemble

    def assemble(self, given: AssembleInput) -> JobOutcome:
        self._table.set_stage(given.job_id, Stage.ASSEMBLING)
        for result in (item for branch in given.media for item in branch):
            if result.failure is not None:
                asset = self._table.get_asset(result.story_id, result.kind, result.display_order)
                asset.status = AssetStatus.FAILED
                asset.error = describe_failure(result.failure)
                self._table.put_asset(asset)
        found = self._table.get_story(given.story_id)
        if found is None:
            raise JobNotFound(f"story {given.story_id} of job {given.job_id} does not exist")
        story, assets = found
        problems = [
            f"{asset.kind.value} {asset.display_order + 1}: {asset.error or 'not generated'}"
            for asset in sorted(assets, key=lambda a: (a.kind.value, a.display_order))
            if asset.status is not AssetStatus.COMPLETED
            or asset.s3_key is None
            or not self._media.exists(asset.s3_key)
        ]
        if problems:
            error = f"{len(problems)} of {len(assets)} media could not be made: " + "; ".join(
                problems
            )
            return self._finish(story, JobStatus.FAILED, error)
        return self._finish(story, JobStatus.COMPLETED, None)

    # MarkFailed

    def mark_failed(self, given: MarkFailedInput) -> JobOutcome:
        error = describe_failure(given.error)
        job = self._require_job(given.job_id)
        found = self._table.get_story(job.story_id) if job.story_id else None
        if found is not None:
            return self._finish(found[0], JobStatus.FAILED, error)
        try:
            self._table.update_job(job.job_id, JobStatus.FAILED, error=error)
        except JobAlreadyEnded:
            return self._stored_outcome(job.job_id)
        observability.count("StoriesFailed")
        return JobOutcome(job_id=job.job_id, story_id=None, status=JobStatus.FAILED, error=error)

    # an execution that ended without reaching MarkFailed (timed out, aborted, or failed in a
    # way no Catch saw)

    def end_orphaned_job(self, ended: ExecutionEnded) -> JobOutcome | None:
        """The outcome to announce for an execution that stopped early: its job is failed if
        it was still open; a job that had ended is announced again, since its execution may
        have stopped before (or while) publishing. None when there is nothing to announce:
        no such job, or the execution failed in StoryFailed, after publishing."""
        job = self._table.get_job(ended.name)
        if job is None or ended.error == STORY_FAILED_ERROR:
            return None
        if job.status.is_terminal:
            return self._stored_outcome(job.job_id)
        cause = (ended.cause or ended.error or "").strip()
        caught = CaughtError(
            Error=f"Execution{ended.status.title().replace('_', '')}",
            Cause=f"The workflow stopped ({ended.status}) before the story was finished"
            + (f": {cause}" if cause else ""),
        )
        return self.mark_failed(MarkFailedInput(job_id=job.job_id, error=caught))

    # shared

    def _finish(self, story: Story, status: JobStatus, error: str | None) -> JobOutcome:
        """End the job and store the story together; a job that had already ended keeps its
        outcome."""
        story.status = status
        try:
            self._table.finish_story(story, error)
        except JobAlreadyEnded:
            return self._stored_outcome(story.job_id)
        observability.count(
            "StoriesCompleted" if status is JobStatus.COMPLETED else "StoriesFailed"
        )
        return JobOutcome(job_id=story.job_id, story_id=story.id, status=status, error=error)

    def _stored_outcome(self, job_id: str) -> JobOutcome:
        job = self._require_job(job_id)
        return JobOutcome(
            job_id=job.job_id, story_id=job.story_id, status=job.status, error=job.error
        )

    def _require_job(self, job_id: str) -> Job:
        job = self._table.get_job(job_id)
        if job is None:
            raise JobNotFound(f"job {job_id} does not exist")
        return job

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

    def _spec(self, story_id: str, prompt: str) -> MediaSpec:
        story = self._table.get_story_item(story_id)
        if story is None:
            raise JobNotFound(f"story {story_id} does not exist")
        return MediaSpec(prompt=prompt, character=story.character, art_style=story.art_style)

    def _begin(self, ref: AssetRef) -> tuple[Asset, MediaSpec]:
        asset = self._table.get_asset(ref.story_id, ref.kind, ref.display_order)
        if asset.status is not AssetStatus.COMPLETED:
            asset.status = AssetStatus.GENERATING
            asset.attempts += 1
            asset.error = None
            self._table.put_asset(asset)
        return asset, self._spec(ref.story_id, asset.prompt_used)

    def _record_error(self, asset: Asset, error: ProviderError) -> None:
        asset.error = f"{type(error).__name__}: {error}"
        if not error.retryable:
            asset.status = AssetStatus.FAILED
        self._table.put_asset(asset)
        if isinstance(error, ProviderThrottled):
            self._throttled(error)

    def _throttled(self, error: ProviderThrottled) -> None:
        """Count it, and wait as long as the provider asked (bounded) before the retry."""
        observability.count("ProviderThrottled")
        if error.retry_after_seconds:
            self._sleep(min(error.retry_after_seconds, LONGEST_HONOURED_WAIT_SECONDS))

    def _store(
        self, asset: Asset, content: bytes, content_type: str, provider: str, model: str
    ) -> None:
        key = asset.media_key()
        self._media.put(key, content, content_type)
        self._record_stored(asset, key, content_type, len(content), provider, model)

    def _record_stored(
        self,
        asset: Asset,
        key: str,
        content_type: str,
        size_bytes: int,
        provider: str,
        model: str,
    ) -> None:
        """The asset is complete: its object is at `key` in the media bucket."""
        asset.status = AssetStatus.COMPLETED
        asset.s3_key = key
        asset.content_type = content_type
        asset.size_bytes = size_bytes
        asset.provider, asset.model = provider, model
        asset.error = None
        if self._table.complete_asset(asset):
            observability.count(
                "ImagesGenerated" if asset.kind is AssetKind.IMAGE else "VideosGenerated"
            )
