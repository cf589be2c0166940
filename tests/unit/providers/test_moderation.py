"""Provider moderation of ideas, story pages and pictures: OpenAI's moderations endpoint on a
mock HTTP transport, a Bedrock guardrail on a real bedrock-runtime client under botocore's
Stubber, the offline word list (and the structural picture check) that always runs first, the
settings that choose them, and GenerateImage's redraws of a refused picture."""

from __future__ import annotations

import base64
import io
import json
import random
from collections.abc import Iterator
from typing import Any

import boto3
import httpx2
import pytest
from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from moto import mock_aws
from PIL import Image

from kidstory.config.errors import SettingsError
from kidstory.config.secrets import with_provider_keys
from kidstory.config.settings import Settings
from kidstory.media_store import MediaStore
from kidstory.models import (
    AgeGroup,
    AssetKind,
    AssetStatus,
    Job,
    JobStatus,
    StoryRequest,
    StoryText,
)
from kidstory.providers import picture_moderator, text_moderator
from kidstory.providers.base import GeneratedMedia, MediaSpec, StoryBrief
from kidstory.providers.bedrock_moderation import BedrockGuardrailModerator
from kidstory.providers.bedrock_text import bedrock_client
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.offline import OfflineImageProvider
from kidstory.providers.offline_media import draw_illustration
from kidstory.providers.offline_text import OfflineTextProvider
from kidstory.providers.openai_moderation import OpenAIModerator
from kidstory.providers.openai_text import openai_client
from kidstory.safety import (
    ALLOWED,
    LayeredModerator,
    LayeredPictureModerator,
    OfflineModerator,
    Verdict,
    picture_within,
)
from kidstory.steps.payloads import AssembleInput, CaughtError, JobRef, MediaResult, StoryDraft
from kidstory.store.story_table import StoryTable
from kidstory.story_graph import build_story_graph, run_story_graph
from tests.unit.recorded_http import RecordedReplies
from tests.unit.steps.story_workflow import EveryStep

BASE = {"TABLE_NAME": "stories", "MEDIA_BUCKET": "media"}
IDEA = "A dragon and a knight have a fight over the last cookie"
GUARDRAIL = "gr7k2mq9x4ab"

# OpenAI

CATEGORIES = [
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
]


def moderation(flagged: tuple[str, ...] = (), **scores: float) -> httpx2.Response:
    """A moderations answer flagging `flagged`, with the given scores (by category name, "/" and
    "-" spelled "_"); every other score is tiny."""
    score = {
        name: scores.get(name.replace("/", "_").replace("-", "_"), 1e-6) for name in CATEGORIES
    }
    for name in flagged:
        score[name] = max(score[name], 0.9)
    return httpx2.Response(
        200,
        json={
            "id": "modr-8f2c1d7e",
            "model": "omni-moderation-2024-09-26",
            "results": [
                {
                    "flagged": bool(flagged),
                    "categories": {name: name in flagged for name in CATEGORIES},
                    "category_scores": score,
                    "category_applied_input_types": {name: ["text"] for name in CATEGORIES},
                }
            ],
        },
    )


