"""The API's answer when a provider moderates the idea: the real FastAPI app, the real story
library on moto, and OpenAI's moderation on a mock HTTP transport. A refused idea is a 422 with
the provider's reason, a moderation outage a 503 (never an unchecked story), and neither records
a job, charges the caller or starts a workflow. Also: the API and the story writer are wired to
the moderation the settings choose."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx2
import pytest
from fastapi.testclient import TestClient
from pytest_socket import disable_socket, enable_socket

from api.app import create_app
from api.deps import Services
from kidstory import wiring
from kidstory.config.settings import Settings
from kidstory.library import StoryLibrary
from kidstory.media_store import MediaStore
from kidstory.observability import metrics
from kidstory.providers.bedrock_moderation import BedrockGuardrailModerator
from kidstory.providers.openai_moderation import OpenAIModerator
from kidstory.providers.openai_text import openai_client
from kidstory.safety import LayeredModerator, OfflineModerator
from kidstory.store.story_table import StoryTable
from tests.unit.conftest import BUCKET, TABLE
from tests.unit.providers.test_moderation import error, moderation
from tests.unit.recorded_http import RecordedReplies

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:StoryWorkflow"
GENERATE = "/api/v1/stories/generate"
IDEA = {"prompt": "A dragon looks for a friend", "age_group": "6-8", "num_illustrations": 2}


class Starter:
    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, job_id: str) -> str:
        self.started.append(job_id)
        return f"{STATE_MACHINE}:{job_id}"


def api_settings(**variables: str) -> Settings:
    """The API's settings: its table, bucket and state machine (on moto), and `variables`."""
    environ = {"TABLE_NAME": TABLE, "MEDIA_BUCKET": BUCKET, "STATE_MACHINE_ARN": STATE_MACHINE}
    return Settings.from_environ(environ | variables)


@pytest.fixture
def settings(aws: None) -> Settings:
    """The API's settings, its table and bucket made on moto."""
    return api_settings()


class Service:
    """The app, with the story library using OpenAI's moderation on `mock`."""

    def __init__(self, settings: Settings, mock: RecordedReplies) -> None:
        client = openai_client(
            api_key="sk-test",
            base_url=None,
            timeout_seconds=60,
            http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
        )
        moderator = LayeredModerator(
            OfflineModerator(),
            OpenAIModerator("omni-moderation-latest", client=client, timeout_seconds=7),
        )
        self.starter = Starter()
        library = StoryLibrary(
            StoryTable(boto3.client("dynamodb"), TABLE),
            self.starter,
            MediaStore(boto3.client("s3"), BUCKET),
            per_minute=100,
            daily=2000,
            moderator=moderator,
        )
        # the app's event loop needs a local socket pair; still no network sockets
        enable_socket()
        disable_socket(allow_unix_socket=True)
        self.http = TestClient(create_app(settings, library=library), raise_server_exceptions=False)

    def items(self) -> list[dict[str, Any]]:
        """Everything in the table: jobs, charges, idempotency keys."""
        return list(boto3.client("dynamodb").scan(TableName=TABLE)["Items"])


def test_an_idea_the_provider_flags_is_refused_with_its_reason_and_costs_nothing(
    settings: Settings,
) -> None:
    mock = RecordedReplies(moderation(("harassment",)))
    service = Service(settings, mock)

    response = service.http.post(GENERATE, json=IDEA)

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "content_policy",
                "loc": ["body", "prompt"],
                "msg": "It mentions bullying or harassment, which we do not put in children's "
                "stories. Please try a different idea.",
            }
        ]
    }
    assert mock.body()["input"] == IDEA["prompt"]
    assert (service.items(), service.starter.started) == ([], [])


def test_the_word_list_refuses_first_without_asking_the_provider(
    settings: Settings,
) -> None:
    mock = RecordedReplies()  # any request would fail: no answer is queued
    service = Service(settings, mock)

    response = service.http.post(GENERATE, json=IDEA | {"prompt": "A story about a bloody gun"})

    assert response.status_code == 422
    assert 'It mentions violence ("bloody")' in response.json()["detail"][0]["msg"]
    assert mock.requests == []


