"""NarratePage: read one page of a story aloud, with each word's timing, and store the audio."""

from __future__ import annotations

import time
from collections.abc import Callable

from kidstory.ledger import Ledger, provider_call
from kidstory.media_store import MediaStore
from kidstory.models import AssetStatus
from kidstory.providers.base import NarrationProvider
from kidstory.providers.errors import ProviderError
from kidstory.steps.assets import AssetWork
from kidstory.steps.payloads import AssetRef, JobNotFound
from kidstory.store.stories import Stories


class Narration(AssetWork):
    """The NarratePage step; the narration provider is made on first use. A page's text is its
    reading's prompt: the text the story was stored with, or a page change's new text (already
    checked by the story's moderation, or the change's)."""

    def __init__(
        self,
        stories: Stories,
        media: MediaStore,
        *,
        narrator: Callable[[], NarrationProvider],
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
    ) -> None:
        super().__init__(stories, media, sleep=sleep, ledger=ledger)
        self._narrator = narrator

    def narrate_page(self, ref: AssetRef) -> AssetRef:
        with self._metering(ref):
            return self._narrate_page(ref)

    def _narrate_page(self, ref: AssetRef) -> AssetRef:
        asset = self._start(ref)
        if asset.status is AssetStatus.COMPLETED:
            return ref
        story = self._stories.get_story_item(ref.story_id)
        if story is None:
            raise JobNotFound(f"story {ref.story_id} does not exist")
        provider = self._narrator()
        try:
            with provider_call("narration", provider.name, provider.model):
                spoken = provider.narrate(
                    asset.prompt_used, language=story.language, voice=story.voice
                )
        except ProviderError as error:
            self._record_error(asset, error)
            raise
        asset.duration_ms = spoken.duration_ms
        asset.words = spoken.words
        asset.voice = spoken.voice
        self._store(asset, spoken.audio, spoken.content_type, provider.name, provider.model)
        return ref