def error(status: int, message: str, code: str, **headers: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": "requests", "param": None, "code": code}}
    return httpx2.Response(status, headers=headers, json=body)


def openai_moderator(
    mock: RecordedReplies, *, threshold: float | None = None, base_url: str | None = None
) -> OpenAIModerator:
    client = openai_client(
        api_key="sk-test",
        base_url=base_url,
        timeout_seconds=60,
        http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
    )
    return OpenAIModerator(
        "omni-moderation-latest", client=client, timeout_seconds=7, threshold=threshold
    )


@pytest.fixture(autouse=True)
def no_endpoint_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def test_openai_is_asked_about_the_text_with_the_moderation_model_and_its_timeout() -> None:
    mock = RecordedReplies(moderation())

    verdict = openai_moderator(mock).check(IDEA)

    assert verdict == ALLOWED
    request = mock.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.openai.com/v1/moderations")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert mock.body() == {"model": "omni-moderation-latest", "input": IDEA}
    assert request.extensions["timeout"]["read"] == 7


def test_a_flagged_idea_is_refused_in_words_a_parent_can_read() -> None:
    mock = RecordedReplies(moderation(("violence", "violence/graphic"), violence_graphic=0.97))

    verdict = openai_moderator(mock).check("The knight hurts the dragon badly")

    assert verdict == Verdict(
        allowed=False,
        category="violence",
        reason="It mentions graphic violence, which we do not put in children's stories. "
        "Please try a different idea.",
    )


@pytest.mark.parametrize(
    ("flagged", "category", "words"),
    [
        ("sexual/minors", "sexual", "sexual content"),
        ("self-harm/intent", "self_harm", "self-harm"),
        ("hate", "hate", "hate toward people"),
        ("harassment", "harassment", "bullying or harassment"),
        ("illicit/violent", "illicit", "weapons or violent crime"),
    ],
)
def test_each_openai_category_has_plain_words(flagged: str, category: str, words: str) -> None:
    verdict = openai_moderator(RecordedReplies(moderation((flagged,)))).check(IDEA)

    assert (verdict.allowed, verdict.category) == (False, category)
    assert verdict.reason is not None and verdict.reason.startswith(f"It mentions {words}, ")


def test_a_category_openai_adds_later_is_refused_by_its_own_name() -> None:
    answer = moderation()
    body = json.loads(answer.content)
    result = body["results"][0]
    result["flagged"] = True
    result["categories"]["weapons/firearms"] = True
    result["category_scores"]["weapons/firearms"] = 0.8

    verdict = openai_moderator(RecordedReplies(httpx2.Response(200, json=body))).check(IDEA)

    assert verdict.category == "weapons/firearms"
    assert verdict.reason is not None and "It mentions weapons firearms," in verdict.reason


def test_a_stricter_threshold_refuses_what_openai_would_let_through() -> None:
    borderline = moderation(violence=0.31)

    assert openai_moderator(RecordedReplies(borderline)).check(IDEA).allowed
    strict = openai_moderator(RecordedReplies(moderation(violence=0.31)), threshold=0.3).check(IDEA)
    assert (strict.allowed, strict.category) == (False, "violence")


def test_moderation_goes_through_the_configured_openai_endpoint() -> None:
    mock = RecordedReplies(moderation())

    openai_moderator(mock, base_url="https://gateway.example/openai/v1").check(IDEA)

    assert str(mock.requests[0].url) == "https://gateway.example/openai/v1/moderations"


def test_openai_throttling_is_retryable_and_keeps_retry_after() -> None:
    mock = RecordedReplies(
        error(429, "Rate limit reached", "rate_limit_exceeded", **{"retry-after": "4"})
    )

    with pytest.raises(ProviderThrottled) as throttled:
        openai_moderator(mock).check(IDEA)

    assert throttled.value.retry_after_seconds == 4
    assert len(mock.requests) == 1  # no retries inside the client


@pytest.mark.parametrize("status", [500, 502, 503])
def test_an_openai_server_error_is_an_outage(status: int) -> None:
    mock = RecordedReplies(error(status, "The server had an error", "server_error"))

    with pytest.raises(ProviderUnavailable, match=str(status)):
        openai_moderator(mock).check(IDEA)


def test_a_slow_openai_answer_times_out() -> None:
    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderTimeout):
        openai_moderator(RecordedReplies(too_slow)).check(IDEA)


def test_a_wrong_openai_key_is_an_error_that_retrying_will_not_fix() -> None:
    mock = RecordedReplies(error(401, "Incorrect API key provided", "invalid_api_key"))

    with pytest.raises(ProviderError, match="401") as failure:
        openai_moderator(mock).check(IDEA)

    assert not failure.value.retryable


# Bedrock


class Guardrail:
    """A real bedrock-runtime client with ApplyGuardrail stubbed."""

    def __init__(self) -> None:
        self.client = bedrock_client("eu-west-1", timeout_seconds=7)
        self.stubber = Stubber(self.client)

    def answers(
        self,
        action: str,
        assessments: list[dict[str, Any]],
        expected: dict[str, Any] | None = None,
        *,
        coverage: dict[str, Any] | None = None,
    ) -> None:
        answer: dict[str, Any] = {
            "usage": {
                "topicPolicyUnits": 1,
                "contentPolicyUnits": 1,
                "wordPolicyUnits": 1,
                "sensitiveInformationPolicyUnits": 0,
                "sensitiveInformationPolicyFreeUnits": 0,
                "contextualGroundingPolicyUnits": 0,
            },
            "action": action,
            "outputs": [{"text": "Sorry, we cannot write that story."}]
            if action == "GUARDRAIL_INTERVENED"
            else [],
            "assessments": assessments,
        }
        if coverage is not None:
            answer["guardrailCoverage"] = coverage
        self.stubber.add_response("apply_guardrail", answer, expected)

    def fails(self, code: str, status: int, **headers: str) -> None:
        self.stubber.add_client_error(
            "apply_guardrail",
            service_error_code=code,
            service_message=f"{code} from the test",
            http_status_code=status,
            response_meta={"HTTPHeaders": headers},
        )

    def moderator(self, source: Any = "INPUT", version: str = "3") -> BedrockGuardrailModerator:
        return BedrockGuardrailModerator(GUARDRAIL, version, client=self.client, source=source)


@pytest.fixture
def guardrail() -> Iterator[Guardrail]:
    stubbed = Guardrail()
    with stubbed.stubber:
        yield stubbed
    stubbed.stubber.assert_no_pending_responses()


