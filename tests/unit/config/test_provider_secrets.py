"""Provider keys kept in SSM Parameter Store: read at cold start into the settings, with a clear
error naming the parameter when it cannot be read; plain variables (a local `.env`) still win."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws
from pytest_socket import enable_socket

from kidstory.config.errors import SettingsError
from kidstory.config.load import get_settings
from kidstory.config.secrets import with_provider_keys

ROOT = Path(__file__).resolve().parents[3]
BASE = {"TABLE_NAME": "t", "MEDIA_BUCKET": "b"}
PARAMETER = "/kidstory/dev/openai-api-key"


@pytest.fixture
def ssm() -> Iterator[object]:
    """Parameter Store on moto; Powertools' cached client and values do not outlive the test."""
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("ssm")
    parameters.clear_caches()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean process environment for get_settings, read afresh in each test."""
    for name in (
        "LLM_PROVIDER",
        "OPENAI_API_KEY",
        "OPENAI_API_KEY_PARAMETER",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_API_KEY_PARAMETER",
        "OLLAMA_API_KEY",
        "OLLAMA_API_KEY_PARAMETER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in BASE.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("provider", "name", "field"),
    [
        ("openai", "/kidstory/dev/openai-api-key", "openai_api_key"),
        ("anthropic", "kidstory-anthropic-key", "anthropic_api_key"),
        ("ollama", "/kidstory/dev/ollama-gateway-key", "ollama_api_key"),
    ],
)
def test_the_key_is_read_from_its_secure_string_parameter(ssm, environment, provider, name, field):
    ssm.put_parameter(Name=name, Value="sk-from-ssm\n", Type="SecureString")
    environment.setenv("LLM_PROVIDER", provider)
    environment.setenv(f"{provider.upper()}_API_KEY_PARAMETER", name)

    settings = get_settings()

    assert getattr(settings, field).get_secret_value() == "sk-from-ssm"
    assert "sk-from-ssm" not in repr(settings)


def test_a_missing_parameter_stops_start_up_naming_it(ssm, environment):
    environment.setenv("LLM_PROVIDER", "openai")
    environment.setenv("OPENAI_API_KEY_PARAMETER", PARAMETER)

    with pytest.raises(SettingsError) as raised:
        get_settings()

    message = str(raised.value)
    assert "OPENAI_API_KEY_PARAMETER" in message
    assert repr(PARAMETER) in message
    assert "ParameterNotFound" in message


def test_an_unreadable_parameter_is_tried_again_at_the_next_invocation(ssm, environment):
    environment.setenv("LLM_PROVIDER", "openai")
    environment.setenv("OPENAI_API_KEY_PARAMETER", PARAMETER)
    with pytest.raises(SettingsError):
        get_settings()

    ssm.put_parameter(Name=PARAMETER, Value="sk-late", Type="SecureString")

    assert get_settings().openai_api_key.get_secret_value() == "sk-late"


def test_a_plain_key_wins_and_nothing_is_read(ssm, environment):
    environment.setenv("LLM_PROVIDER", "openai")
    environment.setenv("OPENAI_API_KEY", "sk-from-dotenv")
    environment.setenv("OPENAI_API_KEY_PARAMETER", "/no/such/parameter")

    assert get_settings().openai_api_key.get_secret_value() == "sk-from-dotenv"


def test_only_the_chosen_providers_parameter_is_read(ssm, environment):
    environment.setenv("LLM_PROVIDER", "anthropic")
    environment.setenv("ANTHROPIC_API_KEY", "sk-ant")
    environment.setenv("OPENAI_API_KEY_PARAMETER", "/no/such/parameter")

    assert get_settings().llm_provider == "anthropic"


def test_a_key_once_read_is_served_from_the_cache(ssm):
    ssm.put_parameter(Name=PARAMETER, Value="sk-first", Type="SecureString")
    environ = BASE | {"LLM_PROVIDER": "openai", "OPENAI_API_KEY_PARAMETER": PARAMETER}
    assert with_provider_keys(environ)["OPENAI_API_KEY"] == "sk-first"

    ssm.delete_parameter(Name=PARAMETER)  # a second call to SSM would now fail

    assert with_provider_keys(environ)["OPENAI_API_KEY"] == "sk-first"


def test_without_a_key_or_its_parameter_the_error_names_both(environment):
    environment.setenv("LLM_PROVIDER", "anthropic")

    with pytest.raises(
        SettingsError, match=r"ANTHROPIC_API_KEY: required .*ANTHROPIC_API_KEY_PARAMETER"
    ):
        get_settings()


def test_the_parameters_utility_loads_only_when_a_parameter_is_named() -> None:
    enable_socket()  # the child process needs none; this keeps pytest-socket out of it
    code = (
        "import sys, json; from kidstory.config.load import get_settings; get_settings(); "
        "print(json.dumps('aws_lambda_powertools.utilities.parameters' in sys.modules))"
    )
    env = (
        {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("LLM_", "OPENAI_", "ANTHROPIC_"))
        }
        | BASE
        | {"PYTHONPATH": str(ROOT / "layers/kidstory/python")}
    )

    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.strip().splitlines()[-1]) is False


def test_the_api_reads_the_media_signing_key_at_its_first_signed_link(ssm, environment):
    from api.media_access import MediaAccess
    from kidstory.media_links import new_signing_key

    private_pem, _ = new_signing_key()
    ssm.put_parameter(
        Name="/kidstory/dev/media-signing-key", Value=private_pem, Type="SecureString"
    )
    for name, value in {
        "MEDIA_BASE_URL": "https://d111.cloudfront.net",
        "MEDIA_SIGNING_KEY_ID": "K2JCJMDEHXQW5F",
        "MEDIA_SIGNING_KEY_PARAMETER": "/kidstory/dev/media-signing-key",
    }.items():
        environment.setenv(name, value)

    settings = get_settings()  # at cold start: no key read
    assert settings.media_signing_key is None
    url = MediaAccess(settings).cdn_url("stories/s/a.png")

    assert url.startswith("https://d111.cloudfront.net/stories/s/a.png?Expires=")
    assert "Key-Pair-Id=K2JCJMDEHXQW5F" in url


def test_an_unreadable_media_signing_key_is_named(ssm, environment):
    from api.media_access import MediaAccess

    for name, value in {
        "MEDIA_BASE_URL": "https://d111.cloudfront.net",
        "MEDIA_SIGNING_KEY_ID": "K2JCJMDEHXQW5F",
        "MEDIA_SIGNING_KEY_PARAMETER": "/kidstory/dev/missing",
    }.items():
        environment.setenv(name, value)

    with pytest.raises(SettingsError, match=r"MEDIA_SIGNING_KEY_PARAMETER.*/kidstory/dev/missing"):
        MediaAccess(get_settings()).cdn_url("stories/s/a.png")
