"""The OpenAI illustrator against a mock HTTP transport: the exact Images API request it sends,
how it reads the base64 picture, and how throttling, outages, timeouts and refusals come out."""

from __future__ import annotations

import base64
import io
import json

import httpx2
import pytest
from PIL import Image

from kidstory.models import Character
from kidstory.providers.base import MediaSpec
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.openai_image import OpenAIImageProvider
from kidstory.providers.openai_text import openai_client
from kidstory.safety import check_picture
from tests.unit.recorded_http import RecordedReplies

SPEC = MediaSpec(
    prompt="Milo holds up a glowing moon cheese. Characters: Milo, a small grey mouse with a red "
    "scarf. Style: soft watercolour, warm light; full-page picture.",
    character=Character(name="Milo", species="mouse", look="a small grey mouse with a red scarf"),
    art_style="soft watercolour, warm light",
)


def small_png() -> bytes:
    """A real PNG: 96x96, a colour gradient (enough to pass the picture check)."""
    image = Image.new("RGB", (96, 96))
    image.putdata([(x * 2, y * 2, 128) for y in range(96) for x in range(96)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


PNG = small_png()


def images_response(*pictures: bytes) -> httpx2.Response:
    """What the Images API answers for GPT image models: base64 only, with usage."""
    return httpx2.Response(
        200,
        json={
            "created": 1764061200,
            "background": "opaque",
            "output_format": "png",
            "quality": "medium",
            "size": "1024x1024",
            "data": [{"b64_json": base64.b64encode(picture).decode()} for picture in pictures],
            "usage": {
                "input_tokens": 84,
                "input_tokens_details": {"image_tokens": 0, "text_tokens": 84},
                "output_tokens": 1056,
                "total_tokens": 1140,
            },
        },
    )


def error(status: int, message: str, code: str | None, **headers: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": "image_generation_user_error", "code": code}}
    return httpx2.Response(status, headers=headers, json=body)


def illustrator(
    mock: RecordedReplies, model: str = "gpt-image-2.6-sunburst"
) -> OpenAIImageProvider:
    client = openai_client(
        api_key="sk-test",
        base_url=None,
        timeout_seconds=45,
        http_client=httpx2.Client(transport=httpx2.MockTransport(mock)),
    )
    return OpenAIImageProvider(model, client=client, timeout_seconds=45)


@pytest.fixture(autouse=True)
def no_endpoint_from_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def test_draws_one_square_png_through_the_images_api() -> None:
    mock = RecordedReplies(images_response(PNG))

    picture = illustrator(mock).generate_image(SPEC)

    [request] = mock.requests
    assert (request.method, str(request.url)) == (
        "POST",
        "https://api.openai.com/v1/images/generations",
    )
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.extensions["timeout"]["read"] == 45
    # GPT image models answer in base64 only: the legacy response_format is not sent
    assert json.loads(request.content) == {
        "model": "gpt-image-2.6-sunburst",
        "prompt": SPEC.prompt,
        "n": 1,
        "size": "1024x1024",
        "quality": "medium",
        "output_format": "png",
        "moderation": "auto",
    }
    assert (picture.content, picture.content_type) == (PNG, "image/png")
    assert check_picture(picture.content, picture.content_type).allowed


def test_the_model_comes_from_the_provider() -> None:
    mock = RecordedReplies(images_response(PNG))

    illustrator(mock, model="gpt-image-2.6-flare").generate_image(SPEC)

    assert json.loads(mock.requests[0].content)["model"] == "gpt-image-2.6-flare"


def test_throttling_is_retryable_and_keeps_the_wait_asked_for() -> None:
    mock = RecordedReplies(
        error(
            429,
            "Rate limit reached for images per minute",
            "rate_limit_exceeded",
            **{"retry-after": "12"},
        )
    )

    with pytest.raises(ProviderThrottled) as raised:
        illustrator(mock).generate_image(SPEC)

    assert raised.value.retry_after_seconds == 12
    assert raised.value.retryable


def test_an_exhausted_quota_is_not_retried() -> None:
    mock = RecordedReplies(error(429, "You exceeded your current quota", "insufficient_quota"))

    with pytest.raises(ProviderError) as raised:
        illustrator(mock).generate_image(SPEC)

    assert type(raised.value) is ProviderError and not raised.value.retryable


def test_a_server_error_is_an_outage() -> None:
    mock = RecordedReplies(error(500, "The server had an error processing your request", None))

    with pytest.raises(ProviderUnavailable, match="OpenAI answered 500"):
        illustrator(mock).generate_image(SPEC)


def test_a_timeout_is_retryable() -> None:
    def too_slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    with pytest.raises(ProviderTimeout):
        illustrator(RecordedReplies(too_slow)).generate_image(SPEC)


def test_a_picture_blocked_by_moderation_is_refused_with_the_reason() -> None:
    mock = RecordedReplies(
        error(
            400,
            "Your request was rejected as a result of our safety system.",
            "moderation_blocked",
        )
    )

    with pytest.raises(ContentRefused, match="rejected as a result of our safety system"):
        illustrator(mock).generate_image(SPEC)


def test_an_answer_without_a_picture_is_an_error() -> None:
    with pytest.raises(ProviderError, match="without a picture"):
        illustrator(RecordedReplies(images_response())).generate_image(SPEC)