def content_filter(kind: str, confidence: str = "HIGH", action: str = "BLOCKED") -> dict[str, Any]:
    return {
        "contentPolicy": {
            "filters": [
                {"type": kind, "confidence": confidence, "action": action, "detected": True}
            ]
        }
    }


@pytest.mark.parametrize("source", ["INPUT", "OUTPUT"])
def test_the_guardrail_is_applied_to_exactly_the_text_with_its_id_version_and_source(
    guardrail: Guardrail, source: str
) -> None:
    guardrail.answers(
        "NONE",
        [],
        expected={
            "guardrailIdentifier": GUARDRAIL,
            "guardrailVersion": "3",
            "source": source,
            "content": [{"text": {"text": IDEA}}],
        },
    )

    assert guardrail.moderator(source).check(IDEA) == ALLOWED


def test_an_intervention_is_refused_naming_the_filter(guardrail: Guardrail) -> None:
    guardrail.answers(
        "GUARDRAIL_INTERVENED",
        [
            {
                "contentPolicy": {
                    "filters": [
                        {"type": "INSULTS", "confidence": "LOW", "action": "BLOCKED"},
                        {"type": "VIOLENCE", "confidence": "HIGH", "action": "BLOCKED"},
                        {"type": "SEXUAL", "confidence": "HIGH", "action": "NONE"},
                    ]
                }
            }
        ],
    )

    verdict = guardrail.moderator().check("The knight hurts the dragon badly")

    assert verdict == Verdict(
        allowed=False,
        category="violence",
        reason="It mentions violence, which we do not put in children's stories. "
        "Please try a different idea.",
    )


@pytest.mark.parametrize(
    ("assessment", "category", "words"),
    [
        (content_filter("MISCONDUCT"), "misconduct", "crime or wrongdoing"),
        (
            {
                "topicPolicy": {
                    "topics": [{"name": "Scary-Monsters", "type": "DENY", "action": "BLOCKED"}]
                }
            },
            "topic",
            "scary monsters",
        ),
        (
            {
                "wordPolicy": {
                    "customWords": [{"match": "stinky", "action": "BLOCKED"}],
                    "managedWordLists": [],
                }
            },
            "words",
            'words we do not use in children\'s stories ("stinky")',
        ),
        (
            {
                "wordPolicy": {
                    "customWords": [],
                    "managedWordLists": [
                        {"match": "darn", "type": "PROFANITY", "action": "BLOCKED"}
                    ],
                }
            },
            "profanity",
            "rude language",
        ),
        (
            {
                "sensitiveInformationPolicy": {
                    "piiEntities": [{"match": "555-0100", "type": "PHONE", "action": "BLOCKED"}],
                    "regexes": [],
                }
            },
            "personal_information",
            "personal information (such as a name, an address or a phone number)",
        ),
        ({}, "guardrail", "something our safety rules do not allow"),
    ],
)
def test_every_kind_of_intervention_has_plain_words(
    guardrail: Guardrail, assessment: dict[str, Any], category: str, words: str
) -> None:
    guardrail.answers("GUARDRAIL_INTERVENED", [assessment])

    verdict = guardrail.moderator("OUTPUT").check("A page of the story")

    assert (verdict.allowed, verdict.category) == (False, category)
    assert verdict.reason is not None and verdict.reason.startswith(f"It mentions {words}, ")


def test_guardrail_throttling_is_retryable(guardrail: Guardrail) -> None:
    guardrail.fails("ThrottlingException", 429, **{"retry-after": "2"})

    with pytest.raises(ProviderThrottled) as throttled:
        guardrail.moderator().check(IDEA)

    assert throttled.value.retry_after_seconds == 2


@pytest.mark.parametrize(
    ("code", "status"), [("ServiceUnavailableException", 503), ("InternalServerException", 500)]
)
def test_a_guardrail_outage_is_retryable(guardrail: Guardrail, code: str, status: int) -> None:
    guardrail.fails(code, status)

    with pytest.raises(ProviderUnavailable, match=code):
        guardrail.moderator().check(IDEA)


@pytest.mark.parametrize(
    ("code", "status"),
    [("AccessDeniedException", 403), ("ResourceNotFoundException", 404)],
)
def test_a_missing_permission_or_guardrail_is_not_retried(
    guardrail: Guardrail, code: str, status: int
) -> None:
    guardrail.fails(code, status)

    with pytest.raises(ProviderError, match=code) as failure:
        guardrail.moderator().check(IDEA)

    assert not failure.value.retryable


