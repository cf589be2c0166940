"""Every provider family through the real workflow on the local stack: a story is asked for
through the HTTP API, and the product's own provider code (the OpenAI, Anthropic and boto3 SDKs)
runs inside WriteStory and GenerateImage. Only the model services are fake, at the wire: a local
HTTP server speaking OpenAI's, Anthropic's and Ollama's APIs under a gateway's path (reached
through OPENAI_BASE_URL, ANTHROPIC_BASE_URL and OLLAMA_BASE_URL), and a botocore `before-send`
hook answering bedrock-runtime. The fake model reads what it is asked and answers it
(tests/e2e/fake_models.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from infra.local.emulator import LocalStack
from kidstory.models import AgeGroup, AssetKind
from kidstory.providers import bedrock_image, bedrock_text
from kidstory.providers.prompts import AGE_GUIDES
from kidstory.wiring import story_table
from tests.e2e.conftest import ApiClient, _clear_process_caches
from tests.e2e.fake_models import (
    ART_STYLE,
    HERO,
    TITLE,
    FakeBedrock,
    FakeModelServer,
    Received,
    StoryModel,
    character_sheet,
)

OPENAI_KEY = "sk-e2e-fake-openai-key"
ANTHROPIC_KEY = "sk-ant-e2e-fake-anthropic-key"
# Models other than the defaults, so the requests prove the model variables are honoured.
OPENAI_TEXT_MODEL = "gpt-6.1-sol"
OPENAI_IMAGE_MODEL = "gpt-image-2.6-flare"
ANTHROPIC_TEXT_MODEL = "claude-haiku-5-5"
OLLAMA_TEXT_MODEL = "llama-kids:8b-e2e"
BEDROCK_IMAGE_MODEL = "stability.stable-image-ultra-v1:1"
REPAIR = "Your previous answer could not be used: "

Configure = Callable[..., None]


@pytest.fixture
def configure(local_stack: LocalStack) -> Iterator[Configure]:
    """Sets the functions' environment for this test only, as a stage configured with these
    providers would (settings are read from os.environ: the functions run in this process)."""
    with pytest.MonkeyPatch.context() as patch:

        def configure(**variables: str) -> None:
            for name, value in variables.items():
                patch.setenv(name, value)
            _clear_process_caches()

        yield configure
    _clear_process_caches()  # after the environment is restored


@pytest.fixture
def fake_server() -> Iterator[FakeModelServer]:
    with FakeModelServer() as server:
        yield server


@pytest.fixture
def fake_bedrock(configure: Configure, monkeypatch: pytest.MonkeyPatch) -> FakeBedrock:
    """The Bedrock text and picture providers' real clients, answered by the fake."""
    fake = FakeBedrock()
    monkeypatch.setattr(bedrock_text, "bedrock_client", fake.wrap(bedrock_text.bedrock_client))
    monkeypatch.setattr(bedrock_image, "bedrock_client", fake.wrap(bedrock_image.bedrock_client))
    return fake


# what every family must show


def make_story(client: ApiClient, *, age_group: str, num_illustrations: int) -> dict[str, Any]:
    """Ask for a story through the API, wait for the job, and return the published story."""
    accepted = client.generate(
        prompt="A little hedgehog whose lantern stops glowing",
        age_group=age_group,
        num_illustrations=num_illustrations,
        generate_images=True,
        generate_videos=False,
    )
    assert accepted.status_code == 202, accepted.text
    job = client.wait_for(accepted.json()["job_id"], timeout=60)
    assert job["status"] == "completed", job["error"]
    response = client.story(job["story_id"])
    assert response.status_code == 200, response.text
    story: dict[str, Any] = response.json()
    return story


def assert_the_story_is_the_models(
    story: dict[str, Any], model: StoryModel, *, age_group: str, num_illustrations: int
) -> None:
    """The published story is the fake model's last story answer, and its pictures were asked
    for with the character sheet and art style, word for word."""
    assert not model.problems, model.problems
    answers = [exchange.answer for exchange in model.of_kind("story") if exchange.answer]
    assert story["title"] == TITLE
    assert story["pages"] == answers[-1]["pages"]
    low, _ = AGE_GUIDES[AgeGroup(age_group)].pages
    assert len(story["pages"]) >= max(low, num_illustrations)
    assert story["content"] == "\n\n".join(story["pages"])
    assert story["character"] == HERO
    assert story["offline"] is False
    assert story["readability"]["fits_age_group"] is True
    # the scenes came with the story: no second call before the first picture
    assert model.of_kind("scenes") == []
    planned = answers[-1]["scenes"]
    assert [image["scene_description"] for image in story["images"]] == [
        scene["scene_description"] for scene in planned
    ]
    assert [image["display_order"] for image in story["images"]] == list(range(num_illustrations))
    for image in story["images"]:
        assert character_sheet() in image["prompt_used"]
        assert ART_STYLE in image["prompt_used"]


