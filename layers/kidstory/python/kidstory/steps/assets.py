"""Making one asset, a picture, a clip or a page's narration: its record begun, a provider's
failure recorded on it, its bytes stored and counted in its job's progress; the work Pictures,
Clips and Narration share."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager

from kidstory import observability
from kidstory.ledger import Ledger, metering
from kidstory.media_store import MediaStore
from kidstory.models import Asset, AssetKind, AssetStatus
from kidstory.providers.base import MediaSpec
from kidstory.providers.errors import ProviderError, ProviderThrottled
from kidstory.safety import OfflineModerator, PictureModerator
from kidstory.steps.payloads import AssetRef, JobNotFound
from kidstory.steps.throttling import wait_out
from kidstory.store.stories import Stories

GENERATED_METRIC = {
    AssetKind.IMAGE: "ImagesGenerated",
    AssetKind.VIDEO: "VideosGenerated",
    AssetKind.AUDIO: "PagesNarrated",
}


class AssetWork:
    """What a media step holds: the story's records, the media bucket, the stage's picture
    moderator (made on first use), the clock a throttled provider is waited out on and the
    jobs' cost ledger."""

    def __init__(
        self,
        stories: Stories,
        media: MediaStore,
        *,
        pictures: Callable[[], PictureModerator] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
    ) -> None:
        self._stories = stories
        self._media = media
        self._pictures = pictures
        self._picture_moderator: PictureModerator | None = None
        self._sleep = sleep
        self._ledger = ledger

    def _metering(self, ref: AssetRef, step: str | None = None) -> AbstractContextManager[None]:
        """The job's ledger meters this attempt at the asset (step `<kind>#<order>`)."""
        name = step or ref.kind.value
        return metering(self._ledger, ref.job_id, f"{name}#{ref.display_order:03d}")

    def _picture_checks(self) -> PictureModerator:
        """The stage's picture moderator (kidstory.providers.picture_moderator), made once."""
        if self._picture_moderator is None:
            self._picture_moderator = self._pictures() if self._pictures else OfflineModerator()
        return self._picture_moderator

    def _spec(self, story_id: str, prompt: str) -> MediaSpec:
        story = self._stories.get_story_item(story_id)
        if story is None:
            raise JobNotFound(f"story {story_id} does not exist")
        return MediaSpec(prompt=prompt, character=story.character, art_style=story.art_style)

    def _begin(self, ref: AssetRef) -> tuple[Asset, MediaSpec]:
        asset = self._start(ref)
        return asset, self._spec(ref.story_id, asset.prompt_used)

    def _start(self, ref: AssetRef) -> Asset:
        """The asset's record, marked as being made (one more attempt) unless it is done."""
        asset = self._stories.get_asset(
            ref.story_id, ref.kind, ref.display_order, pending_job=ref.pending_job
        )
        if asset.status is not AssetStatus.COMPLETED:
            asset.status = AssetStatus.GENERATING
            asset.attempts += 1
            asset.error = None
            self._stories.put_asset(asset)
        return asset

    def _record_error(self, asset: Asset, error: ProviderError) -> None:
        asset.error = f"{type(error).__name__}: {error}"
        if not error.retryable:
            asset.status = AssetStatus.FAILED
        self._stories.put_asset(asset)
        if isinstance(error, ProviderThrottled):
            wait_out(error, self._sleep)

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
        if self._stories.complete_asset(asset):
            observability.count(GENERATED_METRIC[asset.kind])
