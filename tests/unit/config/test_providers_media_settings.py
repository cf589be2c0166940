"""Choosing the picture and clip providers by settings: defaults from the registry, retired and
unsuitable models refused at start-up with what to use instead, the OpenAI key read from SSM for
pictures too, and only the chosen provider's SDK loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from pytest_socket import enable_socket

from kidstory.config.errors import SettingsError
from kidstory.config.load import get_settings
from kidstory.config.models import Lifecycle, default_model, find_model
from kidstory.config.settings import Settings
from kidstory.providers import image_provider, video_provider
from kidstory.providers.bedrock_image import BedrockImageProvider
from kidstory.providers.bedrock_video import BedrockVideoProvider
from kidstory.providers.offline import OfflineImageProvider, OfflineVideoProvider
from kidstory.providers.openai_image import OpenAIImageProvider

ROOT = Path(__file__).resolve().parents[3]
BASE = {"TABLE_NAME": "stories", "MEDIA_BUCKET": "media"}


@pytest.mark.parametrize(
    ("environ", "kind", "model"),
    [
        ({}, OfflineImageProvider, "offline-painter-1"),
        (
            {"IMAGE_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test"},
            OpenAIImageProvider,
            "gpt-image-2.6-sunburst",
        ),
        ({"IMAGE_PROVIDER": "bedrock"}, BedrockImageProvider, "stability.stable-image-core-v1:1"),
        (
            {
                "IMAGE_PROVIDER": "bedrock",
                "BEDROCK_IMAGE_MODEL": "stability.stable-image-ultra-v1:1",
            },
            BedrockImageProvider,
            "stability.stable-image-ultra-v1:1",
        ),
    ],
)
def test_image_provider_chooses_the_illustrator(environ: dict[str, str], kind: type, model: str):
    illustrator = image_provider(Settings.from_environ(BASE | environ))

    assert (type(illustrator), illustrator.model) == (kind, model)


@pytest.mark.parametrize(
    ("environ", "kind", "model"),
    [
        ({}, OfflineVideoProvider, "offline-animator-1"),
        ({"VIDEO_PROVIDER": "bedrock"}, BedrockVideoProvider, "luma.ray-v2:0"),
    ],
)
def test_video_provider_chooses_the_animator(environ: dict[str, str], kind: type, model: str):
    animator = video_provider(Settings.from_environ(BASE | environ))

    assert (type(animator), animator.model) == (kind, model)


def test_bedrock_media_default_to_the_region_that_serves_them() -> None:
    settings = Settings.from_environ(BASE)

    assert (settings.bedrock_image_region, settings.bedrock_video_region) == (
        "us-west-2",
        "us-west-2",
    )
    assert settings.video_poll_seconds == 30


@pytest.mark.parametrize(
    ("capability", "provider"), [("image", "openai"), ("image", "bedrock"), ("video", "bedrock")]
)
def test_every_media_default_is_a_current_model_for_that_work(capability, provider) -> None:
    found = find_model(default_model(provider, capability))

    assert found is not None
    assert (found.provider, found.capability, found.lifecycle) == (
        provider,
        capability,
        Lifecycle.ACTIVE,
    )


def test_the_registry_records_what_each_media_model_accepts() -> None:
    luma = find_model("luma.ray-v2:0")
    stability = find_model("stability.stable-image-core-v1:1")
    gpt_image = find_model("gpt-image-2.6-sunburst")

    assert luma is not None and luma.start_image and luma.max_video_seconds == 9
    assert "1:1" in luma.sizes
    assert stability is not None and stability.seed and "1:1" in stability.sizes
    assert gpt_image is not None and not gpt_image.seed and "1024x1024" in gpt_image.sizes
    assert gpt_image.reference_images == 16


@pytest.mark.parametrize(
    ("environ", "variable", "replacement"),
    [
        (
            {"IMAGE_PROVIDER": "openai", "OPENAI_API_KEY": "sk", "OPENAI_IMAGE_MODEL": "dall-e-3"},
            "OPENAI_IMAGE_MODEL",
            "gpt-image-2.6-sunburst",
        ),
        (
            {"IMAGE_PROVIDER": "bedrock", "BEDROCK_IMAGE_MODEL": "amazon.nova-canvas-v1:0"},
            "BEDROCK_IMAGE_MODEL",
            "stability.stable-image-core-v1:1",
        ),
        (
            {"VIDEO_PROVIDER": "bedrock", "BEDROCK_VIDEO_MODEL": "amazon.nova-reel-v1:1"},
            "BEDROCK_VIDEO_MODEL",
            "luma.ray-v2:0",
        ),
        ({"VIDEO_PROVIDER": "openai"}, "VIDEO_PROVIDER", "luma.ray-v2:0"),
    ],
)
def test_a_retired_media_model_stops_start_up_naming_what_to_use(environ, variable, replacement):
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ(BASE | environ)

    message = str(raised.value)
    assert f"{variable}:" in message and "retired" in message and replacement in message


def test_sora_is_refused_pointing_at_bedrock() -> None:
    with pytest.raises(SettingsError, match=r"Sora.*2026-09-24.*set VIDEO_PROVIDER=bedrock"):
        Settings.from_environ(BASE | {"VIDEO_PROVIDER": "openai"})


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        (
            {"IMAGE_PROVIDER": "bedrock", "BEDROCK_IMAGE_MODEL": "luma.ray-v2:0"},
            "BEDROCK_IMAGE_MODEL: luma.ray-v2:0 makes video clips, not pictures",
        ),
        (
            {
                "IMAGE_PROVIDER": "bedrock",
                "BEDROCK_IMAGE_MODEL": "amazon.titan-image-generator-v2:0",
            },
            "BEDROCK_IMAGE_MODEL: amazon.titan-image-generator-v2:0 is not one of the models",
        ),
        (
            {"VIDEO_PROVIDER": "bedrock", "BEDROCK_VIDEO_MODEL": "twelvelabs.pegasus-1-2-v1:0"},
            "BEDROCK_VIDEO_MODEL: twelvelabs.pegasus-1-2-v1:0 is not one of the models",
        ),
        ({"IMAGE_PROVIDER": "midjourney"}, "IMAGE_PROVIDER"),
    ],
)
def test_a_model_the_provider_cannot_use_is_refused_by_name(environ, problem) -> None:
    with pytest.raises(SettingsError, match=problem):
        Settings.from_environ(BASE | environ)


def test_media_models_in_use_are_watched_for_their_shutdown() -> None:
    settings = Settings.from_environ(
        BASE
        | {"IMAGE_PROVIDER": "openai", "OPENAI_API_KEY": "sk", "VIDEO_PROVIDER": "bedrock"}
        | {"OPENAI_IMAGE_MODEL": "gpt-image-1-mini"},
        today=date(2026, 11, 25),  # before its shutdown on 2026-12-01
    )

    assert settings.configured_models == {
        "OPENAI_IMAGE_MODEL": "gpt-image-1-mini",
        "BEDROCK_VIDEO_MODEL": "luma.ray-v2:0",
    }


# The OpenAI key for pictures, from SSM


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    for name in ("LLM_PROVIDER", "IMAGE_PROVIDER", "OPENAI_API_KEY", "OPENAI_API_KEY_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    parameters.clear_caches()
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    parameters.clear_caches()


def test_the_picture_function_reads_the_openai_key_from_its_parameter(environment) -> None:
    with mock_aws():
        boto3.client("ssm").put_parameter(
            Name="/kidstory/dev/openai-api-key", Value="sk-images", Type="SecureString"
        )
        environment.setenv("IMAGE_PROVIDER", "openai")
        environment.setenv("OPENAI_API_KEY_PARAMETER", "/kidstory/dev/openai-api-key")

        settings = get_settings()

    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-images"


def test_a_missing_picture_key_parameter_stops_start_up_naming_it(environment) -> None:
    with mock_aws():
        environment.setenv("IMAGE_PROVIDER", "openai")
        environment.setenv("OPENAI_API_KEY_PARAMETER", "/kidstory/dev/no-such-key")

        with pytest.raises(SettingsError, match=r"OPENAI_API_KEY_PARAMETER.*no-such-key"):
            get_settings()


# Cold start: only the chosen provider's SDK


@pytest.mark.parametrize(
    ("environ", "loaded"),
    [
        ({"IMAGE_PROVIDER": "bedrock", "VIDEO_PROVIDER": "bedrock"}, []),
        ({"IMAGE_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test"}, ["openai"]),
    ],
)
def test_only_the_chosen_media_providers_sdk_is_imported(environ, loaded) -> None:
    enable_socket()  # the child process needs none, but this keeps pytest-socket out of it
    code = (
        "import sys, json; from kidstory.providers import image_provider, video_provider; "
        "from kidstory.config.load import get_settings; s = get_settings(); "
        "image_provider(s); video_provider(s); "
        "print(json.dumps([m for m in ('openai', 'anthropic', 'langgraph') if m in sys.modules]))"
    )
    env = (
        {key: value for key, value in os.environ.items() if not key.startswith("OPENAI_")}
        | BASE
        | environ
        | {"PYTHONPATH": str(ROOT / "layers/kidstory/python"), "AWS_DEFAULT_REGION": "us-east-1"}
    )

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.strip().splitlines()[-1]) == loaded
