"""Moderation grants: what the functions that check content (the API, for ideas; WriteStory, for
story pages; GenerateImage, for pictures; CheckVideo, for frames of a provider-made clip, when
`video_provider` is not offline) need for the stage's `moderation_provider`, and nothing for
offline."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from infra import parameter_arn
from infra.config import StageConfig


def guardrail_arn(stack: Stack, config: StageConfig) -> str:
    """The guardrail's ARN: guardrail_id itself when it is one, else the guardrail of this
    account in guardrail_region (default: the stack's Region)."""
    assert config.guardrail_id, "checked by the stage config"
    if config.guardrail_arn_region:
        return config.guardrail_id
    return stack.format_arn(
        service="bedrock",
        region=config.guardrail_region or stack.region,
        resource="guardrail",
        resource_name=config.guardrail_id,
        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
    )


def moderation_statements(
    stack: Stack, config: StageConfig, *, key_granted: bool = False
) -> list[iam.PolicyStatement]:
    """bedrock:ApplyGuardrail on exactly the configured guardrail, or ssm:GetParameter on the
    parameter holding the OpenAI key, or for ollama the story writer's Ollama key when it has
    one (unless `key_granted`: the function reads that parameter for its text or picture
    provider already)."""
    if config.moderation_provider == "bedrock":
        return [
            iam.PolicyStatement(
                actions=["bedrock:ApplyGuardrail"], resources=[guardrail_arn(stack, config)]
            )
        ]
    parameter = config.moderation_openai_key_parameter
    if config.moderation_provider == "ollama":  # the key of a gateway in front of Ollama, if any
        parameter = config.provider_key_parameter
    if config.moderation_provider in ("openai", "ollama") and parameter and not key_granted:
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
