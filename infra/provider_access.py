"""Provider access: every IAM grant a function needs to call the stage's text, picture, clip,
narration and moderation providers (an SSM key parameter, a Bedrock model or guardrail, Polly),
and nothing for offline."""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from infra import parameter_arn
from infra.config import StageConfig, foundation_model_id, inference_profile_geography
from infra.config.media import BedrockImages, BedrockVideo
from infra.config.moderation import BedrockModeration
from infra.config.narration import PollyNarration
from infra.config.text import BedrockText
from infra.storage import MEDIA_PREFIX, Storage


def bedrock_invoke_statements(
    stack: Stack, model_id: str, region: str
) -> list[iam.PolicyStatement]:
    """bedrock:InvokeModel (what Converse needs) on exactly one model, called in `region`.

    A cross-Region inference profile ("us.amazon.nova-2-lite-v1:0") needs the profile, and the
    model behind it in every Region the profile routes to: `*` for the Region, because Bedrock
    chooses and adds destination Regions (and a `global.` profile's model ARN has no Region),
    held to calls made through this profile by `bedrock:InferenceProfileArn`."""
    model = foundation_model_id(model_id)
    if inference_profile_geography(model_id) is None:
        return [
            iam.PolicyStatement(
                actions=["bedrock:InvokeModel"],
                resources=[_bedrock_arn(stack, region, "", "foundation-model", model)],
            )
        ]
    profile = _bedrock_arn(stack, region, stack.account, "inference-profile", model_id)
    return [
        iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=[profile]),
        iam.PolicyStatement(
            actions=["bedrock:InvokeModel"],
            resources=[_bedrock_arn(stack, "*", "", "foundation-model", model)],
            conditions={"StringEquals": {"bedrock:InferenceProfileArn": profile}},
        ),
    ]


def _bedrock_arn(stack: Stack, region: str, account: str, resource: str, name: str) -> str:
    return stack.format_arn(
        service="bedrock",
        region=region,
        account=account,
        resource=resource,
        resource_name=name,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def _read_parameter(function: lambda_.Function, name: str) -> None:
    function.add_to_role_policy(
        iam.PolicyStatement(
            actions=["ssm:GetParameter"], resources=[parameter_arn(Stack.of(function), name)]
        )
    )


def grant_bedrock_model(function: lambda_.Function, model_id: str, region: str) -> None:
    """bedrock:InvokeModel on exactly one model or inference profile (bedrock_invoke_statements),
    with the acknowledgment a profile's Region wildcard needs."""
    for statement in bedrock_invoke_statements(Stack.of(function), model_id, region):
        function.add_to_role_policy(statement)
    if inference_profile_geography(model_id) is not None:
        role = function.role
        assert role is not None  # the factory gives every function its own role
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:*::"
                f"foundation-model/{foundation_model_id(model_id)}]",
                reason=f"Bedrock's cross-Region inference profile {model_id} runs the model in "
                "Regions that Bedrock chooses (and may add to): the Region is the only wildcard, "
                "on this one model, and the statement's bedrock:InferenceProfileArn condition "
                "allows it only through the profile granted beside it.",
            )
        )


def grant_text_provider(function: lambda_.Function, config: StageConfig) -> None:
    """What the story writer's provider needs: ssm:GetParameter on the parameter holding the
    openai/anthropic key (or an Ollama gateway's, when one is named), or bedrock:InvokeModel on
    the model."""
    text = config.text
    if text.key_parameter:
        _read_parameter(function, text.key_parameter)
    if isinstance(text, BedrockText):
        grant_bedrock_model(function, text.model_id, text.source_region)


def grant_image_provider(generate_image: lambda_.Function, config: StageConfig) -> None:
    """What the picture provider needs: ssm:GetParameter on the parameter holding the OpenAI
    key, or bedrock:InvokeModel on the Bedrock picture model."""
    images = config.images
    if images.key_parameter:
        _read_parameter(generate_image, images.key_parameter)
    if isinstance(images, BedrockImages):
        grant_bedrock_model(generate_image, images.model_id, images.source_region)


