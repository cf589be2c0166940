"""The model registry: which provider serves each known model, what it makes, and where it is in
its lifecycle (active, deprecated with a shutdown date, or retired with replacements to use).

Settings take their default model ids from here and refuse a retired model at start-up;
`models_near_shutdown` tells the operator which configured models are about to go away. A model
id that is not listed is allowed: providers publish new models faster than this list changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fnmatch import fnmatchcase
from typing import Literal

ModelProvider = Literal["openai", "anthropic", "ollama", "bedrock"]
Capability = Literal["text", "image", "video"]

NEAR_SHUTDOWN = timedelta(days=90)
_WORK: dict[Capability, str] = {"text": "text", "image": "pictures", "video": "video clips"}

# Bedrock cross-Region inference profiles put a geography in front of the model id
# ("us.amazon.nova-2-lite-v1:0"); the lifecycle is the model's own.
_INFERENCE_PROFILE_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.", "global.")


class Lifecycle(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


@dataclass(frozen=True)
class ModelInfo:
    """One model, or a family of models when `model_id` ends in `*`."""

    model_id: str
    provider: ModelProvider
    capability: Capability
    lifecycle: Lifecycle = Lifecycle.ACTIVE
    shutdown: date | None = None
    replacements: tuple[str, ...] = ()
    schema_by_tool: bool = False
    """Bedrock: the model takes a JSON schema as a forced tool call (Amazon Nova's constrained
    decoding) rather than through Converse's outputConfig."""
    # What a picture or clip model accepts (what the providers use of it: docs/configuration.md,
    # Pictures and clips).
    seed: bool = False
    """Takes a seed, so the pictures of one story can share it."""
    reference_images: int = 0
    """How many reference pictures it can be given (0: none)."""
    start_image: bool = False
    """Video: can start from a given picture (the page's own illustration)."""
    sizes: tuple[str, ...] = ()
    """The sizes ("1024x1024") or aspect ratios ("1:1") it makes."""
    max_video_seconds: float | None = None

    def is_retired(self, today: date) -> bool:
        """Retired, or deprecated and past its shutdown date."""
        if self.lifecycle is Lifecycle.RETIRED:
            return True
        return self.shutdown is not None and self.shutdown <= today

    def matches(self, model_id: str) -> bool:
        return fnmatchcase(model_id, self.model_id)


@dataclass(frozen=True)
class ShutdownNotice:
    """A configured model that shuts down soon."""

    variable: str
    model_id: str
    shutdown: date
    replacements: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.variable}={self.model_id} shuts down on {self.shutdown.isoformat()}; "
            f"replace it with {_options(self.replacements)}"
        )


class ModelUnusable(ValueError):
    """The configured model cannot be used: retired, or made for something else."""


_GPT_IMAGE = ("gpt-image-2.6-sunburst", "gpt-image-2.6-flare")
_BEDROCK_IMAGE = ("stability.stable-image-core-v1:1", "stability.stable-image-ultra-v1:1")
_BEDROCK_VIDEO = ("luma.ray-v2:0",)
# GPT image models take up to 16 reference pictures, through the edits endpoint (openai SDK,
# ImageEditParams.image); the standard sizes are the ones every GPT image model makes.
_GPT_IMAGE_SIZES = ("1024x1024", "1536x1024", "1024x1536")
# Stable Image Core and Ultra on Bedrock: aspect_ratio and seed (0 to 4294967295) in the body.
_STABILITY_ASPECT_RATIOS = ("1:1", "16:9", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21")
# Luma Ray2 on Bedrock: aspect_ratio, duration "5s" or "9s", and a start frame (keyframes.frame0).
_LUMA_ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "9:21")


def _retired(
    model_id: str,
    provider: ModelProvider,
    capability: Capability,
    shutdown: date,
    *replacements: str,
) -> ModelInfo:
    return ModelInfo(
        model_id, provider, capability, Lifecycle.RETIRED, shutdown, tuple(replacements)
    )


