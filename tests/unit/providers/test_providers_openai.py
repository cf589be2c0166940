"""The OpenAI writer against a mock HTTP transport: the exact request it sends (Responses API,
structured-output schema, timeout) and how it reads answers and failures."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from kidstory.models import AgeGroup, Character, StoryText
from kidstory.providers.base import StoryBrief
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.openai_text import OpenAITextProvider, openai_client
from kidstory.providers.prompts import PlannedScene, ScenePlan, WrittenStory
from tests.unit.recorded_http import RecordedReplies

LOOK = "a small grey mouse with round pink ears, wearing a red scarf and blue boots"
STYLE = "soft watercolour, warm morning light, pastel palette"
BRIEF = StoryBrief(
    prompt="A brave little mouse goes on an adventure to find a magical cheese",
    age_group=AgeGroup.EARLY_READER,
    min_pages=3,
)
STORY = WrittenStory(
    title="Milo and the Moon Cheese",
    pages=[f"Milo takes step {number} towards the moon cheese." for number in range(1, 9)],
    character=Character(name="Milo", species="mouse", look=LOOK),
    art_style=STYLE,
)


def answer(text: str) -> httpx2.Response:
    """A completed Responses API response whose message is `text`."""
    return response([{"type": "output_text", "text": text, "annotations": []}])


def response(content: list[dict[str, Any]], **fields: Any) -> httpx2.Response:
    return httpx2.Response(
        200,
        json={
            "id": "resp_67ccd2bed1ec8190",
            "object": "response",
            "created_at": 1764061200,
            "model": "gpt-6.1-terra",
            "status": "completed",
            "output": [
                {
                    "id": "msg_67ccd3acc8d48190",
                    "type": "message",
                    "role": "assistant",
                    "status": "completed",
                    "content": content,
                }
            ],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {"input_tokens": 812, "output_tokens": 640, "total_tokens": 1452},
            **fields,
        },
    )


def error(status: int, message: str, code: str, **headers: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": "requests", "param": None, "code": code}}
    return httpx2.Response(status, headers=headers, json=body)


def writer(mock: RecordedReplies, base_url: str | None = None) -> OpenAITextProvider:
    client = openai_client(
        api_key="sk-test",
        base_url=base_url,
        timeout_seconds=42,
        http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
    )
    return OpenAITextProvider("gpt-6.1-terra", client=client, timeout_seconds=42, repair_attempts=1)


@pytest.fixture(autouse=True)
def no_endpoint_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def test_writes_a_story_through_the_responses_api_with_the_story_schema() -> None:
    mock = RecordedReplies(answer(STORY.model_dump_json()))

    story = writer(mock).write_story(BRIEF)

    request = mock.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.openai.com/v1/responses")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.extensions["timeout"]["read"] == 42
    body = mock.body()
    assert body["model"] == "gpt-6.1-terra"
    assert "children aged 6 to 8" in body["instructions"]
    assert BRIEF.prompt in body["input"]
    schema_format = body["text"]["format"]
    assert (schema_format["type"], schema_format["name"]) == ("json_schema", "WrittenStory")
    assert schema_format["strict"] is True
    schema = schema_format["schema"]
    assert schema["required"] == ["title", "pages", "character", "art_style", "scenes"]
    assert schema["additionalProperties"] is False
    assert story == StoryText(
        title=STORY.title, pages=STORY.pages, character=STORY.character, art_style=STYLE
    )


def test_plans_scenes_that_carry_the_character_sheet() -> None:
    scenes = ScenePlan(
        scenes=[
            PlannedScene(page=1, scene_description="Milo sets off.", visual="A sunny path."),
            PlannedScene(page=8, scene_description="Milo finds it.", visual="A hilltop at dusk."),
        ]
    )
    mock = RecordedReplies(answer(scenes.model_dump_json()))
    story = StoryText(
        title=STORY.title, pages=STORY.pages, character=STORY.character, art_style=STYLE
    )

    planned = writer(mock).plan_scenes(BRIEF, story, "image", 2)

    assert mock.body()["text"]["format"]["name"] == "ScenePlan"
    assert [scene.scene_description for scene in planned] == ["Milo sets off.", "Milo finds it."]
    assert all(LOOK in scene.prompt and STYLE in scene.prompt for scene in planned)


def test_the_base_url_setting_points_the_client_at_a_gateway() -> None:
    mock = RecordedReplies(answer(STORY.model_dump_json()))

    writer(mock, base_url="https://gateway.example/openai/v1").write_story(BRIEF)

    assert str(mock.requests[0].url) == "https://gateway.example/openai/v1/responses"


def test_throttling_is_retryable_and_keeps_retry_after() -> None:
    mock = RecordedReplies(
        error(429, "Rate limit reached", "rate_limit_exceeded", **{"retry-after": "7"})
    )

    with pytest.raises(ProviderThrottled) as throttled:
        writer(mock).write_story(BRIEF)

    assert throttled.value.retry_after_seconds == 7
    assert len(mock.requests) == 1  # no retries inside the client: the state machine retries


def test_an_account_out_of_credit_is_not_retried() -> None:
    mock = RecordedReplies(error(429, "You exceeded your current quota", "insufficient_quota"))

    with pytest.raises(ProviderError) as failure:
        writer(mock).write_story(BRIEF)

    assert type(failure.value) is ProviderError


def test_a_server_error_is_an_outage() -> None:
    mock = RecordedReplies(error(500, "The server had an error", "server_error"))

    with pytest.raises(ProviderUnavailable, match="500"):
        writer(mock).write_story(BRIEF)


def test_a_slow_answer_times_out() -> None:
    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderTimeout):
        writer(RecordedReplies(too_slow)).write_story(BRIEF)


def test_a_refusal_is_content_refused() -> None:
    refusal = response([{"type": "refusal", "refusal": "I can't help with that request."}])

    with pytest.raises(ContentRefused, match="can't help"):
        writer(RecordedReplies(refusal)).write_story(BRIEF)


def test_malformed_json_is_repaired_by_asking_again() -> None:
    mock = RecordedReplies(answer('{"title": "Milo and the'), answer(STORY.model_dump_json()))

    story = writer(mock).write_story(BRIEF)

    assert story.title == STORY.title
    assert len(mock.requests) == 2
    assert "could not be used" in mock.body(1)["input"]
    assert "Invalid JSON" in mock.body(1)["input"]


def test_malformed_json_twice_fails_without_retries() -> None:
    mock = RecordedReplies(answer("Once upon a time"), answer('{"title": 3}'))

    with pytest.raises(ProviderError, match="no usable answer in 2 tries") as failure:
        writer(mock).write_story(BRIEF)

    assert not failure.value.retryable
    assert len(mock.requests) == 2