def assert_the_pictures_are_the_models(
    client: ApiClient, story: dict[str, Any], model: StoryModel
) -> None:
    """Every picture served is the PNG the fake model drew for that picture's prompt, and every
    picture prompt the model received carries the character sheet word for word."""
    drawn = [exchange for exchange in model.of_kind("picture") if exchange.status == 200]
    assert sorted(exchange.question for exchange in drawn) == sorted(
        image["prompt_used"] for image in story["images"]
    )
    for exchange in model.of_kind("picture"):
        assert f"Characters: {character_sheet()}." in exchange.question
        assert f"Style: {ART_STYLE};" in exchange.question
    for image in story["images"]:
        fetched = client.http.get(image["image_url"])
        assert fetched.status_code == 200
        assert fetched.headers["content-type"] == "image/png"
        assert fetched.content.startswith(b"\x89PNG\r\n\x1a\n")
        assert fetched.content == model.pictures[image["prompt_used"]]


def assert_repaired(model: StoryModel, problem: str) -> None:
    """The first story answer was unusable, and the question was asked again with the reason."""
    first, second = model.of_kind("story")
    assert REPAIR not in first.question
    assert f"{REPAIR}{problem}" in second.question
    assert second.question.startswith(first.question)


def openai_environment(server: FakeModelServer) -> dict[str, str]:
    return {
        "LLM_PROVIDER": "openai",
        "IMAGE_PROVIDER": "openai",
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": server.openai_base_url,
        "OPENAI_TEXT_MODEL": OPENAI_TEXT_MODEL,
        "OPENAI_IMAGE_MODEL": OPENAI_IMAGE_MODEL,
    }


def assert_openai_pictures_asked(exchanges: list[Received]) -> None:
    assert exchanges
    for exchange in exchanges:
        assert exchange.path == "/gateway/openai/v1/images/generations"
        assert exchange.model_id == OPENAI_IMAGE_MODEL
        assert exchange.headers["authorization"] == f"Bearer {OPENAI_KEY}"
        assert (exchange.body["n"], exchange.body["size"]) == (1, "1024x1024")


# the families


def test_openai_writes_and_draws_through_the_gateway_and_repairs_a_short_story(
    client: ApiClient, configure: Configure, fake_server: FakeModelServer
) -> None:
    configure(**openai_environment(fake_server))
    fake_server.model.spoil_first_story = "too_few_pages"

    story = make_story(client, age_group="3-5", num_illustrations=2)

    model = fake_server.model
    assert_the_story_is_the_models(story, model, age_group="3-5", num_illustrations=2)
    assert_the_pictures_are_the_models(client, story, model)
    assert_repaired(model, "the story has 2 pages; it needs at least 6")
    text = model.of_kind("story") + model.of_kind("scenes")
    for exchange in text:
        assert exchange.path == "/gateway/openai/v1/responses"
        assert exchange.model_id == OPENAI_TEXT_MODEL
        assert exchange.headers["authorization"] == f"Bearer {OPENAI_KEY}"
        assert exchange.body["text"]["format"]["strict"] is True
    assert_openai_pictures_asked(model.of_kind("picture"))


def test_a_picture_throttled_once_is_retried_by_the_workflow(
    client: ApiClient, configure: Configure, fake_server: FakeModelServer
) -> None:
    """429 with Retry-After: the SDK makes no retry of its own (max_retries=0), the step waits
    as long as the provider asked (1 s), fails with ProviderThrottled, and the state machine's
    Retry draws the picture again."""
    configure(**openai_environment(fake_server))
    fake_server.model.throttle_first_picture = True

    story = make_story(client, age_group="6-8", num_illustrations=1)

    model = fake_server.model
    assert_the_story_is_the_models(story, model, age_group="6-8", num_illustrations=1)
    assert_the_pictures_are_the_models(client, story, model)
    throttled, drawn = model.of_kind("picture")
    assert (throttled.status, drawn.status) == (429, 200)
    assert drawn.at - throttled.at >= 1.0  # the fake's Retry-After
    assert throttled.question == drawn.question == story["images"][0]["prompt_used"]
    assert_openai_pictures_asked([throttled, drawn])
    asset = story_table().get_asset(story["id"], AssetKind.IMAGE, 0)
    assert (asset.attempts, asset.error, asset.model) == (2, None, OPENAI_IMAGE_MODEL)


