"""Settings are validated at start-up, with errors that name the environment variable."""

from __future__ import annotations

import pytest

from kidstory.config.errors import SettingsError
from kidstory.config.settings import Settings

BASE = {"TABLE_NAME": "stories", "MEDIA_BUCKET": "media"}


def test_reads_upper_case_variables() -> None:
    settings = Settings.from_environ(BASE | {"MAX_REQUEST_SIZE_MB": "2", "CORS_ORIGINS": "a, b"})

    assert settings.max_request_bytes == 2 * 1024 * 1024
    assert settings.cors_origin_list == ["a", "b"]
    assert settings.api_key == ""


def test_a_missing_variable_is_named() -> None:
    with pytest.raises(SettingsError, match="TABLE_NAME: Field required"):
        Settings.from_environ({"MEDIA_BUCKET": "media"})


def test_an_unavailable_provider_is_named() -> None:
    with pytest.raises(SettingsError, match="LLM_PROVIDER"):
        Settings.from_environ(BASE | {"LLM_PROVIDER": "gpt-2"})


def test_the_api_needs_the_state_machine() -> None:
    with pytest.raises(SettingsError, match="STATE_MACHINE_ARN"):
        Settings.from_environ(BASE).require_state_machine_arn()


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"MEDIA_SIGNING_KEY_ID": "K2JCJMDEHXQW5F"}, "MEDIA_SIGNING_KEY:"),
        ({"MEDIA_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----"}, "MEDIA_SIGNING_KEY_ID:"),
        ({"MEDIA_SIGNING_KEY_PARAMETER": "/kidstory/dev/key"}, "MEDIA_SIGNING_KEY_ID:"),
    ],
)
def test_the_media_signing_key_and_its_id_go_together(given: dict, missing: str) -> None:
    with pytest.raises(SettingsError, match=missing):
        Settings.from_environ(BASE | given)


def test_the_body_limit_is_at_most_what_lambda_can_be_given() -> None:
    settings = Settings.from_environ(BASE | {"MAX_REQUEST_SIZE_MB": "10"})  # the seed's example

    assert settings.max_request_bytes == 4 * 1024 * 1024
    assert Settings.from_environ(BASE).max_request_bytes == 4 * 1024 * 1024