@pytest.mark.parametrize(
    ("answer", "retry_after"),
    [
        (error(500, "The server had an error", "server_error"), None),
        (error(503, "Slow down", "server_overloaded"), None),
        (error(429, "Rate limit reached", "rate_limit_exceeded", **{"retry-after": "2.5"}), "3"),
        (error(401, "Incorrect API key provided", "invalid_api_key"), None),
    ],
)
def test_a_moderation_outage_is_a_503_and_starts_nothing(
    settings: Settings, answer: httpx2.Response, retry_after: str | None
) -> None:
    service = Service(settings, RecordedReplies(answer))

    response = service.http.post(GENERATE, json=IDEA)

    assert response.status_code == 503
    assert response.json() == {
        "detail": "The idea could not be checked for safety just now, so no story was started. "
        "Please try again in a moment."
    }
    assert response.headers.get("retry-after") == retry_after
    assert (service.items(), service.starter.started) == ([], [])


def test_a_slow_moderation_is_a_503(settings: Settings) -> None:
    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    service = Service(settings, RecordedReplies(too_slow))

    assert service.http.post(GENERATE, json=IDEA).status_code == 503
    assert service.starter.started == []


def test_an_idea_both_checks_allow_starts_the_story(
    settings: Settings,
) -> None:
    service = Service(settings, RecordedReplies(moderation()))

    response = service.http.post(GENERATE, json=IDEA)

    assert response.status_code == 202, response.text
    assert service.starter.started == [response.json()["job_id"]]


def test_the_api_counts_stories_asked_for_and_moderation_throttles(
    settings: Settings,
) -> None:
    throttled = error(429, "Rate limit reached", "rate_limit_exceeded", **{"retry-after": "1"})
    service = Service(settings, RecordedReplies(throttled, moderation()))
    metrics.clear_metrics()

    refused = service.http.post(GENERATE, json=IDEA)
    accepted = service.http.post(GENERATE, json=IDEA)

    assert (refused.status_code, accepted.status_code) == (503, 202)
    assert metrics.metric_set["ProviderThrottled"]["Value"] == [1]
    assert metrics.metric_set["StoriesRequested"]["Value"] == [1]
    metrics.clear_metrics()


# Wiring: the moderation the settings choose reaches the API and the story writer


def test_the_api_checks_ideas_with_the_chosen_guardrail_as_input(aws: None) -> None:
    settings = api_settings(
        MODERATION_PROVIDER="bedrock",
        BEDROCK_GUARDRAIL_ID="gr7k2mq9x4ab",
        BEDROCK_GUARDRAIL_VERSION="4",
    )

    moderator = Services(settings).library._moderator

    assert isinstance(moderator, LayeredModerator)
    baseline, provider = moderator.moderators
    assert isinstance(baseline, OfflineModerator)
    assert isinstance(provider, BedrockGuardrailModerator)
    assert (provider.guardrail, provider.version, provider.source) == ("gr7k2mq9x4ab", "4", "INPUT")


@pytest.fixture
def story_writer(aws: None) -> Iterator[None]:
    """kidstory.wiring keeps the story writer it builds for the process; not this test's."""
    yield
    for cached in (wiring.story_table, wiring.media_store, wiring.story_writing):
        cached.cache_clear()


def test_the_story_writer_checks_pages_with_the_chosen_moderation_as_output(
    story_writer: None,
) -> None:
    settings = Settings.from_environ(
        {
            "TABLE_NAME": TABLE,
            "MEDIA_BUCKET": BUCKET,
            "MODERATION_PROVIDER": "bedrock",
            "BEDROCK_GUARDRAIL_ID": "gr7k2mq9x4ab",
        }
    )

    moderator = wiring.story_writing(settings)._moderator()

    assert isinstance(moderator, LayeredModerator)
    provider = moderator.moderators[1]
    assert isinstance(provider, BedrockGuardrailModerator)
    assert (provider.version, provider.source) == ("DRAFT", "OUTPUT")


def test_the_word_list_alone_is_the_default(settings: Settings) -> None:
    assert isinstance(Services(settings).library._moderator, OfflineModerator)
