"""The Ollama writer against a mock HTTP transport at Ollama's OpenAI-compatible `/v1`: the
exact chat-completions request (model, response_format schema, timeout) and its answers."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from kidstory.models import AgeGroup, Character
from kidstory.providers.base import StoryBrief
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.ollama_text import OllamaTextProvider, ollama_client
from kidstory.providers.prompts import WrittenStory
from tests.unit.recorded_http import RecordedReplies

LOOK = "a tall orange giraffe with brown patches, wearing a green bow tie"
BRIEF = StoryBrief(
    prompt="A shy giraffe learns to dance", age_group=AgeGroup.MIDDLE_GRADE, min_pages=2
)
STORY = WrittenStory(
    title="Gina Dances",
    pages=[f"Gina practised her steps for the {number}th time." for number in range(1, 11)],
    character=Character(name="Gina", species="giraffe", look=LOOK),
    art_style="bright gouache, golden afternoon light",
)


def completion(content: str | None, finish_reason: str = "stop", **message: Any) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "chatcmpl-412",
            "object": "chat.completion",
            "created": 1764061200,
            "model": "gemma4:e4b",
            "system_fingerprint": "fp_ollama",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, **message},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {"prompt_tokens": 700, "completion_tokens": 900, "total_tokens": 1600},
        },
    )


def writer(mock: RecordedReplies, base_url: str = "http://localhost:11434") -> OllamaTextProvider:
    client = ollama_client(
        base_url,
        timeout_seconds=42,
        http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
    )
    return OllamaTextProvider("gemma4:e4b", client=client, timeout_seconds=42, repair_attempts=1)


def test_writes_a_story_through_the_v1_chat_completions_api() -> None:
    mock = RecordedReplies(completion(STORY.model_dump_json()))

    story = writer(mock).write_story(BRIEF)

    request = mock.requests[0]
    assert str(request.url) == "http://localhost:11434/v1/chat/completions"
    assert request.extensions["timeout"]["read"] == 42
    body = mock.body()
    assert body["model"] == "gemma4:e4b"
    assert [message["role"] for message in body["messages"]] == ["system", "user"]
    assert "children aged 9 to 12" in body["messages"][0]["content"]
    assert BRIEF.prompt in body["messages"][1]["content"]
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "WrittenStory"
    assert response_format["json_schema"]["schema"]["required"] == [
        "title",
        "pages",
        "character",
        "art_style",
        "scenes",
    ]
    assert story.character.look == LOOK
    assert len(story.pages) == 10


@pytest.mark.parametrize(
    "base_url", ["http://ollama.internal:11434/", "http://ollama.internal:11434/v1"]
)
def test_the_base_url_works_with_or_without_v1(base_url: str) -> None:
    mock = RecordedReplies(completion(STORY.model_dump_json()))

    writer(mock, base_url).write_story(BRIEF)

    assert str(mock.requests[0].url) == "http://ollama.internal:11434/v1/chat/completions"


def test_a_server_that_is_not_running_is_an_outage() -> None:
    def refused(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("Connection refused", request=request)

    with pytest.raises(ProviderUnavailable, match="could not be reached"):
        writer(RecordedReplies(refused)).write_story(BRIEF)


def test_a_server_error_is_an_outage() -> None:
    failure = httpx2.Response(
        500, json={"error": {"message": "llama runner process has terminated"}}
    )

    with pytest.raises(ProviderUnavailable, match="500"):
        writer(RecordedReplies(failure)).write_story(BRIEF)


def test_a_model_that_was_not_pulled_is_not_retried() -> None:
    missing = httpx2.Response(
        404, json={"error": {"message": 'model "gemma4:e4b" not found, try pulling it first'}}
    )

    with pytest.raises(ProviderError, match="try pulling it first") as failure:
        writer(RecordedReplies(missing)).write_story(BRIEF)

    assert not failure.value.retryable


def test_a_slow_answer_times_out() -> None:
    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderTimeout):
        writer(RecordedReplies(too_slow)).write_story(BRIEF)


def test_a_content_filter_stop_is_content_refused() -> None:
    with pytest.raises(ContentRefused):
        writer(RecordedReplies(completion("", finish_reason="content_filter"))).write_story(BRIEF)


def test_malformed_json_is_repaired_by_asking_again() -> None:
    mock = RecordedReplies(completion('{"title": "Gina",'), completion(STORY.model_dump_json()))

    story = writer(mock).write_story(BRIEF)

    assert story.title == "Gina Dances"
    assert "Invalid JSON" in mock.body(1)["messages"][1]["content"]


def test_an_answer_cut_off_twice_fails_without_retries() -> None:
    cut = completion('{"title": "Gina", "pages": ["Gina', finish_reason="length")
    mock = RecordedReplies(cut, cut)

    with pytest.raises(ProviderError, match="cut off") as failure:
        writer(mock).write_story(BRIEF)

    assert not failure.value.retryable
    assert len(mock.requests) == 2


@pytest.mark.parametrize(
    ("key", "sent"), [(None, "Bearer ollama"), ("gw-secret", "Bearer gw-secret")]
)
def test_a_key_is_sent_only_when_a_gateway_in_front_of_ollama_needs_one(
    key: str | None, sent: str
) -> None:
    mock = RecordedReplies(completion(STORY.model_dump_json()))
    client = ollama_client(
        "https://llm-gateway.example.org/ollama",
        timeout_seconds=42,
        api_key=key,
        http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
    )

    OllamaTextProvider(
        "gemma4:e4b", client=client, timeout_seconds=42, repair_attempts=1
    ).write_story(BRIEF)

    assert mock.requests[0].headers["authorization"] == sent
    assert str(mock.requests[0].url) == "https://llm-gateway.example.org/ollama/v1/chat/completions"