def test_a_slow_guardrail_times_out() -> None:
    def too_slow(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.eu-west-1.amazonaws.com")

    client = bedrock_client("eu-west-1", timeout_seconds=7)  # not stubbed: the send times out
    client.meta.events.register("before-send.bedrock-runtime.ApplyGuardrail", too_slow)

    with pytest.raises(ProviderTimeout):
        BedrockGuardrailModerator(GUARDRAIL, "3", client=client, source="INPUT").check(IDEA)


# The offline baseline always runs first


class Counting:
    """A provider moderator that counts the texts it is shown."""

    name = "counting"

    def __init__(self, verdict: Verdict = ALLOWED, error: Exception | None = None) -> None:
        self.verdict, self.error = verdict, error
        self.seen: list[str] = []

    def check(self, text: str) -> Verdict:
        self.seen.append(text)
        if self.error:
            raise self.error
        return self.verdict


def test_an_offline_refusal_wins_without_asking_the_provider(guardrail: Guardrail) -> None:
    # the stubbed guardrail has no answer queued: a call would fail the test
    layered = LayeredModerator(OfflineModerator(), guardrail.moderator())

    verdict = layered.check("A pirate story with lots of blood")

    assert (verdict.allowed, verdict.category) == (False, "violence")
    assert verdict.reason is not None and '("blood")' in verdict.reason


def test_the_provider_refuses_what_the_word_list_lets_through() -> None:
    provider = Counting(Verdict(False, "hate", "It mentions hate toward people, ..."))

    verdict = LayeredModerator(OfflineModerator(), provider).check(IDEA)

    assert (verdict.allowed, verdict.category) == (False, "hate")
    assert provider.seen == [IDEA]


def test_text_both_allow_is_allowed_and_a_provider_failure_is_never_an_allowance() -> None:
    assert LayeredModerator(OfflineModerator(), Counting()).check(IDEA) == ALLOWED
    failing = LayeredModerator(OfflineModerator(), Counting(error=ProviderUnavailable("down")))
    with pytest.raises(ProviderUnavailable):
        failing.check(IDEA)


# Settings choose it


def test_offline_is_the_word_list_alone() -> None:
    moderator = text_moderator(Settings.from_environ(BASE), "INPUT")

    assert isinstance(moderator, OfflineModerator)


def test_openai_moderation_is_layered_on_the_word_list_with_its_settings() -> None:
    settings = Settings.from_environ(
        BASE
        | {
            "MODERATION_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_MODERATION_MODEL": "omni-moderation-2024-09-26",
            "OPENAI_MODERATION_THRESHOLD": "0.4",
            "OPENAI_BASE_URL": "https://gateway.example/v1",
            "MODERATION_TIMEOUT_SECONDS": "5",
        }
    )

    moderator = text_moderator(settings, "INPUT")

    assert isinstance(moderator, LayeredModerator)
    baseline, provider = moderator.moderators
    assert isinstance(baseline, OfflineModerator) and isinstance(provider, OpenAIModerator)
    assert (provider.model, provider.threshold, provider.timeout_seconds) == (
        "omni-moderation-2024-09-26",
        0.4,
        5,
    )
    assert str(provider._client.base_url) == "https://gateway.example/v1/"


@pytest.mark.parametrize("source", ["INPUT", "OUTPUT"])
def test_bedrock_moderation_applies_the_guardrail_in_its_region(source: Any) -> None:
    settings = Settings.from_environ(
        BASE
        | {
            "MODERATION_PROVIDER": "bedrock",
            "BEDROCK_GUARDRAIL_ID": GUARDRAIL,
            "BEDROCK_GUARDRAIL_VERSION": "12",
            "BEDROCK_GUARDRAIL_REGION": "eu-central-1",
        }
    )

    moderator = text_moderator(settings, source)

    assert isinstance(moderator, LayeredModerator)
    provider = moderator.moderators[1]
    assert isinstance(provider, BedrockGuardrailModerator)
    assert (provider.guardrail, provider.version, provider.source) == (GUARDRAIL, "12", source)
    config = provider._client.meta.config
    assert (config.region_name, config.read_timeout) == ("eu-central-1", 10)


def test_a_guardrail_arn_names_its_own_region() -> None:
    arn = f"arn:aws:bedrock:ap-southeast-2:123456789012:guardrail/{GUARDRAIL}"
    settings = Settings.from_environ(
        BASE | {"MODERATION_PROVIDER": "bedrock", "BEDROCK_GUARDRAIL_ID": arn}
    )

    assert (settings.guardrail_region, settings.bedrock_guardrail_version) == (
        "ap-southeast-2",
        "DRAFT",
    )
    with pytest.raises(SettingsError, match="BEDROCK_GUARDRAIL_REGION: us-east-1 is not"):
        Settings.from_environ(
            BASE
            | {
                "MODERATION_PROVIDER": "bedrock",
                "BEDROCK_GUARDRAIL_ID": arn,
                "BEDROCK_GUARDRAIL_REGION": "us-east-1",
            }
        )


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"MODERATION_PROVIDER": "bedrock"}, "BEDROCK_GUARDRAIL_ID: required when MODERATION"),
        ({"MODERATION_PROVIDER": "openai"}, "OPENAI_API_KEY: required when MODERATION_PROVIDER"),
        ({"MODERATION_PROVIDER": "azure"}, "MODERATION_PROVIDER: Input should be"),
        (
            {"MODERATION_PROVIDER": "bedrock", "BEDROCK_GUARDRAIL_ID": "gr-*"},
            "BEDROCK_GUARDRAIL_ID: String should match",
        ),
        (
            {
                "MODERATION_PROVIDER": "bedrock",
                "BEDROCK_GUARDRAIL_ID": GUARDRAIL,
                "BEDROCK_GUARDRAIL_VERSION": "latest",
            },
            "BEDROCK_GUARDRAIL_VERSION: String should match",
        ),
        ({"OPENAI_MODERATION_THRESHOLD": "0"}, "OPENAI_MODERATION_THRESHOLD"),
        ({"MODERATION_TIMEOUT_SECONDS": "60"}, "MODERATION_TIMEOUT_SECONDS"),
    ],
)
def test_moderation_that_cannot_work_is_refused_at_start_up(
    environ: dict[str, str], problem: str
) -> None:
    with pytest.raises(SettingsError, match=problem):
        Settings.from_environ(BASE | environ)


