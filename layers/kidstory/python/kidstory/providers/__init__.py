"""Providers of text, images, video and narration, chosen by settings. Provider SDKs load only
when chosen."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from kidstory.providers.base import (
    ImageProvider,
    NarrationProvider,
    TextProvider,
    VideoProvider,
)

if TYPE_CHECKING:
    from kidstory.config.settings import Settings
    from kidstory.safety import ModerationSource, PictureModerator, TextModerator


def text_provider(settings: Settings) -> TextProvider:
    """The story writer of `LLM_PROVIDER`; warns in the log about models that shut down soon."""
    warn_about_models_near_shutdown(settings)
    if settings.llm_provider == "openai":
        from kidstory.providers.openai_text import OpenAITextProvider

        return OpenAITextProvider.from_settings(settings)
    if settings.llm_provider == "anthropic":
        from kidstory.providers.anthropic_text import AnthropicTextProvider

        return AnthropicTextProvider.from_settings(settings)
    if settings.llm_provider == "ollama":
        from kidstory.providers.ollama_text import OllamaTextProvider

        return OllamaTextProvider.from_settings(settings)
    if settings.llm_provider == "bedrock":
        from kidstory.providers.bedrock_text import BedrockTextProvider

        return BedrockTextProvider.from_settings(settings)
    from kidstory.providers.offline_text import OfflineTextProvider

    return OfflineTextProvider(latency_seconds=settings.offline_text_seconds)


def image_provider(settings: Settings) -> ImageProvider:
    """The illustrator of `IMAGE_PROVIDER`; warns in the log about models that shut down soon."""
    warn_about_models_near_shutdown(settings)
    if settings.image_provider == "openai":
        from kidstory.providers.openai_image import OpenAIImageProvider

        return OpenAIImageProvider.from_settings(settings)
    if settings.image_provider == "bedrock":
        from kidstory.providers.bedrock_image import BedrockImageProvider

        return BedrockImageProvider.from_settings(settings)
    from kidstory.providers.offline import OfflineImageProvider

    return OfflineImageProvider(latency_seconds=settings.offline_image_seconds)


def video_provider(settings: Settings) -> VideoProvider:
    """The animator of `VIDEO_PROVIDER`; warns in the log about models that shut down soon."""
    warn_about_models_near_shutdown(settings)
    if settings.video_provider == "bedrock":
        from kidstory.providers.bedrock_video import BedrockVideoProvider

        return BedrockVideoProvider.from_settings(settings)
    from kidstory.providers.offline import OfflineVideoProvider

    return OfflineVideoProvider(latency_seconds=settings.offline_video_seconds)


def narration_provider(settings: Settings) -> NarrationProvider:
    """The reader of `NARRATION_PROVIDER`: Amazon Polly, or eSpeak NG in the process."""
    if settings.narration_provider == "polly":
        from kidstory.providers.polly_narration import PollyNarrator, polly_client

        return PollyNarrator(
            polly_client(settings.polly_region, settings.provider_timeout_seconds),
            engine=settings.polly_engine,
        )
    from kidstory.providers.offline_narration import OfflineNarrator

    return OfflineNarrator()


def text_moderator(settings: Settings, source: ModerationSource) -> TextModerator:
    """The checks of an idea (source INPUT, in the API) or of a story's title and pages (OUTPUT,
    in the story writer): the offline moderation always, then the moderation of
    `MODERATION_PROVIDER` (OpenAI's moderations endpoint, a Bedrock guardrail, or a safety model
    served by Ollama); the first refusal wins."""
    from kidstory.safety import LayeredModerator, OfflineModerator

    baseline = OfflineModerator()
    if settings.moderation_provider == "openai":
        from kidstory.providers.openai_moderation import OpenAIModerator

        return LayeredModerator(baseline, OpenAIModerator.from_settings(settings))
    if settings.moderation_provider == "bedrock":
        from kidstory.providers.bedrock_moderation import BedrockGuardrailModerator

        return LayeredModerator(baseline, BedrockGuardrailModerator.from_settings(settings, source))
    if settings.moderation_provider == "ollama":
        from kidstory.providers.ollama_moderation import OllamaModerator

        return LayeredModerator(baseline, OllamaModerator.from_settings(settings, source))
    return baseline


def picture_moderator(settings: Settings) -> PictureModerator:
    """The checks of a picture before it is stored (GenerateImage): the structural check always
    (a usable image of its type, not blank), then the moderation of `MODERATION_PROVIDER`, shown
    the picture itself (the guardrail as OUTPUT); the first refusal wins. Offline, the
    structural check alone: nothing looks at what the picture shows; so too with
    MODERATION_PROVIDER=ollama, whose safety model (Llama Guard 3) reads text only."""
    from kidstory.safety import LayeredPictureModerator, OfflineModerator

    baseline = OfflineModerator()
    if settings.moderation_provider == "openai":
        from kidstory.providers.openai_moderation import OpenAIModerator

        return LayeredPictureModerator(baseline, OpenAIModerator.from_settings(settings))
    if settings.moderation_provider == "bedrock":
        from kidstory.providers.bedrock_moderation import BedrockGuardrailModerator

        return LayeredPictureModerator(
            baseline, BedrockGuardrailModerator.from_settings(settings, "OUTPUT")
        )
    return baseline


def warn_about_models_near_shutdown(settings: Settings) -> None:
    from kidstory.config.models import models_near_shutdown
    from kidstory.observability import logger

    for notice in models_near_shutdown(settings.configured_models, datetime.now(UTC).date()):
        logger.warning(f"model shuts down soon: {notice}", model=notice.model_id)