def grant_video_provider(
    start_video: lambda_.Function,
    check_video: lambda_.Function,
    config: StageConfig,
    storage: Storage,
) -> None:
    """What the Bedrock clip provider needs.

    StartAsyncInvoke is authorized by bedrock:InvokeModel on the model (there is no separate IAM
    action for it), and Bedrock writes the clip with the caller's own s3:PutObject on stories/*,
    which every media function has. GetAsyncInvoke is bedrock:GetAsyncInvoke on the invocation,
    an async-invoke resource of the account in the model's Region. check_video copies the clip to
    its own key and deletes the model's output folder: s3:DeleteObject on stories/*."""
    video = config.video
    if not isinstance(video, BedrockVideo):
        return
    grant_bedrock_model(start_video, video.model_id, video.source_region)
    stack = Stack.of(check_video)
    check_video.add_to_role_policy(
        iam.PolicyStatement(
            actions=["bedrock:GetAsyncInvoke"],
            resources=[
                _bedrock_arn(stack, video.source_region, stack.account, "async-invoke", "*")
            ],
        )
    )
    check_video.add_to_role_policy(
        iam.PolicyStatement(
            actions=["s3:DeleteObject"],
            resources=[storage.media_bucket.arn_for_objects(f"{MEDIA_PREFIX}*")],
        )
    )
    role = check_video.role
    assert role is not None  # the factory gives every function its own role
    Validations.of(role).acknowledge(
        Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:bedrock:"
            f"{video.source_region}:<AWS::AccountId>:async-invoke/*]",
            reason="An async invocation's id is made by Bedrock when a clip is started, so "
            "GetAsyncInvoke (the only action granted on it) cannot name it in advance: the "
            "grant is held to the account's invocations in the clip model's Region.",
        )
    )


def guardrail_arn(stack: Stack, moderation: BedrockModeration) -> str:
    """The guardrail's ARN: guardrail_id itself when it is one, else the guardrail of this
    account in guardrail_region (default: the stack's Region)."""
    assert moderation.guardrail_id, "checked by the stage config"
    if moderation.arn_region:
        return moderation.guardrail_id
    return stack.format_arn(
        service="bedrock",
        region=moderation.guardrail_region or stack.region,
        resource="guardrail",
        resource_name=moderation.guardrail_id,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def moderation_statements(
    stack: Stack, config: StageConfig, *, key_granted: bool = False
) -> list[iam.PolicyStatement]:
    """What the functions that check content (the API, for ideas; WriteStory, for story pages;
    GenerateImage, for pictures; CheckVideo, for frames of a provider-made clip) need for the
    stage's moderation: bedrock:ApplyGuardrail on exactly the configured guardrail, or
    ssm:GetParameter on the parameter holding the OpenAI key, or for ollama the story writer's
    Ollama key when it has one (unless `key_granted`: the function reads that parameter for its
    text or picture provider already)."""
    if isinstance(config.moderation, BedrockModeration):
        return [
            iam.PolicyStatement(
                actions=["bedrock:ApplyGuardrail"],
                resources=[guardrail_arn(stack, config.moderation)],
            )
        ]
    parameter = config.moderation_key_parameter
    if parameter and not key_granted:
        return [
            iam.PolicyStatement(
                actions=["ssm:GetParameter"], resources=[parameter_arn(stack, parameter)]
            )
        ]
    return []


def grant_moderation(
    function: lambda_.Function, config: StageConfig, *, key_granted: bool = False
) -> None:
    for statement in moderation_statements(Stack.of(function), config, key_granted=key_granted):
        function.add_to_role_policy(statement)


def grant_narration(narrate_page: lambda_.Function, config: StageConfig) -> None:
    """polly:SynthesizeSpeech, for Polly narration: the audio and its word marks are two calls of
    it. Polly scopes the action by lexicon only, and we use none, so its resource is `*`."""
    if not isinstance(config.narration, PollyNarration):
        return
    narrate_page.add_to_role_policy(
        iam.PolicyStatement(actions=["polly:SynthesizeSpeech"], resources=["*"])
    )
    Validations.of(narrate_page).acknowledge(
        Acknowledgment(
            id="AwsSolutions-IAM5[Resource::*]",
            reason="polly:SynthesizeSpeech supports no resource but a lexicon, and narration "
            "uses none: the action alone is granted, to this function only.",
        )
    )