def test_the_openai_key_for_moderation_is_read_from_its_parameter() -> None:
    parameters.clear_caches()
    try:
        with mock_aws():
            boto3.client("ssm").put_parameter(
                Name="/kidstory/dev/openai-api-key", Value="sk-from-ssm", Type="SecureString"
            )
            environ = with_provider_keys(
                BASE
                | {
                    "MODERATION_PROVIDER": "openai",
                    "OPENAI_API_KEY_PARAMETER": "/kidstory/dev/openai-api-key",
                }
            )
    finally:
        parameters.clear_caches()

    settings = Settings.from_environ(environ)
    assert settings.openai_api_key is not None
    assert settings.openai_api_key.get_secret_value() == "sk-from-ssm"


# The story writer's reviewer


BRIEF = StoryBrief(prompt="A fox who loves the sea", age_group=AgeGroup("6-8"), min_pages=3)


def test_a_page_the_provider_refuses_goes_back_to_the_writer_with_the_reason() -> None:
    class Writer(OfflineTextProvider):
        def __init__(self) -> None:
            super().__init__()
            self.notes: list[str | None] = []

        def write_story(self, brief: StoryBrief) -> StoryText:
            self.notes.append(brief.revision_notes)
            return super().write_story(brief)

    class RefusesTheFirstDraft(Counting):
        def check(self, text: str) -> Verdict:
            self.seen.append(text)
            first_draft = writer.notes == [None]
            if first_draft and len(self.seen) == 2:  # the first page
                return Verdict(False, "violence", "It mentions violence, ...")
            return ALLOWED

    writer = Writer()
    provider = RefusesTheFirstDraft()
    graph = build_story_graph(writer, LayeredModerator(OfflineModerator(), provider))

    state = run_story_graph(graph, BRIEF, image_count=0, video_count=0)

    assert len(writer.notes) == 2
    assert writer.notes[1] == "page 1: It mentions violence, ..."
    story = state["story"]
    assert provider.seen[-(len(story.pages) + 1) :] == [story.title, *story.pages]


@pytest.mark.parametrize(
    "outage",
    [
        ProviderThrottled("OpenAI moderation answered 429", retry_after_seconds=3),
        ProviderUnavailable("Bedrock ServiceUnavailableException"),
        ProviderTimeout("Bedrock did not answer in time"),
    ],
)
def test_a_moderation_outage_fails_the_step_with_the_retryable_error(outage: Exception) -> None:
    """Raised out of WriteStory by name, so the state machine's Retry runs the step again."""
    graph = build_story_graph(
        OfflineTextProvider(), LayeredModerator(OfflineModerator(), Counting(error=outage))
    )

    with pytest.raises(type(outage)) as raised:
        run_story_graph(graph, BRIEF, image_count=1, video_count=0)

    assert raised.value is outage


def test_a_story_the_provider_keeps_refusing_is_content_refused() -> None:
    refuses = Counting(Verdict(False, "violence", "It mentions violence, ..."))
    graph = build_story_graph(OfflineTextProvider(), LayeredModerator(OfflineModerator(), refuses))

    with pytest.raises(ContentRefused, match="title: It mentions violence"):
        run_story_graph(graph, BRIEF, image_count=0, video_count=0)


# Pictures: the same providers look at every picture before it is stored

PICTURE = draw_illustration("A fox by the sea", palette_seed="Fern")
PICTURE_URL = "data:image/png;base64," + base64.b64encode(PICTURE).decode("ascii")
# The categories omni-moderation applies to images (the others are text only).
IMAGE_CATEGORIES = {
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "violence",
    "violence/graphic",
}


