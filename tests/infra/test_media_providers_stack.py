"""The picture and clip providers of a stage, wired into the stack: the picture function alone
gets the picture provider's settings and grants, the clip functions alone the clip provider's,
and the grants are exactly what each needs (bedrock:InvokeModel on the one model, GetAsyncInvoke
on the account's invocations, the OpenAI key's one parameter).

Two stages are synthesized once per module (Bedrock pictures and clips; OpenAI pictures); the
synthesis runs the AwsSolutions checks, so an unacknowledged finding fails it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import (
    StageConfig,
    StageConfigError,
    project_context,
)
from infra.lambda_factory import MEDIA_MEMORY_MB, WAITING_MEMORY_MB
from tests.infra.test_providers_stack import (
    ACCOUNT,
    SYNTH_ENVIRONMENT_KEYS,
    arn,
    environments,
    key_reads,
    of_service,
    statements_by_role,
    synthesize,
)

KEY_PARAMETER = "/kidstory/dev/openai-images-key"
BEDROCK_MEDIA = {"image_provider": "bedrock", "video_provider": "bedrock"}
OPENAI_IMAGES = {
    "image_provider": "openai",
    "image_key_parameter": KEY_PARAMETER,
    "image_model": "gpt-image-2.6-flare",
}
IMAGE_FUNCTION = "GenerateImageFunction"
VIDEO_FUNCTIONS = ["StartVideoFunction", "CheckVideoFunction"]
MEDIA_PREFIXES = ("IMAGE_", "VIDEO_", "OPENAI_", "BEDROCK_")


@pytest.fixture(scope="module")
def bedrock_media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(str(tmp_path_factory.mktemp("bedrock-media")), BEDROCK_MEDIA)


@pytest.fixture(scope="module")
def openai_images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(str(tmp_path_factory.mktemp("openai-images")), OPENAI_IMAGES)


def role_of(template: dict[str, Any], function: str) -> str:
    return template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]


def media_settings(template: dict[str, Any], function: str) -> dict[str, Any]:
    return {
        name: value
        for name, value in environments(template)[function].items()
        if name.startswith(MEDIA_PREFIXES) and name != "VIDEO_MAX_CHECKS"
    }


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


# Settings


def test_each_media_function_gets_only_its_own_providers_settings(bedrock_media):
    assert media_settings(bedrock_media, IMAGE_FUNCTION) == {
        "IMAGE_PROVIDER": "bedrock",
        "BEDROCK_IMAGE_MODEL": "stability.stable-image-core-v1:1",
        "BEDROCK_IMAGE_REGION": "us-west-2",
    }
    for function in VIDEO_FUNCTIONS:
        assert media_settings(bedrock_media, function) == {
            "VIDEO_PROVIDER": "bedrock",
            "BEDROCK_VIDEO_MODEL": "luma.ray-v2:0",
            "BEDROCK_VIDEO_REGION": "us-west-2",
        }
    for function in environments(bedrock_media):
        if function not in [IMAGE_FUNCTION, *VIDEO_FUNCTIONS, "WriteStoryFunction"]:
            assert media_settings(bedrock_media, function) == {}, function


def test_openai_pictures_get_the_keys_parameter_never_the_key(openai_images):
    assert media_settings(openai_images, IMAGE_FUNCTION) == {
        "IMAGE_PROVIDER": "openai",
        "OPENAI_IMAGE_MODEL": "gpt-image-2.6-flare",
        "OPENAI_API_KEY_PARAMETER": KEY_PARAMETER,
    }
    text = json.dumps(openai_images)
    for value in SYNTH_ENVIRONMENT_KEYS.values():
        assert value not in text
    for function in VIDEO_FUNCTIONS:  # they would refuse to start without the key
        assert "IMAGE_PROVIDER" not in environments(openai_images)[function]


def test_a_model_made_picture_has_time_for_its_redraws(bedrock_media, openai_images):
    for template in (bedrock_media, openai_images):
        function = template["Resources"][IMAGE_FUNCTION]["Properties"]
        assert function["Timeout"] == 5 * 60


# Grants


def test_bedrock_pictures_and_clips_are_granted_exactly_their_models(bedrock_media):
    statements = statements_by_role(bedrock_media)
    model_arn = ":bedrock:us-west-2::foundation-model/"

    assert of_service(statements[role_of(bedrock_media, IMAGE_FUNCTION)], "bedrock") == [
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": arn(f"{model_arn}stability.stable-image-core-v1:1"),
        }
    ]
    # StartAsyncInvoke is authorized by bedrock:InvokeModel on the model
    assert of_service(statements[role_of(bedrock_media, "StartVideoFunction")], "bedrock") == [
        {
            "Action": "bedrock:InvokeModel",
            "Effect": "Allow",
            "Resource": arn(f"{model_arn}luma.ray-v2:0"),
        }
    ]
    assert of_service(statements[role_of(bedrock_media, "CheckVideoFunction")], "bedrock") == [
        {
            "Action": "bedrock:GetAsyncInvoke",
            "Effect": "Allow",
            "Resource": arn(":bedrock:us-west-2:", ACCOUNT, ":async-invoke/*"),
        }
    ]
    media_roles = {role_of(bedrock_media, f) for f in [IMAGE_FUNCTION, *VIDEO_FUNCTIONS]}
    for role, held in statements.items():
        assert not key_reads(held), role
        if role not in media_roles:
            assert not of_service(held, "bedrock"), role


def test_clips_are_written_by_bedrock_with_the_starters_s3_write_and_tidied_by_the_checker(
    bedrock_media,
):
    statements = statements_by_role(bedrock_media)
    stories = {"Fn::Join": ["", [{"Fn::GetAtt": ["MediaBucket", "Arn"]}, "/stories/*"]]}

    def s3_actions(function: str) -> set[str]:
        held = of_service(statements[role_of(bedrock_media, function)], "s3")
        return {a for s in held if s["Resource"] == stories for a in actions(s)}

    assert "s3:PutObject" in s3_actions("StartVideoFunction")
    assert "s3:DeleteObject" in s3_actions("CheckVideoFunction")
    assert "s3:DeleteObject" not in s3_actions("StartVideoFunction") | s3_actions(IMAGE_FUNCTION)


def test_openai_pictures_may_read_exactly_their_keys_parameter(openai_images):
    statements = statements_by_role(openai_images)
    image_role = role_of(openai_images, IMAGE_FUNCTION)

    assert of_service(statements[image_role], "ssm") == [
        {
            "Action": "ssm:GetParameter",
            "Effect": "Allow",
            "Resource": arn(
                ":ssm:", {"Ref": "AWS::Region"}, ":", ACCOUNT, f":parameter{KEY_PARAMETER}"
            ),
        }
    ]
    for role, held in statements.items():
        assert not of_service(held, "bedrock"), role
        if role != image_role:
            assert not key_reads(held), role


# Stage settings


def stage(**values: Any) -> StageConfig:
    return StageConfig.from_mapping("dev", {**project_context()["stages"]["dev"], **values})


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"image_provider": "openai"}, "image_key_parameter is required when image_provider"),
        (
            {"image_provider": "openai", "image_key_parameter": "arn:aws:ssm:::parameter/k"},
            "image_key_parameter must be an SSM parameter name",
        ),
        (
            {"image_provider": "openai", "image_key_parameter": "/k", "image_region": "us-east-1"},
            "image_region does not apply to image_provider openai",
        ),
        (
            {"image_provider": "bedrock", "image_key_parameter": "/k"},
            "image_key_parameter does not apply to image_provider bedrock",
        ),
        ({"image_provider": "bedrock", "image_model": "stability.*"}, "image_model for bedrock"),
        (
            {"image_provider": "bedrock", "image_model": "amazon.titan-image-generator-v2:0"},
            "not a Stability AI Stable Image model",
        ),
        ({"image_provider": "bedrock", "image_region": "oregon"}, "image_region must be"),
        ({"video_provider": "bedrock", "video_model": " "}, "video_model must not be blank"),
        (
            {"video_provider": "bedrock", "video_model": "amazon.nova-reel-v1:1"},
            "not a Luma AI Ray model",
        ),
        (
            {"video_provider": "bedrock", "video_model": "eu.luma.ray-v2:0"},
            "video_region us-west-2 cannot call the inference profile eu.luma.ray-v2:0",
        ),
        ({"video_provider": "openai"}, "video_provider must be one of offline, bedrock"),
    ],
)
def test_media_settings_that_cannot_work_are_refused_by_name(values, problem):
    with pytest.raises(StageConfigError, match=problem):
        stage(**values)


def test_offline_media_ignore_the_provider_settings_so_a_stage_can_be_switched_back():
    switched = stage(image_model="gpt-image-2.6-flare", video_model="luma.ray-v2:0")

    assert switched.image_provider_environment == {"IMAGE_PROVIDER": "offline"}
    assert switched.video_provider_environment == {"VIDEO_PROVIDER": "offline"}


def test_openai_pictures_go_through_the_stages_openai_gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    gateway = "https://llm-gateway.example.org/openai/v1"
    template = synthesize(
        str(tmp_path_factory.mktemp("openai-gateway")),
        OPENAI_IMAGES
        | {
            "llm_provider": "openai",
            "provider_key_parameter": "/kidstory/dev/openai-api-key",
            "provider_base_url": gateway,
        },
    )

    assert media_settings(template, IMAGE_FUNCTION)["OPENAI_BASE_URL"] == gateway
    assert environments(template)["WriteStoryFunction"]["OPENAI_BASE_URL"] == gateway


def test_a_picture_function_that_waits_on_a_model_is_not_billed_for_drawing_memory(
    bedrock_media: dict[str, Any], openai_images: dict[str, Any], synthesized: Any
) -> None:
    """The offline provider draws (CPU comes with memory); a model's picture is only waited
    for, and every second of the wait is billed by the function's memory."""

    def memory(template: dict[str, Any]) -> int:
        return int(template["Resources"]["GenerateImageFunction"]["Properties"]["MemorySize"])

    assert memory(bedrock_media) == memory(openai_images) == WAITING_MEMORY_MB
    offline = synthesized.resources["GenerateImageFunction"]["Properties"]["MemorySize"]
    assert offline == MEDIA_MEMORY_MB > WAITING_MEMORY_MB