def _deprecated(
    model_id: str,
    provider: ModelProvider,
    capability: Capability,
    shutdown: date,
    *replacements: str,
) -> ModelInfo:
    return ModelInfo(
        model_id, provider, capability, Lifecycle.DEPRECATED, shutdown, tuple(replacements)
    )


MODELS: tuple[ModelInfo, ...] = (
    # OpenAI, text
    ModelInfo("gpt-6.1-terra", "openai", "text"),
    ModelInfo("gpt-6.1-sol", "openai", "text"),
    ModelInfo("gpt-6-luna", "openai", "text"),
    *(
        _deprecated(model_id, "openai", "text", date(2026, 12, 11), replacement)
        for model_id, replacement in (
            ("gpt-5", "gpt-6.1-sol"),
            ("gpt-5-2025-08-07", "gpt-6.1-sol"),
            ("gpt-5-mini", "gpt-6.1-terra"),
            ("gpt-5-mini-2025-08-07", "gpt-6.1-terra"),
            ("gpt-5-nano", "gpt-6-luna"),
            ("gpt-5-nano-2025-08-07", "gpt-6-luna"),
        )
    ),
    *(
        _deprecated(model_id, "openai", "text", date(2027, 1, 14), "gpt-6-luna", "gpt-6.1-terra")
        for model_id in ("gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini")
    ),
    *(
        _retired(model_id, "openai", "text", date(2026, 10, 23), "gpt-6.1-terra", "gpt-6.1-sol")
        for model_id in ("gpt-4", "gpt-4-*", "gpt-3.5-turbo*")
    ),
    # OpenAI, images and video
    *(
        ModelInfo(model_id, "openai", "image", reference_images=16, sizes=_GPT_IMAGE_SIZES)
        for model_id in _GPT_IMAGE
    ),
    _retired("dall-e-3", "openai", "image", date(2026, 5, 12), *_GPT_IMAGE),
    _retired("dall-e-2", "openai", "image", date(2026, 5, 12), *_GPT_IMAGE),
    _retired("gpt-image-1", "openai", "image", date(2026, 10, 23), *_GPT_IMAGE),
    *(
        _deprecated(model_id, "openai", "image", date(2026, 12, 1), *_GPT_IMAGE)
        for model_id in ("gpt-image-1-mini", "gpt-image-1.5*", "chatgpt-image-latest")
    ),
    _retired("sora-2*", "openai", "video", date(2026, 9, 24), *_BEDROCK_VIDEO),
    # Anthropic, text
    ModelInfo("claude-sonnet-5-5", "anthropic", "text"),
    ModelInfo("claude-haiku-5-5", "anthropic", "text"),
    ModelInfo("claude-opus-5-5", "anthropic", "text"),
    *(
        _deprecated(model_id, "anthropic", "text", date(2026, 11, 30), "claude-sonnet-5-5")
        for model_id in ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929")
    ),
    *(
        _retired(model_id, "anthropic", "text", date(2026, 6, 15), "claude-sonnet-5-5")
        for model_id in ("claude-sonnet-4-0", "claude-sonnet-4-20250514")
    ),
    *(
        _retired(model_id, "anthropic", "text", date(2026, 6, 15), "claude-opus-5-5")
        for model_id in ("claude-opus-4-0", "claude-opus-4-20250514")
    ),
    _retired("claude-3-7-sonnet-*", "anthropic", "text", date(2026, 2, 19), "claude-sonnet-5-5"),
    _retired(
        "claude-3-5-sonnet-*",
        "anthropic",
        "text",
        date(2025, 10, 22),
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
    ),
    _retired("claude-3-5-haiku-*", "anthropic", "text", date(2026, 2, 19), "claude-haiku-5-5"),
    _retired("claude-3-opus-*", "anthropic", "text", date(2026, 1, 5), "claude-opus-5-5"),
    # Ollama: local models do not retire
    ModelInfo("gemma4:e4b", "ollama", "text"),
    # Amazon Bedrock
    ModelInfo("amazon.nova-2-lite-v1:0", "bedrock", "text", schema_by_tool=True),
    *(
        ModelInfo(model_id, "bedrock", "image", seed=True, sizes=_STABILITY_ASPECT_RATIOS)
        for model_id in _BEDROCK_IMAGE
    ),
    _retired(
        "amazon.nova-canvas-v1:0",
        "bedrock",
        "image",
        date(2026, 9, 30),
        *_BEDROCK_IMAGE,
        _GPT_IMAGE[0],
    ),
    ModelInfo(
        "luma.ray-v2:0",
        "bedrock",
        "video",
        start_image=True,
        sizes=_LUMA_ASPECT_RATIOS,
        max_video_seconds=9,
    ),
    _retired("amazon.nova-reel-v1:*", "bedrock", "video", date(2026, 9, 30), *_BEDROCK_VIDEO),
)

