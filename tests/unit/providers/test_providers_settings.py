"""Choosing a text provider by settings: a missing key is named at start-up, defaults come from
the registry, and only the chosen provider's SDK is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_socket import enable_socket

from kidstory.config.errors import SettingsError
from kidstory.config.models import default_model
from kidstory.config.settings import Settings
from kidstory.providers import text_provider
from kidstory.providers.anthropic_text import AnthropicTextProvider
from kidstory.providers.bedrock_text import BedrockTextProvider
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.providers.ollama_text import OllamaTextProvider
from kidstory.providers.openai_text import OpenAITextProvider

ROOT = Path(__file__).resolve().parents[3]
BASE = {"TABLE_NAME": "stories", "MEDIA_BUCKET": "media"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_provider_chosen_without_its_key_is_refused_naming_the_variable(provider: str) -> None:
    with pytest.raises(SettingsError, match=f"{provider.upper()}_API_KEY: required"):
        Settings.from_environ(BASE | {"LLM_PROVIDER": provider})


def test_an_empty_key_counts_as_missing() -> None:
    with pytest.raises(SettingsError, match="OPENAI_API_KEY"):
        Settings.from_environ(BASE | {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": " "})


def test_bedrock_and_ollama_need_no_key() -> None:
    for provider in ("bedrock", "ollama"):
        assert Settings.from_environ(BASE | {"LLM_PROVIDER": provider}).llm_provider == provider


def test_models_default_to_the_registry_and_can_be_chosen() -> None:
    settings = Settings.from_environ(BASE | {"OLLAMA_TEXT_MODEL": "llama3.2"})

    assert settings.openai_text_model == default_model("openai", "text")
    assert settings.anthropic_text_model == default_model("anthropic", "text")
    assert settings.bedrock_text_model == default_model("bedrock", "text")
    assert settings.ollama_text_model == "llama3.2"


def test_keys_are_not_shown_when_settings_are_printed() -> None:
    settings = Settings.from_environ(
        BASE | {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-secret-value"}
    )

    assert "sk-secret-value" not in repr(settings)


def test_pictures_from_openai_need_the_openai_key() -> None:
    with pytest.raises(SettingsError, match="OPENAI_API_KEY: required when IMAGE_PROVIDER=openai"):
        Settings.from_environ(BASE | {"IMAGE_PROVIDER": "openai"})


@pytest.mark.parametrize(
    ("environ", "kind"),
    [
        ({}, OfflineTextProvider),
        ({"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test"}, OpenAITextProvider),
        ({"LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk-ant"}, AnthropicTextProvider),
        ({"LLM_PROVIDER": "ollama"}, OllamaTextProvider),
        ({"LLM_PROVIDER": "bedrock"}, BedrockTextProvider),
    ],
)
def test_llm_provider_chooses_the_writer(environ: dict[str, str], kind: type) -> None:
    settings = Settings.from_environ(BASE | environ | {"PROVIDER_TIMEOUT_SECONDS": "30"})

    writer = text_provider(settings)

    assert type(writer) is kind
    if kind is not OfflineTextProvider:
        assert writer.model == settings.configured_models[f"{writer.name.upper()}_TEXT_MODEL"]


def test_only_the_chosen_providers_sdk_is_imported() -> None:
    enable_socket()  # the child process needs none, but this keeps pytest-socket out of it
    code = (
        "import sys, json; from kidstory.providers import text_provider; "
        "from kidstory.config.load import get_settings; text_provider(get_settings()); "
        "print(json.dumps([m for m in ('openai', 'anthropic', 'langgraph') if m in sys.modules]))"
    )
    env = os.environ | {
        "PYTHONPATH": str(ROOT / "layers/kidstory/python"),
        "TABLE_NAME": "t",
        "MEDIA_BUCKET": "b",
        "LLM_PROVIDER": "bedrock",
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-1"},
            "https://gateway.example/openai/v1/",
        ),
        (
            {"LLM_PROVIDER": "anthropic", "ANTHROPIC_API_KEY": "sk-ant-1"},
            "https://gateway.example/anthropic/",
        ),
        ({"LLM_PROVIDER": "ollama"}, "https://gateway.example/ollama/v1/"),
    ],
)
def test_the_writers_client_goes_where_the_base_url_setting_says(
    environ: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for sdk_variable in ("OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):  # the SDKs' own fallbacks
        monkeypatch.delenv(sdk_variable, raising=False)
    gateways = {
        "OPENAI_BASE_URL": "https://gateway.example/openai/v1",
        "ANTHROPIC_BASE_URL": "https://gateway.example/anthropic",
        "OLLAMA_BASE_URL": "https://gateway.example/ollama",
    }

    writer = text_provider(Settings.from_environ(BASE | environ | gateways))

    assert str(writer._client.base_url) == expected  # type: ignore[attr-defined]