def picture_moderation(
    flagged: tuple[str, ...] = (), *, judged: set[str] = IMAGE_CATEGORIES, **scores: float
) -> httpx2.Response:
    """A moderations answer about an image alone: the text-only categories score 0 and are
    applied to nothing; `judged` are applied to the image."""
    answer = moderation(flagged, **scores)
    body = json.loads(answer.content)
    result = body["results"][0]
    for name in CATEGORIES:
        if name not in judged and name not in flagged:
            result["category_scores"][name] = scores.get(
                name.replace("/", "_").replace("-", "_"), 0.0
            )
    result["category_applied_input_types"] = {
        name: ["image"] if name in judged else [] for name in CATEGORIES
    }
    return httpx2.Response(200, json=body)


def test_openai_is_shown_the_picture_as_a_data_url_with_the_moderation_model() -> None:
    mock = RecordedReplies(picture_moderation())

    verdict = openai_moderator(mock).check_picture(PICTURE, "image/png")

    assert verdict == ALLOWED
    request = mock.requests[0]
    assert (request.method, str(request.url)) == ("POST", "https://api.openai.com/v1/moderations")
    assert mock.body() == {
        "model": "omni-moderation-latest",
        "input": [{"type": "image_url", "image_url": {"url": PICTURE_URL}}],
    }
    assert request.extensions["timeout"]["read"] == 7


def test_a_flagged_picture_is_refused_in_words_a_parent_can_read() -> None:
    mock = RecordedReplies(
        picture_moderation(("violence", "violence/graphic"), violence_graphic=0.97)
    )

    verdict = openai_moderator(mock).check_picture(PICTURE, "image/png")

    assert verdict == Verdict(
        allowed=False,
        category="violence",
        reason="The picture shows graphic violence, which we do not put in children's stories.",
    )


def test_the_threshold_counts_only_the_categories_judged_on_the_picture() -> None:
    # a text-only category cannot say anything about a picture, whatever it scores
    text_only = picture_moderation(harassment=0.6)
    assert (
        openai_moderator(RecordedReplies(text_only), threshold=0.3)
        .check_picture(PICTURE, "image/png")
        .allowed
    )

    strict = openai_moderator(RecordedReplies(picture_moderation(sexual=0.31)), threshold=0.3)
    verdict = strict.check_picture(PICTURE, "image/png")
    assert (verdict.allowed, verdict.category) == (False, "sexual")


def test_a_model_that_did_not_look_at_the_picture_fails_closed() -> None:
    """A text-only model (or an answer without category_applied_input_types) is no check."""
    text_model = RecordedReplies(picture_moderation(judged=set()))

    with pytest.raises(ProviderError, match="did not look at the picture") as failure:
        openai_moderator(text_model).check_picture(PICTURE, "image/png")

    assert not failure.value.retryable


@pytest.mark.parametrize(
    ("reply", "raised"),
    [
        (error(429, "Rate limit reached", "rate_limit_exceeded"), ProviderThrottled),
        (error(503, "The server had an error", "server_error"), ProviderUnavailable),
        (error(401, "Incorrect API key provided", "invalid_api_key"), ProviderError),
    ],
)
def test_openai_picture_errors_are_the_provider_errors(
    reply: httpx2.Response, raised: type[ProviderError]
) -> None:
    with pytest.raises(raised) as failure:
        openai_moderator(RecordedReplies(reply)).check_picture(PICTURE, "image/png")

    assert type(failure.value) is raised


def test_a_slow_picture_answer_times_out() -> None:
    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderTimeout):
        openai_moderator(RecordedReplies(too_slow)).check_picture(PICTURE, "image/png")


def test_a_picture_the_guardrail_passes_is_sent_as_an_output_image(guardrail: Guardrail) -> None:
    guardrail.answers(
        "NONE",
        [],
        expected={
            "guardrailIdentifier": GUARDRAIL,
            "guardrailVersion": "3",
            "source": "OUTPUT",
            "content": [{"image": {"format": "png", "source": {"bytes": PICTURE}}}],
        },
        coverage={"images": {"guarded": 1, "total": 1}},
    )

    # a model drew it: OUTPUT, whatever the moderator checks text as
    assert guardrail.moderator("INPUT").check_picture(PICTURE, "image/png") == ALLOWED


def test_a_jpeg_picture_is_sent_as_jpeg(guardrail: Guardrail) -> None:
    buffer = io.BytesIO()
    Image.open(io.BytesIO(PICTURE)).convert("RGB").save(buffer, format="JPEG")
    jpeg = buffer.getvalue()
    guardrail.answers(
        "NONE",
        [],
        expected={
            "guardrailIdentifier": GUARDRAIL,
            "guardrailVersion": "3",
            "source": "OUTPUT",
            "content": [{"image": {"format": "jpeg", "source": {"bytes": jpeg}}}],
        },
        coverage={"images": {"guarded": 1, "total": 1}},
    )

    assert guardrail.moderator().check_picture(jpeg, "image/jpeg") == ALLOWED