_DEFAULTS: dict[tuple[ModelProvider, Capability], str] = {
    ("openai", "text"): "gpt-6.1-terra",
    ("anthropic", "text"): "claude-sonnet-5-5",
    ("ollama", "text"): "gemma4:e4b",
    ("bedrock", "text"): "us.amazon.nova-2-lite-v1:0",
    ("openai", "image"): "gpt-image-2.6-sunburst",
    ("bedrock", "image"): "stability.stable-image-core-v1:1",
    ("bedrock", "video"): "luma.ray-v2:0",
}


def default_model(provider: ModelProvider, capability: Capability) -> str:
    """The model id used when the operator does not choose one."""
    return _DEFAULTS[(provider, capability)]


def bare_model_id(model_id: str) -> str:
    """The model behind a Bedrock cross-Region inference profile id ("us.amazon.nova-2-lite-v1:0"
    -> "amazon.nova-2-lite-v1:0"); any other id as it is."""
    bare = model_id.strip()
    for prefix in _INFERENCE_PROFILE_PREFIXES:
        if bare.startswith(prefix):
            return bare.removeprefix(prefix)
    return bare


def find_model(model_id: str) -> ModelInfo | None:
    """The registry entry for `model_id` (exact ids before families), or None when unknown."""
    bare = bare_model_id(model_id)
    exact = [info for info in MODELS if info.model_id == bare]
    return exact[0] if exact else next((info for info in MODELS if info.matches(bare)), None)


def check_usable(model_id: str, capability: Capability, today: date) -> None:
    """Raise ModelUnusable, naming what to use instead, if `model_id` cannot do the work."""
    info = find_model(model_id)
    if info is None:
        return
    if info.capability != capability:
        made, wanted = _WORK[info.capability], _WORK[capability]
        raise ModelUnusable(f"{model_id} makes {made}, not {wanted}")
    if info.is_retired(today):
        shutdown = f" on {info.shutdown.isoformat()}" if info.shutdown else ""
        raise ModelUnusable(
            f"{model_id} was retired{shutdown}; use {_options(info.replacements)} instead"
        )


def models_near_shutdown(
    configured: Mapping[str, str], today: date, within: timedelta = NEAR_SHUTDOWN
) -> list[ShutdownNotice]:
    """Of the `configured` models (variable -> model id), those whose shutdown date falls
    within `within` of `today`."""
    notices = []
    for variable, model_id in configured.items():
        info = find_model(model_id)
        if info is None or info.shutdown is None or info.is_retired(today):
            continue
        if info.shutdown - today <= within:
            notices.append(ShutdownNotice(variable, model_id, info.shutdown, info.replacements))
    return notices


def _options(replacements: tuple[str, ...]) -> str:
    if not replacements:
        return "a current model"
    if len(replacements) == 1:
        return replacements[0]
    return ", ".join(replacements[:-1]) + " or " + replacements[-1]
