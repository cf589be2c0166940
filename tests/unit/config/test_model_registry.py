"""The model registry: retired models fail fast naming what to use instead, models near their
shutdown are reported, and every default is a current text model."""

from __future__ import annotations

from datetime import date

import pytest

from kidstory.config.errors import SettingsError
from kidstory.config.models import (
    MODELS,
    Capability,
    Lifecycle,
    ModelProvider,
    ModelUnusable,
    check_usable,
    default_model,
    find_model,
    models_near_shutdown,
)
from kidstory.config.settings import Settings

BASE = {"TABLE_NAME": "stories", "MEDIA_BUCKET": "media"}
TODAY = date(2026, 11, 25)


def test_starting_with_a_retired_model_fails_naming_the_replacements() -> None:
    environ = BASE | {
        "LLM_PROVIDER": "anthropic",
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_TEXT_MODEL": "claude-3-5-sonnet-20241022",
    }

    with pytest.raises(SettingsError) as failure:
        Settings.from_environ(environ)

    message = str(failure.value)
    assert "ANTHROPIC_TEXT_MODEL" in message
    assert "retired on 2025-10-22" in message
    assert "claude-sonnet-5-5" in message


@pytest.mark.parametrize(
    ("model_id", "capability", "replacement"),
    [
        ("dall-e-3", "image", "gpt-image-2.6-sunburst"),
        ("dall-e-2", "image", "gpt-image-2.6-flare"),
        ("gpt-image-1", "image", "gpt-image-2.6-sunburst"),
        ("sora-2", "video", "luma.ray-v2:0"),
        ("sora-2-pro-2025-10-06", "video", "luma.ray-v2:0"),
        ("amazon.nova-reel-v1:1", "video", "luma.ray-v2:0"),
        ("amazon.nova-canvas-v1:0", "image", "stability.stable-image-core-v1:1"),
        ("claude-3-5-sonnet-20240620", "text", "claude-sonnet-5-5"),
        ("gpt-4", "text", "gpt-6.1-terra"),
    ],
)
def test_the_models_the_old_version_used_are_refused(
    model_id: str, capability: Capability, replacement: str
) -> None:
    with pytest.raises(ModelUnusable, match="was retired") as failure:
        check_usable(model_id, capability, TODAY)

    assert replacement in str(failure.value)


def test_a_deprecated_model_counts_as_retired_once_its_shutdown_date_has_passed() -> None:
    check_usable("claude-sonnet-4-5", "text", date(2026, 11, 29))

    with pytest.raises(ModelUnusable, match="retired on 2026-11-30"):
        check_usable("claude-sonnet-4-5", "text", date(2026, 11, 30))


def test_a_model_made_for_something_else_is_refused() -> None:
    with pytest.raises(ModelUnusable, match="dall-e-3 makes pictures, not text"):
        check_usable("dall-e-3", "text", TODAY)


def test_a_model_the_registry_does_not_know_is_allowed() -> None:
    check_usable("gpt-7-nebula", "text", TODAY)

    assert find_model("gpt-7-nebula") is None


def test_bedrock_inference_profiles_are_found_by_their_model() -> None:
    found = find_model("eu.amazon.nova-2-lite-v1:0")

    assert found is not None
    assert (found.provider, found.schema_by_tool) == ("bedrock", True)


def test_models_near_their_shutdown_are_listed() -> None:
    settings = Settings.from_environ(
        BASE
        | {
            "LLM_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_TEXT_MODEL": "gpt-5-mini",
        },
        today=TODAY,
    )

    notices = models_near_shutdown(settings.configured_models, TODAY)

    assert [(n.variable, n.model_id, n.shutdown) for n in notices] == [
        ("OPENAI_TEXT_MODEL", "gpt-5-mini", date(2026, 12, 11))
    ]
    assert "replace it with gpt-6.1-terra" in str(notices[0])
    assert models_near_shutdown(settings.configured_models, date(2026, 9, 1)) == []  # 101 days away


def test_models_of_providers_not_in_use_are_not_listed() -> None:
    settings = Settings.from_environ(BASE | {"OPENAI_TEXT_MODEL": "gpt-5-mini"})

    assert settings.llm_provider == "offline"
    assert models_near_shutdown(settings.configured_models, TODAY) == []


@pytest.mark.parametrize(
    ("provider", "capability"),
    [
        ("openai", "text"),
        ("anthropic", "text"),
        ("ollama", "text"),
        ("bedrock", "text"),
        ("openai", "image"),
        ("bedrock", "image"),
        ("bedrock", "video"),
    ],
)
def test_every_default_is_a_current_model_with_no_shutdown_date(
    provider: ModelProvider, capability: Capability
) -> None:
    """A default with a shutdown date would stop the service on that day, whatever the tests."""
    found = find_model(default_model(provider, capability))

    assert found is not None
    assert (found.provider, found.capability, found.lifecycle) == (
        provider,
        capability,
        Lifecycle.ACTIVE,
    )
    assert found.shutdown is None


def test_every_replacement_is_a_current_model_for_the_same_work() -> None:
    for info in MODELS:
        for replacement in info.replacements:
            found = find_model(replacement)
            assert found is not None, replacement
            assert found.lifecycle is Lifecycle.ACTIVE, replacement
            assert found.capability == info.capability, replacement