def test_anthropic_writes_and_repairs_malformed_json_while_openai_draws(
    client: ApiClient, configure: Configure, fake_server: FakeModelServer
) -> None:
    configure(
        LLM_PROVIDER="anthropic",
        ANTHROPIC_API_KEY=ANTHROPIC_KEY,
        ANTHROPIC_BASE_URL=fake_server.anthropic_base_url,
        ANTHROPIC_TEXT_MODEL=ANTHROPIC_TEXT_MODEL,
        IMAGE_PROVIDER="openai",
        OPENAI_API_KEY=OPENAI_KEY,
        OPENAI_BASE_URL=fake_server.openai_base_url,
        OPENAI_IMAGE_MODEL=OPENAI_IMAGE_MODEL,
    )
    fake_server.model.spoil_first_story = "malformed_json"

    story = make_story(client, age_group="6-8", num_illustrations=2)

    model = fake_server.model
    assert_the_story_is_the_models(story, model, age_group="6-8", num_illustrations=2)
    assert_the_pictures_are_the_models(client, story, model)
    assert_repaired(model, "answer: Invalid JSON")
    for exchange in model.of_kind("story") + model.of_kind("scenes"):
        assert exchange.path == "/gateway/anthropic/v1/messages"
        assert exchange.model_id == ANTHROPIC_TEXT_MODEL
        # this SDK sends the key as a bearer token; the API also takes it as x-api-key
        keys = {exchange.headers.get("x-api-key"), exchange.headers.get("authorization")}
        assert keys & {ANTHROPIC_KEY, f"Bearer {ANTHROPIC_KEY}"}, exchange.headers
        assert exchange.headers.get("anthropic-version")
        assert exchange.body["output_config"]["format"]["type"] == "json_schema"
    assert_openai_pictures_asked(model.of_kind("picture"))


def test_ollama_writes_the_story_for_offline_pictures(
    client: ApiClient, configure: Configure, fake_server: FakeModelServer
) -> None:
    """A local model behind OLLAMA_BASE_URL (given without /v1), pictures offline."""
    configure(
        LLM_PROVIDER="ollama",
        OLLAMA_BASE_URL=fake_server.ollama_base_url,
        OLLAMA_TEXT_MODEL=OLLAMA_TEXT_MODEL,
        IMAGE_PROVIDER="offline",
    )

    story = make_story(client, age_group="3-5", num_illustrations=1)

    model = fake_server.model
    assert_the_story_is_the_models(story, model, age_group="3-5", num_illustrations=1)
    assert model.of_kind("picture") == []
    (image,) = story["images"]
    fetched = client.http.get(image["image_url"])
    assert (fetched.status_code, fetched.headers["content-type"]) == (200, "image/png")
    for exchange in model.of_kind("story") + model.of_kind("scenes"):
        assert exchange.path == "/gateway/ollama/v1/chat/completions"
        assert exchange.model_id == OLLAMA_TEXT_MODEL
        assert exchange.body["response_format"]["json_schema"]["strict"] is True
        assert [message["role"] for message in exchange.body["messages"]] == ["system", "user"]


@pytest.mark.parametrize(
    "text_model",
    [
        # Amazon Nova through a cross-Region profile: the schema is a forced tool call
        "eu.amazon.nova-2-lite-v1:0",
        # a model the registry does not know: the schema goes in Converse's outputConfig
        "anthropic.claude-haiku-5-5-v1:0",
    ],
)
def test_bedrock_writes_and_draws(
    client: ApiClient, configure: Configure, fake_bedrock: FakeBedrock, text_model: str
) -> None:
    configure(
        LLM_PROVIDER="bedrock",
        BEDROCK_TEXT_MODEL=text_model,
        BEDROCK_REGION="eu-west-1",
        IMAGE_PROVIDER="bedrock",
        BEDROCK_IMAGE_MODEL=BEDROCK_IMAGE_MODEL,
        BEDROCK_IMAGE_REGION="us-west-2",
    )

    story = make_story(client, age_group="3-5", num_illustrations=2)

    model = fake_bedrock.model
    assert_the_story_is_the_models(story, model, age_group="3-5", num_illustrations=2)
    assert_the_pictures_are_the_models(client, story, model)
    by_tool = text_model.startswith("eu.amazon.nova")
    for exchange in model.of_kind("story") + model.of_kind("scenes"):
        assert exchange.path == f"/model/{text_model}/converse"
        assert exchange.model_id == text_model
        assert "/eu-west-1/bedrock/aws4_request" in exchange.headers["authorization"]
        assert ("toolConfig" in exchange.body, "outputConfig" in exchange.body) == (
            by_tool,
            not by_tool,
        )
    pictures = model.of_kind("picture")
    for exchange in pictures:
        assert exchange.path == f"/model/{BEDROCK_IMAGE_MODEL}/invoke"
        assert "/us-west-2/bedrock/aws4_request" in exchange.headers["authorization"]
        assert exchange.body["aspect_ratio"] == "1:1"
    # one seed for the whole story, so the pages share a look as far as a seed can make them
    assert len({exchange.body["seed"] for exchange in pictures}) == 1
