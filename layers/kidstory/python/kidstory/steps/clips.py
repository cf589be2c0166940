"""StartVideo and CheckVideo: ask the video provider for one clip, poll it, and store it once
its frames pass their check (a clip the provider wrote into the bucket itself is adopted)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from kidstory.config.models import find_model
from kidstory.ledger import Ledger, provider_call
from kidstory.media_store import MediaStore
from kidstory.models import Asset, AssetKind, AssetStatus
from kidstory.providers.base import GeneratedMedia, MediaSpec, VideoProvider
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderUnavailable,
    VideoTimedOut,
)
from kidstory.safety import PictureModerator, check_clip_frames, content_checks
from kidstory.steps.assets import AssetWork
from kidstory.steps.payloads import AssetRef, VideoPoll
from kidstory.store.stories import Stories

# Clips are MP4, whoever stores them.
CLIP_CONTENT_TYPE = "video/mp4"
# The clip provider whose clips are not looked at: it pans over the page's own picture, which
# passed its check before it was stored (a provider-made clip can show anything).
UNCHECKED_CLIP_PROVIDER = "offline"


def _clip_folder(clip: Asset) -> str:
    """stories/<story_id>/<asset_id>: where a provider that writes a clip itself puts it (the
    clip's own key is stories/<story_id>/<asset_id>.mp4, beside it)."""
    return clip.media_key().rsplit(".", 1)[0]


class Clips(AssetWork):
    """The StartVideo and CheckVideo steps; the video provider is made on first use."""

    def __init__(
        self,
        stories: Stories,
        media: MediaStore,
        *,
        video: Callable[[], VideoProvider],
        pictures: Callable[[], PictureModerator] | None = None,
        video_max_checks: int = 60,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
    ) -> None:
        super().__init__(stories, media, pictures=pictures, sleep=sleep, ledger=ledger)
        self._video = video
        self._video_max_checks = video_max_checks

    def start_video(self, ref: AssetRef) -> VideoPoll:
        with self._metering(ref):
            return self._start_video(ref)

    def _start_video(self, ref: AssetRef) -> VideoPoll:
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
            with provider_call("video", provider.name, provider.model):
                operation = provider.start_video(spec)
        except ProviderError as error:
            self._record_error(asset, error)
            raise
        asset.operation_id = operation.operation_id
        asset.provider, asset.model = provider.name, provider.model
        self._stories.put_asset(asset)
        return VideoPoll(
            **ref.model_dump(),
            operation_id=operation.operation_id,
            poll_after_seconds=operation.poll_after_seconds,
        )

    def check_video(self, poll: VideoPoll) -> VideoPoll:
        with self._metering(poll, "video-check"):
            return self._check_video(poll)

    def _check_video(self, poll: VideoPoll) -> VideoPoll:
        asset = self._stories.get_asset(poll.story_id, AssetKind.VIDEO, poll.display_order)
        checks = poll.checks + 1
        if asset.status is AssetStatus.COMPLETED:  # a retried check after the clip was stored
            return poll.model_copy(update={"checks": checks, "done": True})
        spec = self._spec(poll.story_id, asset.prompt_used)
        provider = self._video()
        try:
            with provider_call("video", provider.name, provider.model):
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
            picture = self._stories.get_asset(clip.story_id, AssetKind.IMAGE, clip.display_order)
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
