"""Providers of text, images and video, chosen by settings. Provider SDKs load only when chosen."""

from __future__ import annotations

from kidstory.providers.base import ImageProvider, TextProvider, VideoProvider
from kidstory.settings import Settings


def text_provider(settings: Settings) -> TextProvider:
    from kidstory.providers.offline_text import OfflineTextProvider

    return OfflineTextProvider(latency_seconds=settings.offline_text_seconds)


def image_provider(settings: Settings) -> ImageProvider:
    from kidstory.providers.offline import OfflineImageProvider

    return OfflineImageProvider(latency_seconds=settings.offline_image_seconds)


def video_provider(settings: Settings) -> VideoProvider:
    from kidstory.providers.offline import OfflineVideoProvider

    return OfflineVideoProvider(latency_seconds=settings.offline_video_seconds)
