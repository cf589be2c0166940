"""The offline image and video providers: real PNG pictures and real MP4 clips, drawn locally,
each labelled as offline output."""

from __future__ import annotations

import hashlib
import time

from kidstory import usage
from kidstory.providers.base import GeneratedMedia, MediaSpec, VideoCheck, VideoOperation
from kidstory.providers.offline_media import (
    OFFLINE_IMAGE_CONTENT_TYPE,
    OFFLINE_VIDEO_CONTENT_TYPE,
    draw_illustration,
    render_video,
)


class OfflineImageProvider:
    name = "offline"
    model = "offline-painter-1"

    def __init__(self, latency_seconds: float = 0.0) -> None:
        self._latency = latency_seconds

    def generate_image(self, spec: MediaSpec) -> GeneratedMedia:
        time.sleep(self._latency)
        png = draw_illustration(
            spec.prompt, palette_seed=spec.character.name, species=spec.character.species
        )
        usage.report(self.name, self.model, usage.PICTURES, 1)
        return GeneratedMedia(content=png, content_type=OFFLINE_IMAGE_CONTENT_TYPE)


class OfflineVideoProvider:
    """Renders the clip when it is checked: a slow pan over the scene's illustration."""

    name = "offline"
    model = "offline-animator-1"

    def __init__(self, latency_seconds: float = 0.0) -> None:
        self._latency = latency_seconds

    def start_video(self, spec: MediaSpec) -> VideoOperation:
        digest = hashlib.sha256(spec.prompt.encode()).hexdigest()[:16]
        usage.report(self.name, self.model, usage.CLIP_SECONDS, spec.seconds)
        return VideoOperation(operation_id=f"offline-{digest}", poll_after_seconds=0)

    def check_video(self, operation_id: str, spec: MediaSpec) -> VideoCheck:
        time.sleep(self._latency)
        still = draw_illustration(
            spec.prompt, palette_seed=spec.character.name, species=spec.character.species
        )
        clip = render_video(still, seconds=spec.seconds)
        return VideoCheck(
            done=True, media=GeneratedMedia(content=clip, content_type=OFFLINE_VIDEO_CONTENT_TYPE)
        )
