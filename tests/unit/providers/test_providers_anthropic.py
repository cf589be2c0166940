"""The Anthropic writer against a mock HTTP transport: the exact Messages API request (model,
structured-output schema, timeout) and how it reads answers, refusals and failures."""

from __future__ import annotations

import httpx2
import pytest

from kidstory.models import AgeGroup, Character, StoryText
from kidstory.providers.anthropic_text import AnthropicTextProvider, anthropic_client
from kidstory.providers.base import StoryBrief
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.prompts import PlannedScene, ScenePlan, WrittenStory
from tests.unit.recorded_http import RecordedReplies

LOOK = "a small grey mouse with round pink ears, wearing a red scarf and blue boots"
STYLE = "soft watercolour, warm morning light, pastel palette"
BRIEF = StoryBrief(
    prompt="A brave little mouse goes on an adventure to find a magical cheese",
    age_group=AgeGroup.PRESCHOOL,
    min_pages=2,
)
STORY = WrittenStory(
    title="Milo and the Moon Cheese",
    pages=[f"Milo hops. Hop number {number}!" for number in range(1, 7)],
    character=Character(name="Milo", species="mouse", look=LOOK),
    art_style=STYLE,
)


def message(text: str, stop_reason: str = "end_turn") -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-5-5",
            "content": [{"type": "text", "text": text}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": 903, "output_tokens": 577},
        },
    )


def error(status: int, kind: str, text: str, **headers: str) -> httpx2.Response:
    body = {"type": "error", "error": {"type": kind, "message": text}}
    return httpx2.Response(status, headers=headers, json=body)


def writer(mock: RecordedReplies, base_url: str | None = None) -> AnthropicTextProvider:
    client = anthropic_client(
        api_key="sk-ant-test",
        base_url=base_url,
        timeout_seconds=42,
        http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
    )
    return AnthropicTextProvider(
        "claude-sonnet-5-5", client=client, timeout_seconds=42, repair_attempts=1
    )


@pytest.fixture(autouse=True)
def no_endpoint_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def test_writes_a_story_through_the_messages_api_with_the_story_schema() -> None:
    mock = RecordedReplies(message(STORY.model_dump_json()))

    story = writer(mock).write_story(BRIEF)

    request = mock.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.anthropic.com/v1/messages")
    assert any("sk-ant-test" in value for value in request.headers.values())
    assert request.extensions["timeout"]["read"] == 42
    body = mock.body()
    assert body["model"] == "claude-sonnet-5-5"
    assert body["max_tokens"] >= 4000
    assert "children aged 3 to 5" in body["system"]
    assert [message["role"] for message in body["messages"]] == ["user"]
    assert BRIEF.prompt in body["messages"][0]["content"]
    output_format = body["output_config"]["format"]
    assert output_format["type"] == "json_schema"
    assert output_format["schema"]["required"] == ["title", "pages", "character", "art_style"]
    assert output_format["schema"]["additionalProperties"] is False
    assert story == StoryText(
        title=STORY.title, pages=STORY.pages, character=STORY.character, art_style=STYLE
    )


def test_plans_scenes_that_carry_the_character_sheet() -> None:
    plan = ScenePlan(
        scenes=[PlannedScene(page=3, scene_description="Milo hops.", visual="A mossy log.")]
    )
    mock = RecordedReplies(message(plan.model_dump_json()))
    story = StoryText(
        title=STORY.title, pages=STORY.pages, character=STORY.character, art_style=STYLE
    )

    scenes = writer(mock).plan_scenes(BRIEF, story, "video", 1)

    assert "scenes" in mock.body()["output_config"]["format"]["schema"]["required"]
    assert scenes[0].scene_description == "Milo hops."
    assert LOOK in scenes[0].prompt and STYLE in scenes[0].prompt


def test_the_base_url_setting_points_the_client_at_a_gateway() -> None:
    mock = RecordedReplies(message(STORY.model_dump_json()))

    writer(mock, base_url="https://gateway.example/anthropic").write_story(BRIEF)

    assert str(mock.requests[0].url) == "https://gateway.example/anthropic/v1/messages"


def test_throttling_is_retryable_and_keeps_retry_after() -> None:
    mock = RecordedReplies(
        error(
            429,
            "rate_limit_error",
            "Number of requests has exceeded your rate limit",
            **{"retry-after": "12"},
        )
    )

    with pytest.raises(ProviderThrottled) as throttled:
        writer(mock).write_story(BRIEF)

    assert throttled.value.retry_after_seconds == 12
    assert len(mock.requests) == 1


def test_an_overloaded_api_is_an_outage() -> None:
    mock = RecordedReplies(error(529, "overloaded_error", "Overloaded"))

    with pytest.raises(ProviderUnavailable, match="529"):
        writer(mock).write_story(BRIEF)


def test_a_server_error_is_an_outage() -> None:
    with pytest.raises(ProviderUnavailable, match="500"):
        writer(RecordedReplies(error(500, "api_error", "Internal server error"))).write_story(BRIEF)


def test_a_bad_request_is_not_retried() -> None:
    mock = RecordedReplies(error(400, "invalid_request_error", "model: unknown model"))

    with pytest.raises(ProviderError, match="unknown model") as failure:
        writer(mock).write_story(BRIEF)

    assert not failure.value.retryable


def test_a_slow_answer_times_out() -> None:
    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderTimeout):
        writer(RecordedReplies(too_slow)).write_story(BRIEF)


def test_a_refusal_is_content_refused_and_not_asked_again() -> None:
    mock = RecordedReplies(message("I can't write that story.", stop_reason="refusal"))

    with pytest.raises(ContentRefused):
        writer(mock).write_story(BRIEF)

    assert len(mock.requests) == 1


def test_malformed_json_is_repaired_by_asking_again() -> None:
    mock = RecordedReplies(
        message('{"title": "Milo", "pages": ['), message(STORY.model_dump_json())
    )

    story = writer(mock).write_story(BRIEF)

    assert story.title == STORY.title
    assert "Invalid JSON" in mock.body(1)["messages"][0]["content"]


def test_malformed_json_twice_fails_without_retries() -> None:
    mock = RecordedReplies(message("Once upon a time..."), message('{"title": "Milo"}'))

    with pytest.raises(ProviderError, match="no usable answer in 2 tries") as failure:
        writer(mock).write_story(BRIEF)

    assert not failure.value.retryable
    assert len(mock.requests) == 2
