"""The Bedrock illustrator (Stable Image, InvokeModel) and animator (Luma Ray2, async invoke) on
real bedrock-runtime clients under botocore's Stubber: the exact requests, the answers they read,
and how refusals, throttling, outages and failed jobs come out."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from kidstory.models import Character
from kidstory.providers.base import GeneratedMedia, MediaSpec
from kidstory.providers.bedrock_image import BedrockImageProvider
from kidstory.providers.bedrock_text import bedrock_client
from kidstory.providers.bedrock_video import BedrockVideoProvider
from kidstory.providers.errors import (
    ContentRefused,
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from tests.unit.providers.test_providers_openai_image import PNG

IMAGE_MODEL = "stability.stable-image-core-v1:1"
VIDEO_MODEL = "luma.ray-v2:0"
BUCKET = "kidstory-media"
FOLDER = "stories/660e8400-story/880e8400-clip"
INVOCATION = "arn:aws:bedrock:us-west-2:123456789012:async-invoke/k3d8b2x9q1zf"
HERO = Character(name="Pip", species="penguin", look="a small penguin in a yellow knitted hat")
STYLE = "bright gouache, rounded shapes, cheerful colours"


def spec(prompt: str = "Pip slides down a snowy hill.", **fields: Any) -> MediaSpec:
    return MediaSpec(prompt=prompt, character=HERO, art_style=STYLE, **fields)


class Bedrock:
    """A real bedrock-runtime client with its responses stubbed and its requests kept."""

    def __init__(self) -> None:
        self.client = bedrock_client("us-west-2", timeout_seconds=30)
        self.stubber = Stubber(self.client)
        self.requests: list[dict[str, Any]] = []
        self.client.meta.events.register("before-parameter-build.bedrock-runtime", self._keep)

    def _keep(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(dict(params))

    def body(self, index: int = 0) -> Any:
        return json.loads(self.requests[index]["body"])

    def fails(self, operation: str, code: str, status: int, message: str = "") -> None:
        self.stubber.add_client_error(
            operation,
            service_error_code=code,
            service_message=message or f"{code} from the test",
            http_status_code=status,
        )

    def __enter__(self) -> Bedrock:
        self.stubber.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stubber.deactivate()


def stability_answer(body: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(body).encode()
    return {"body": StreamingBody(io.BytesIO(data), len(data)), "contentType": "application/json"}


# Pictures: Stable Image Core


def test_draws_a_square_png_with_the_storys_seed() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response(
            "invoke_model",
            stability_answer(
                {
                    "seeds": [2130420379],
                    "finish_reasons": [None],
                    "images": [base64.b64encode(PNG).decode()],
                }
            ),
        )
        picture = BedrockImageProvider(IMAGE_MODEL, client=bedrock.client).generate_image(spec())

    request = bedrock.requests[0]
    assert (request["modelId"], request["contentType"], request["accept"]) == (
        IMAGE_MODEL,
        "application/json",
        "application/json",
    )
    body = bedrock.body()
    assert set(body) == {"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format"}
    assert (body["prompt"], body["aspect_ratio"], body["output_format"]) == (
        "Pip slides down a snowy hill.",
        "1:1",
        "png",
    )
    assert 1 <= body["seed"] <= 4_294_967_295
    assert "text" in body["negative_prompt"] and "scary" in body["negative_prompt"]
    assert picture == GeneratedMedia(content=PNG, content_type="image/png")


def test_every_page_of_a_story_shares_a_seed_and_another_story_does_not() -> None:
    with Bedrock() as bedrock:
        for _ in range(3):
            bedrock.stubber.add_response(
                "invoke_model",
                stability_answer(
                    {"finish_reasons": [None], "images": [base64.b64encode(PNG).decode()]}
                ),
            )
        provider = BedrockImageProvider(IMAGE_MODEL, client=bedrock.client)
        provider.generate_image(spec("Pip slides down a snowy hill."))
        provider.generate_image(spec("Pip meets a seal on the ice."))
        other = MediaSpec(
            prompt="Pip meets a seal on the ice.",
            character=Character(name="Tuk", species="walrus", look="a big walrus in a red cap"),
            art_style=STYLE,
        )
        provider.generate_image(other)

    seeds = [bedrock.body(index)["seed"] for index in range(3)]
    assert seeds[0] == seeds[1] != seeds[2]


@pytest.mark.parametrize("reason", ["Filter reason: prompt", "Filter reason: output image"])
def test_a_filtered_picture_is_refused_with_the_reason(reason: str) -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response("invoke_model", stability_answer({"finish_reasons": [reason]}))
        with pytest.raises(ContentRefused, match=reason):
            BedrockImageProvider(IMAGE_MODEL, client=bedrock.client).generate_image(spec())


def test_an_inference_error_is_an_outage_worth_retrying() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response(
            "invoke_model", stability_answer({"finish_reasons": ["Inference error"]})
        )
        with pytest.raises(ProviderUnavailable, match="Inference error"):
            BedrockImageProvider(IMAGE_MODEL, client=bedrock.client).generate_image(spec())


@pytest.mark.parametrize(
    ("code", "status", "message", "kind"),
    [
        ("ThrottlingException", 429, "Too many requests, please wait", ProviderThrottled),
        ("ServiceUnavailableException", 503, "Service unavailable", ProviderUnavailable),
        ("InternalServerException", 500, "Internal server error", ProviderUnavailable),
        ("ModelTimeoutException", 408, "Model timed out", ProviderTimeout),
        (
            "ValidationException",
            400,
            "The prompt was blocked by our content filters.",
            ContentRefused,
        ),
        ("AccessDeniedException", 403, "You don't have access to the model", ProviderError),
    ],
)
def test_bedrock_errors_become_ours(
    code: str, status: int, message: str, kind: type[ProviderError]
) -> None:
    with Bedrock() as bedrock:
        bedrock.fails("invoke_model", code, status, message)
        with pytest.raises(ProviderError) as raised:
            BedrockImageProvider(IMAGE_MODEL, client=bedrock.client).generate_image(spec())

    assert type(raised.value) is kind
    assert message in str(raised.value)


def test_a_read_timeout_is_retryable() -> None:
    bedrock = Bedrock()

    def too_slow(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://bedrock-runtime.us-west-2.amazonaws.com")

    bedrock.client.meta.events.register("before-send.bedrock-runtime.InvokeModel", too_slow)
    with pytest.raises(ProviderTimeout):
        BedrockImageProvider(IMAGE_MODEL, client=bedrock.client).generate_image(spec())


# Clips: Luma Ray2, asynchronous, straight into the media bucket


def animator(bedrock: Bedrock) -> BedrockVideoProvider:
    return BedrockVideoProvider(
        VIDEO_MODEL, client=bedrock.client, bucket=BUCKET, poll_after_seconds=20
    )


def started() -> dict[str, Any]:
    return {"invocationArn": INVOCATION}


def job(status: str, **fields: Any) -> dict[str, Any]:
    return {
        "invocationArn": INVOCATION,
        "modelArn": f"arn:aws:bedrock:us-west-2::foundation-model/{VIDEO_MODEL}",
        "clientRequestToken": "7f1d0b39-1c1b-5a83-9f0e-3a3c2e0b6f21",
        "status": status,
        "submitTime": datetime(2026, 11, 25, 9, 10, tzinfo=UTC),
        "lastModifiedTime": datetime(2026, 11, 25, 9, 11, tzinfo=UTC),
        "outputDataConfig": {
            "s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/{FOLDER}/k3d8b2x9q1zf"}
        },
        **fields,
    }


def test_starts_a_clip_that_writes_into_the_media_bucket() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response(
            "start_async_invoke",
            started(),
            {
                "clientRequestToken": ANY,
                "modelId": VIDEO_MODEL,
                "modelInput": {
                    "prompt": "Pip slides down a snowy hill.",
                    "aspect_ratio": "1:1",
                    "loop": False,
                    "duration": "5s",
                    "resolution": "720p",
                },
                "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/{FOLDER}"}},
            },
        )
        operation = animator(bedrock).start_video(spec(output_prefix=FOLDER))

    assert (operation.operation_id, operation.poll_after_seconds) == (INVOCATION, 20)


def test_a_clip_starts_from_the_pages_illustration_when_given_one() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response("start_async_invoke", started())
        picture = GeneratedMedia(content=PNG, content_type="image/png")
        animator(bedrock).start_video(spec(output_prefix=FOLDER, start_image=picture, seconds=8))

    model_input = bedrock.requests[0]["modelInput"]
    assert model_input["duration"] == "9s"
    assert model_input["keyframes"] == {
        "frame0": {
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/png",
                "data": base64.b64encode(PNG).decode(),
            },
        }
    }


def test_starting_the_same_clip_again_sends_the_same_idempotency_token() -> None:
    with Bedrock() as bedrock:
        for _ in range(3):
            bedrock.stubber.add_response("start_async_invoke", started())
        provider = animator(bedrock)
        provider.start_video(spec(output_prefix=FOLDER))
        provider.start_video(spec(output_prefix=FOLDER))
        provider.start_video(spec(output_prefix="stories/660e8400-story/990e8400-other-clip"))

    tokens = [request["clientRequestToken"] for request in bedrock.requests]
    assert tokens[0] == tokens[1] != tokens[2]


def test_a_clip_in_progress_is_not_done() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response(
            "get_async_invoke", job("InProgress"), {"invocationArn": INVOCATION}
        )
        check = animator(bedrock).check_video(INVOCATION, spec())

    assert (check.done, check.media, check.stored_key) == (False, None, None)


def test_a_completed_clip_is_already_in_the_bucket_at_its_output_key() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response(
            "get_async_invoke", job("Completed", endTime=datetime(2026, 11, 25, 9, 12, tzinfo=UTC))
        )
        check = animator(bedrock).check_video(INVOCATION, spec())

    assert check.done and check.media is None
    assert check.stored_key == f"{FOLDER}/k3d8b2x9q1zf/output.mp4"


def test_the_output_key_is_found_when_bedrock_reports_the_uri_it_was_given() -> None:
    answer = job("Completed")
    answer["outputDataConfig"] = {"s3OutputDataConfig": {"s3Uri": f"s3://{BUCKET}/{FOLDER}"}}
    with Bedrock() as bedrock:
        bedrock.stubber.add_response("get_async_invoke", answer)
        check = animator(bedrock).check_video(INVOCATION, spec())

    assert check.stored_key == f"{FOLDER}/k3d8b2x9q1zf/output.mp4"


def test_a_clip_written_to_another_bucket_is_an_error() -> None:
    answer = job("Completed")
    answer["outputDataConfig"] = {"s3OutputDataConfig": {"s3Uri": "s3://elsewhere/x/y"}}
    with Bedrock() as bedrock:
        bedrock.stubber.add_response("get_async_invoke", answer)
        with pytest.raises(ProviderError, match="outside the media bucket"):
            animator(bedrock).check_video(INVOCATION, spec())


def test_a_failed_clip_fails_with_bedrocks_reason() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response(
            "get_async_invoke",
            job("Failed", failureMessage="Internal error while generating the video"),
        )
        with pytest.raises(ProviderError) as raised:
            animator(bedrock).check_video(INVOCATION, spec())

    assert type(raised.value) is ProviderError and not raised.value.retryable
    assert "Internal error while generating the video" in str(raised.value)


def test_a_clip_stopped_by_the_content_filter_is_refused() -> None:
    with Bedrock() as bedrock:
        bedrock.stubber.add_response(
            "get_async_invoke",
            job("Failed", failureMessage="The generated video was blocked by content filters."),
        )
        with pytest.raises(ContentRefused, match="blocked by content filters"):
            animator(bedrock).check_video(INVOCATION, spec())


@pytest.mark.parametrize(
    ("operation", "code", "status", "kind"),
    [
        ("start_async_invoke", "ThrottlingException", 429, ProviderThrottled),
        ("start_async_invoke", "ServiceQuotaExceededException", 400, ProviderThrottled),
        ("start_async_invoke", "ServiceUnavailableException", 503, ProviderUnavailable),
        ("get_async_invoke", "ThrottlingException", 429, ProviderThrottled),
        ("get_async_invoke", "InternalServerException", 500, ProviderUnavailable),
        ("start_async_invoke", "ValidationException", 400, ProviderError),
    ],
)
def test_async_invoke_errors_become_ours(
    operation: str, code: str, status: int, kind: type[ProviderError]
) -> None:
    with Bedrock() as bedrock:
        bedrock.fails(operation, code, status)
        provider = animator(bedrock)
        with pytest.raises(ProviderError) as raised:
            if operation == "start_async_invoke":
                provider.start_video(spec(output_prefix=FOLDER))
            else:
                provider.check_video(INVOCATION, spec())

    assert type(raised.value) is kind


def test_a_clip_without_a_place_in_the_bucket_is_not_started() -> None:
    with Bedrock() as bedrock, pytest.raises(ProviderError, match="place in the media bucket"):
        animator(bedrock).start_video(spec())
