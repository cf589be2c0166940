"""GenerateImage: draw one illustration, redrawn while it fails its check, and store it."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext

from kidstory import usage
from kidstory.ledger import Ledger, provider_call
from kidstory.media_store import MediaStore
from kidstory.models import AssetStatus
from kidstory.providers.base import GeneratedMedia, ImageProvider, MediaSpec
from kidstory.providers.errors import ContentRefused, ProviderError
from kidstory.safety import PictureModerator
from kidstory.steps.assets import AssetWork
from kidstory.steps.payloads import AssetRef
from kidstory.store.stories import Stories

PICTURE_REDRAWS = 2


class Pictures(AssetWork):
    """The GenerateImage step; the image provider is made on first use."""

    def __init__(
        self,
        stories: Stories,
        media: MediaStore,
        *,
        image: Callable[[], ImageProvider],
        pictures: Callable[[], PictureModerator] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        ledger: Ledger | None = None,
    ) -> None:
        super().__init__(stories, media, pictures=pictures, sleep=sleep, ledger=ledger)
        self._image = image

    def generate_image(self, ref: AssetRef) -> AssetRef:
        with self._metering(ref):
            return self._generate_image(ref)

    def _generate_image(self, ref: AssetRef) -> AssetRef:
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

    def _checked_picture(self, provider: ImageProvider, spec: MediaSpec) -> GeneratedMedia:
        """A picture that passed its check, drawn again (a bounded number of times) if not.
        The check is the structural one, then the stage's moderation provider, if any
        (kidstory.providers.picture_moderator); a moderation that cannot answer raises its
        ProviderError, so the picture is never stored unchecked. A redraw is a redo in the
        job's ledger: a cost cap may refuse it (kidstory.ledger.CostCapReached)."""
        moderator = self._picture_checks()
        for drawn in range(1 + PICTURE_REDRAWS):
            with (
                usage.redo("redraw") if drawn else nullcontext(),
                provider_call("image", provider.name, provider.model),
            ):
                made = provider.generate_image(spec)
            verdict = moderator.check_picture(made.content, made.content_type)
            if verdict.allowed:
                return made
        raise ContentRefused(
            f"the picture failed its check {1 + PICTURE_REDRAWS} times: {verdict.reason}"
        )