def test_a_picture_the_guardrail_intervenes_on_is_refused_naming_the_filter(
    guardrail: Guardrail,
) -> None:
    guardrail.answers(
        "GUARDRAIL_INTERVENED",
        [content_filter("VIOLENCE")],
        coverage={"images": {"guarded": 1, "total": 1}},
    )

    verdict = guardrail.moderator().check_picture(PICTURE, "image/png")

    assert verdict == Verdict(
        allowed=False,
        category="violence",
        reason="The picture shows violence, which we do not put in children's stories.",
    )


@pytest.mark.parametrize(
    "coverage",
    [{"images": {"guarded": 0, "total": 1}}, {"textCharacters": {"guarded": 0, "total": 0}}, None],
)
def test_a_guardrail_that_did_not_guard_the_picture_fails_closed(
    guardrail: Guardrail, coverage: dict[str, Any] | None
) -> None:
    """Image filtering is a choice made per content filter: a guardrail made for text alone
    answers NONE for any picture. That is no check."""
    guardrail.answers("NONE", [], coverage=coverage)

    with pytest.raises(ProviderError, match="did not check the picture") as failure:
        guardrail.moderator().check_picture(PICTURE, "image/png")

    assert not failure.value.retryable
    assert "image modality of its content filters" in str(failure.value)


def test_guardrail_picture_throttling_and_outages_are_retryable(guardrail: Guardrail) -> None:
    guardrail.fails("ThrottlingException", 429, **{"retry-after": "2"})
    guardrail.fails("ServiceUnavailableException", 503)

    with pytest.raises(ProviderThrottled):
        guardrail.moderator().check_picture(PICTURE, "image/png")
    with pytest.raises(ProviderUnavailable):
        guardrail.moderator().check_picture(PICTURE, "image/png")


def test_a_picture_too_large_for_the_provider_is_scaled_down_first() -> None:
    assert picture_within(PICTURE, "image/png", max_bytes=4 << 20, max_side=8000) == (
        PICTURE,
        "image/png",
    )

    smaller, kind = picture_within(PICTURE, "image/png", max_bytes=len(PICTURE), max_side=256)
    with Image.open(io.BytesIO(smaller)) as image:
        assert (kind, image.format, max(image.size)) == ("image/png", "PNG", 256)

    noise = Image.frombytes("RGB", (600, 600), bytes(random.Random(7).randbytes(600 * 600 * 3)))
    buffer = io.BytesIO()
    noise.save(buffer, format="PNG")  # noise does not compress: ~1 MB
    fitted, kind = picture_within(buffer.getvalue(), "image/png", max_bytes=200_000, max_side=8000)
    assert kind == "image/jpeg" and len(fitted) <= 200_000

    webp = io.BytesIO()
    Image.open(io.BytesIO(PICTURE)).save(webp, format="WEBP")
    converted, kind = picture_within(
        webp.getvalue(), "image/webp", max_bytes=4 << 20, max_side=8000
    )
    assert kind == "image/png" and Image.open(io.BytesIO(converted)).format == "PNG"


# The structural check always comes first


class CountingPictures:
    """A provider picture moderator with scripted verdicts (the last one repeats)."""

    name = "counting"

    def __init__(self, *verdicts: Verdict, error: Exception | None = None) -> None:
        self.verdicts, self.error = list(verdicts) or [ALLOWED], error
        self.seen: list[bytes] = []

    def check_picture(self, content: bytes, content_type: str) -> Verdict:
        self.seen.append(content)
        if self.error:
            raise self.error
        return self.verdicts.pop(0) if len(self.verdicts) > 1 else self.verdicts[0]


