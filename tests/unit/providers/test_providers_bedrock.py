"""The Bedrock writer on a real bedrock-runtime client under botocore's Stubber: the exact
Converse request (a forced tool for Amazon Nova, outputConfig for other models) and how it reads
answers, guardrail stops and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber

from kidstory.models import AgeGroup, Character, StoryText
from kidstory.providers.base import StoryBrief
from kidstory.providers.bedrock_text import BedrockTextProvider, bedrock_client
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.prompts import PlannedScene, ScenePlan, WrittenStory

NOVA = "us.amazon.nova-2-lite-v1:0"
CLAUDE = "us.anthropic.claude-sonnet-5-5"
LOOK = "a round little robot painted sky blue, with a yellow antenna and red boots"
STYLE = "cut-paper collage, bright primary colours, soft shadows"
BRIEF = StoryBrief(
    prompt="A tiny robot wants to see the sea", age_group=AgeGroup.EARLY_READER, min_pages=2
)
STORY = WrittenStory(
    title="Bolt Sees the Sea",
    pages=[f"Bolt rolled a little further, step {number}." for number in range(1, 9)],
    character=Character(name="Bolt", species="robot", look=LOOK),
    art_style=STYLE,
)


class Bedrock:
    """A real bedrock-runtime client with its responses stubbed and its requests kept."""

    def __init__(self) -> None:
        self.client = bedrock_client("us-east-1", timeout_seconds=42)
        self.stubber = Stubber(self.client)
        self.requests: list[dict[str, Any]] = []
        self.client.meta.events.register(
            "before-parameter-build.bedrock-runtime.Converse", self._keep
        )

    def _keep(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(json.loads(json.dumps(params)))

    def answers(self, *contents: list[dict[str, Any]], stop: str = "end_turn") -> None:
        for content in contents:
            self.stubber.add_response(
                "converse",
                {
                    "output": {"message": {"role": "assistant", "content": content}},
                    "stopReason": stop,
                    "usage": {"inputTokens": 850, "outputTokens": 610, "totalTokens": 1460},
                    "metrics": {"latencyMs": 2310},
                },
            )

    def fails(self, code: str, status: int, **headers: str) -> None:
        self.stubber.add_client_error(
            "converse",
            service_error_code=code,
            service_message=f"{code} from the test",
            http_status_code=status,
            response_meta={"HTTPHeaders": headers},
        )

    def writer(self, model: str = NOVA) -> BedrockTextProvider:
        return BedrockTextProvider(model, client=self.client, timeout_seconds=42, repair_attempts=1)


@pytest.fixture
def bedrock() -> Iterator[Bedrock]:
    stubbed = Bedrock()
    with stubbed.stubber:
        yield stubbed
    stubbed.stubber.assert_no_pending_responses()


def tool_use(answer: dict[str, Any], name: str = "WrittenStory") -> list[dict[str, Any]]:
    return [
        {"toolUse": {"toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": name, "input": answer}}
    ]


def test_the_client_gives_up_in_time_and_leaves_retries_to_the_state_machine() -> None:
    config = bedrock_client("eu-west-1", timeout_seconds=42).meta.config

    assert (config.region_name, config.read_timeout) == ("eu-west-1", 42)
    assert config.retries["total_max_attempts"] == 1


def test_nova_writes_the_story_as_a_forced_tool_call(bedrock: Bedrock) -> None:
    bedrock.answers(tool_use(STORY.model_dump()))

    story = bedrock.writer(NOVA).write_story(BRIEF)

    request = bedrock.requests[0]
    assert request["modelId"] == NOVA
    assert "children aged 6 to 8" in request["system"][0]["text"]
    assert BRIEF.prompt in request["messages"][0]["content"][0]["text"]
    assert request["toolConfig"]["toolChoice"] == {"tool": {"name": "WrittenStory"}}
    spec = request["toolConfig"]["tools"][0]["toolSpec"]
    assert spec["name"] == "WrittenStory"
    schema = spec["inputSchema"]["json"]
    assert schema["required"] == ["title", "pages", "character", "art_style"]
    assert "$ref" not in json.dumps(schema)
    assert "outputConfig" not in request
    assert story.character.look == LOOK


def test_other_models_get_the_schema_through_output_config(bedrock: Bedrock) -> None:
    bedrock.answers([{"text": STORY.model_dump_json()}])

    story = bedrock.writer(CLAUDE).write_story(BRIEF)

    request = bedrock.requests[0]
    text_format = request["outputConfig"]["textFormat"]
    assert text_format["type"] == "json_schema"
    assert text_format["structure"]["jsonSchema"]["name"] == "WrittenStory"
    schema = json.loads(text_format["structure"]["jsonSchema"]["schema"])
    assert schema["properties"]["character"]["required"] == ["name", "species", "look"]
    assert "toolConfig" not in request
    assert story.title == STORY.title


def test_plans_scenes_that_carry_the_character_sheet(bedrock: Bedrock) -> None:
    plan = ScenePlan(
        scenes=[PlannedScene(page=5, scene_description="Bolt sees waves.", visual="A windy beach.")]
    )
    bedrock.answers(tool_use(plan.model_dump(), name="ScenePlan"))
    story = StoryText(
        title=STORY.title, pages=STORY.pages, character=STORY.character, art_style=STYLE
    )

    scenes = bedrock.writer(NOVA).plan_scenes(BRIEF, story, "image", 1)

    assert bedrock.requests[0]["toolConfig"]["toolChoice"] == {"tool": {"name": "ScenePlan"}}
    assert LOOK in scenes[0].prompt and STYLE in scenes[0].prompt


def test_throttling_is_retryable(bedrock: Bedrock) -> None:
    bedrock.fails("ThrottlingException", 429, **{"retry-after": "3"})

    with pytest.raises(ProviderThrottled) as throttled:
        bedrock.writer().write_story(BRIEF)

    assert throttled.value.retry_after_seconds == 3


@pytest.mark.parametrize(
    ("code", "status", "raised"),
    [
        ("ServiceUnavailableException", 503, ProviderUnavailable),
        ("InternalServerException", 500, ProviderUnavailable),
        ("ModelTimeoutException", 408, ProviderTimeout),
    ],
)
def test_outages_and_model_timeouts_are_retryable(
    bedrock: Bedrock, code: str, status: int, raised: type[ProviderError]
) -> None:
    bedrock.fails(code, status)

    with pytest.raises(raised, match=code):
        bedrock.writer().write_story(BRIEF)


@pytest.mark.parametrize(
    ("code", "status"), [("AccessDeniedException", 403), ("ValidationException", 400)]
)
def test_a_missing_permission_or_bad_request_is_not_retried(
    bedrock: Bedrock, code: str, status: int
) -> None:
    bedrock.fails(code, status)

    with pytest.raises(ProviderError, match=code) as failure:
        bedrock.writer().write_story(BRIEF)

    assert not failure.value.retryable


def test_a_slow_answer_times_out() -> None:
    def too_slow(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com")

    client = bedrock_client("us-east-1", timeout_seconds=42)  # not stubbed: the send times out
    client.meta.events.register("before-send.bedrock-runtime.Converse", too_slow)
    writer = BedrockTextProvider(NOVA, client=client, timeout_seconds=42, repair_attempts=1)

    with pytest.raises(ProviderTimeout):
        writer.write_story(BRIEF)


def test_a_guardrail_stop_is_content_refused(bedrock: Bedrock) -> None:
    bedrock.answers([{"text": "Sorry, I can't help with that."}], stop="guardrail_intervened")

    with pytest.raises(ContentRefused, match="guardrail_intervened"):
        bedrock.writer().write_story(BRIEF)


def test_malformed_json_is_repaired_by_asking_again(bedrock: Bedrock) -> None:
    bedrock.answers([{"text": '{"title": "Bolt'}], [{"text": STORY.model_dump_json()}])

    story = bedrock.writer(CLAUDE).write_story(BRIEF)

    assert story.title == STORY.title
    assert "Invalid JSON" in bedrock.requests[1]["messages"][0]["content"][0]["text"]


def test_no_tool_call_twice_fails_without_retries(bedrock: Bedrock) -> None:
    bedrock.answers([{"text": "Once upon a time..."}], [{"text": "Once upon a time..."}])

    with pytest.raises(ProviderError, match="without calling the tool") as failure:
        bedrock.writer(NOVA).write_story(BRIEF)

    assert not failure.value.retryable
    assert len(bedrock.requests) == 2