def blank_picture() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (255, 255, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_picture_that_is_not_usable_is_never_shown_to_the_provider() -> None:
    provider = CountingPictures()

    verdict = LayeredPictureModerator(OfflineModerator(), provider).check_picture(
        blank_picture(), "image/png"
    )

    assert verdict.category == "blank_image" and provider.seen == []


def test_the_provider_sees_a_usable_picture_and_its_refusal_wins() -> None:
    refusal = Verdict(False, "sexual", "The picture shows sexual content, ...")
    provider = CountingPictures(refusal)

    verdict = LayeredPictureModerator(OfflineModerator(), provider).check_picture(
        PICTURE, "image/png"
    )

    assert verdict == refusal and provider.seen == [PICTURE]
    failing = LayeredPictureModerator(
        OfflineModerator(), CountingPictures(error=ProviderTimeout(""))
    )
    with pytest.raises(ProviderTimeout):
        failing.check_picture(PICTURE, "image/png")


def test_pictures_are_checked_by_the_stages_moderation_provider() -> None:
    offline = picture_moderator(Settings.from_environ(BASE))
    assert isinstance(offline, OfflineModerator)  # the structural check alone

    with_openai = picture_moderator(
        Settings.from_environ(BASE | {"MODERATION_PROVIDER": "openai", "OPENAI_API_KEY": "sk-t"})
    )
    assert isinstance(with_openai, LayeredPictureModerator)
    baseline, provider = with_openai.moderators
    assert isinstance(baseline, OfflineModerator) and isinstance(provider, OpenAIModerator)

    with_guardrail = picture_moderator(
        Settings.from_environ(
            BASE | {"MODERATION_PROVIDER": "bedrock", "BEDROCK_GUARDRAIL_ID": GUARDRAIL}
        )
    )
    assert isinstance(with_guardrail, LayeredPictureModerator)
    guard = with_guardrail.moderators[1]
    assert isinstance(guard, BedrockGuardrailModerator) and guard.source == "OUTPUT"


# GenerateImage: a refused picture is drawn again; refused every time, it fails closed


class CountingPainter(OfflineImageProvider):
    def __init__(self) -> None:
        super().__init__()
        self.drawn = 0

    def generate_image(self, spec: MediaSpec) -> GeneratedMedia:
        self.drawn += 1
        return super().generate_image(spec)


def picture_steps(
    table: StoryTable, media: MediaStore, painter: CountingPainter, pictures: Any
) -> tuple[EveryStep, StoryDraft]:
    job = Job(
        request=StoryRequest.model_validate(
            {"prompt": "A fox who loves the sea", "age_group": "6-8", "num_illustrations": 1}
        )
    )
    table.put_job(job)
    steps = EveryStep(
        table,
        media,
        text=OfflineTextProvider,
        image=lambda: painter,
        pictures=lambda: LayeredPictureModerator(OfflineModerator(), pictures),
    )
    return steps, steps.write_story(JobRef(job_id=job.job_id))


def test_a_picture_the_guardrail_refuses_is_drawn_again_and_the_next_one_stored(
    table: StoryTable, media: MediaStore, guardrail: Guardrail
) -> None:
    guardrail.answers(
        "GUARDRAIL_INTERVENED",
        [content_filter("VIOLENCE")],
        coverage={"images": {"guarded": 1, "total": 1}},
    )
    guardrail.answers("NONE", [], coverage={"images": {"guarded": 1, "total": 1}})
    painter = CountingPainter()
    steps, draft = picture_steps(table, media, painter, guardrail.moderator("OUTPUT"))

    steps.generate_image(draft.images[0])

    asset = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert painter.drawn == 2
    assert asset.status is AssetStatus.COMPLETED and media.exists(asset.s3_key or "")


def test_a_picture_refused_every_time_fails_closed_with_a_reason_a_parent_can_read(
    table: StoryTable, media: MediaStore
) -> None:
    reason = "The picture shows violence, which we do not put in children's stories."
    painter = CountingPainter()
    steps, draft = picture_steps(
        table, media, painter, CountingPictures(Verdict(False, "violence", reason))
    )

    with pytest.raises(ContentRefused) as refused:
        steps.generate_image(draft.images[0])

    message = f"the picture failed its check 3 times: {reason}"
    assert str(refused.value) == message
    assert painter.drawn == 3  # drawn, then redrawn twice: bounded
    asset = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert asset.status is AssetStatus.FAILED and asset.s3_key is None
    assert asset.error == f"ContentRefused: {message}"
    assert media.keys_under(f"stories/{draft.story_id}/") == []
    # the Map's Catch hands the failure to Assemble, which fails the job with it
    cause = json.dumps({"errorType": "ContentRefused", "errorMessage": message})
    caught = MediaResult(
        **draft.images[0].model_dump(), failure=CaughtError(Error="ContentRefused", Cause=cause)
    )
    outcome = steps.assemble(
        AssembleInput(job_id=draft.job_id, story_id=draft.story_id, media=[[caught], []])
    )
    assert outcome.status is JobStatus.FAILED
    assert outcome.error == f"1 of 1 media could not be made: image 1: ContentRefused: {message}"


def test_a_moderation_outage_is_retried_by_the_workflow_and_nothing_is_stored(
    table: StoryTable, media: MediaStore
) -> None:
    painter = CountingPainter()
    outage = ProviderUnavailable("Bedrock ServiceUnavailableException")
    steps, draft = picture_steps(table, media, painter, CountingPictures(error=outage))

    with pytest.raises(ProviderUnavailable):
        steps.generate_image(draft.images[0])

    asset = table.get_asset(draft.story_id, AssetKind.IMAGE, 0)
    assert asset.status is AssetStatus.GENERATING  # the state machine's Retry runs it again
    assert asset.s3_key is None and media.keys_under(f"stories/{draft.story_id}/") == []
