"""The text provider of a stage, wired into the stack: the story writer alone gets its settings,
the key stays in SSM (only its parameter's name is in the template), and the grants are exactly
what the provider needs: ssm:GetParameter on that parameter, or bedrock:InvokeModel on the model.

Two stages are synthesized (openai, bedrock), once per module; the offline case uses the session's
local stack. The synthesis runs the AwsSolutions checks: an unacknowledged finding fails it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from app import build
from infra.config import (
    StageConfig,
    StageConfigError,
    project_context,
)
from infra.config.media import ImageProvider, VideoProvider
from infra.config.moderation import ModerationProvider
from infra.config.text import TextProvider
from infra.provider_access import bedrock_invoke_statements
from kidstory.config.settings import (
    ImageProviderName,
    ModerationProviderName,
    ProviderName,
    VideoProviderName,
)

# In the synthesizing process's environment, as a careless stack could pick them up.
SYNTH_ENVIRONMENT_KEYS = {
    "OPENAI_API_KEY": "sk-synth-environment-openai-key",
    "ANTHROPIC_API_KEY": "sk-ant-synth-environment-anthropic-key",
}
OPENAI_PARAMETER = "/kidstory/dev/openai-api-key"
OPENAI_STAGE = {
    "llm_provider": "openai",
    "provider_key_parameter": OPENAI_PARAMETER,
    "text_model": "gpt-6.1-sol",
    "provider_base_url": "https://llm-gateway.example.com/v1",
}
BEDROCK_STAGE = {"llm_provider": "bedrock"}
MEDIA_FUNCTIONS = ["GenerateImageFunction", "StartVideoFunction", "CheckVideoFunction"]
TEXT_PREFIXES = ("LLM_", "OPENAI_", "ANTHROPIC_", "OLLAMA_", "BEDROCK_")


def synthesize(outdir: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The dev stage with `overrides` as `cdk synth -c name=value` gives them, as a template."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SYNTH_ENVIRONMENT_KEYS.items():
            patch.setenv(name, value)
        context = {
            **project_context(),
            "stage": "dev",
            "aws:cdk:bundling-stacks": [],
            **overrides,
        }
        app = cdk.App(outdir=outdir, context=context)
        stack = build(app)
        app.synth()  # AwsSolutions checks: an unacknowledged finding raises here
    return Template.from_stack(stack).to_json()


@pytest.fixture(scope="module")
def openai_stage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(str(tmp_path_factory.mktemp("openai")), OPENAI_STAGE)


@pytest.fixture(scope="module")
def bedrock_stage(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(str(tmp_path_factory.mktemp("bedrock")), BEDROCK_STAGE)


@pytest.fixture(params=["openai", "bedrock"])
def any_stage(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    yield request.getfixturevalue(f"{request.param}_stage")


def environments(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"].get("Environment", {}).get("Variables", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def statements_by_role(template: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every IAM statement, by the logical id of the role that holds it."""
    resources = template["Resources"]
    found: dict[str, list[dict[str, Any]]] = {}
    for logical_id, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                found.setdefault(logical_id, []).extend(policy["PolicyDocument"]["Statement"])
        if resource["Type"] == "AWS::IAM::Policy":
            for role in properties.get("Roles", []):
                statements = properties["PolicyDocument"]["Statement"]
                found.setdefault(role["Ref"], []).extend(statements)
    return found


def of_service(statements: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    def actions(statement: dict[str, Any]) -> list[str]:
        action = statement["Action"]
        return action if isinstance(action, list) else [action]

    return [s for s in statements if any(a.startswith(f"{service}:") for a in actions(s))]


def key_reads(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """SSM grants for provider keys: all but those on the media signing key, which the API and
    the key's maker hold in every stage (see test_media_access_stack.py)."""
    return [s for s in of_service(statements, "ssm") if "media-signing-key" not in json.dumps(s)]


def write_story_role(template: dict[str, Any]) -> str:
    return template["Resources"]["WriteStoryFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]


def arn(*parts: Any) -> dict[str, Any]:
    """`Fn::Join` of an ARN as the template spells it."""
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, *parts]]}


ACCOUNT = {"Ref": "AWS::AccountId"}
REGION = {"Ref": "AWS::Region"}


# The story writer's settings


def test_openai_stage_gives_the_story_writer_its_model_endpoint_and_key_parameter(openai_stage):
    text_settings = {
        name: value
        for name, value in environments(openai_stage)["WriteStoryFunction"].items()
        if name.startswith(TEXT_PREFIXES)
    }

    assert text_settings == {
        "LLM_PROVIDER": "openai",
        "OPENAI_TEXT_MODEL": "gpt-6.1-sol",
        "OPENAI_BASE_URL": "https://llm-gateway.example.com/v1",
        "OPENAI_API_KEY_PARAMETER": OPENAI_PARAMETER,
    }


def test_bedrock_stage_names_the_model_and_region_it_grants(bedrock_stage):
    text_settings = {
        name: value
        for name, value in environments(bedrock_stage)["WriteStoryFunction"].items()
        if name.startswith(TEXT_PREFIXES)
    }

    assert text_settings == {
        "LLM_PROVIDER": "bedrock",
        "BEDROCK_TEXT_MODEL": "us.amazon.nova-2-lite-v1:0",
        "BEDROCK_REGION": "us-east-1",
    }


def test_no_provider_key_is_in_the_template(any_stage):
    text = json.dumps(any_stage)
    for value in SYNTH_ENVIRONMENT_KEYS.values():
        assert value not in text
    for logical_id, variables in environments(any_stage).items():
        keys = [name for name in variables if name.endswith("_API_KEY")]
        assert keys in ([], ["REQUIRE_API_KEY"]), logical_id  # REQUIRE_API_KEY: a true/false flag


def test_only_the_story_writer_gets_text_provider_settings(any_stage):
    for logical_id, variables in environments(any_stage).items():
        if logical_id == "WriteStoryFunction":
            continue
        assert not [name for name in variables if name.startswith(TEXT_PREFIXES)], logical_id
    for logical_id in MEDIA_FUNCTIONS:
        variables = environments(any_stage)[logical_id]
        assert variables.get("IMAGE_PROVIDER", "offline") == "offline", logical_id
        assert variables.get("VIDEO_PROVIDER", "offline") == "offline", logical_id


# Grants


def test_openai_story_writer_may_read_exactly_its_key_parameter(openai_stage):
    statements = statements_by_role(openai_stage)

    assert of_service(statements[write_story_role(openai_stage)], "ssm") == [
        {
            "Action": "ssm:GetParameter",
            "Effect": "Allow",
            "Resource": arn(
                ":ssm:", REGION, ":", ACCOUNT, ":parameter/kidstory/dev/openai-api-key"
            ),
        }
    ]
    for role, held in statements.items():
        assert not of_service(held, "bedrock"), role
        if role != write_story_role(openai_stage):
            assert not key_reads(held), role


def test_bedrock_story_writer_may_invoke_exactly_its_model_through_the_profile(bedrock_stage):
    statements = statements_by_role(bedrock_stage)
    profile = arn(":bedrock:us-east-1:", ACCOUNT, ":inference-profile/us.amazon.nova-2-lite-v1:0")

    assert of_service(statements[write_story_role(bedrock_stage)], "bedrock") == [
        {"Action": "bedrock:InvokeModel", "Effect": "Allow", "Resource": profile},
        {
            "Action": "bedrock:InvokeModel",
            "Condition": {"StringEquals": {"bedrock:InferenceProfileArn": profile}},
            "Effect": "Allow",
            "Resource": arn(":bedrock:*::foundation-model/amazon.nova-2-lite-v1:0"),
        },
    ]
    for role, held in statements.items():
        assert not key_reads(held), role
        if role != write_story_role(bedrock_stage):
            assert not of_service(held, "bedrock"), role


def test_an_offline_stage_grants_no_model_or_parameter(synthesized):
    template = synthesized.template.to_json()
    assert synthesized.stack.config.text.provider == "offline"
    for role, held in statements_by_role(template).items():
        assert not of_service(held, "bedrock"), role
        assert not key_reads(held), role
    text_settings = [
        name
        for variables in environments(template).values()
        for name in variables
        if name.startswith(TEXT_PREFIXES)
    ]
    assert text_settings == ["LLM_PROVIDER"]


def test_a_model_without_a_profile_is_granted_in_its_region_only():
    stack = cdk.Stack(cdk.App(), "Grants")

    [statement] = bedrock_invoke_statements(stack, "amazon.nova-pro-v1:0", "eu-west-1")

    assert stack.resolve(statement.to_statement_json()) == {
        "Action": "bedrock:InvokeModel",
        "Effect": "Allow",
        "Resource": arn(":bedrock:eu-west-1::foundation-model/amazon.nova-pro-v1:0"),
    }


def test_a_global_profile_covers_the_models_regionless_arn_through_the_profile_only():
    stack = cdk.Stack(cdk.App(), "Grants")
    model = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"

    _, through_profile = bedrock_invoke_statements(stack, model, "us-west-2")

    resolved = stack.resolve(through_profile.to_statement_json())
    # `*` also matches the empty Region of arn:aws:bedrock:::foundation-model/<model>
    assert resolved["Resource"] == arn(
        ":bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert resolved["Condition"] == {
        "StringEquals": {
            "bedrock:InferenceProfileArn": arn(
                ":bedrock:us-west-2:", ACCOUNT, f":inference-profile/{model}"
            )
        }
    }


# Stage settings


def stage(**values: Any) -> StageConfig:
    return StageConfig.from_mapping("dev", {**project_context()["stages"]["dev"], **values})


def test_a_keyed_provider_without_its_key_parameter_is_refused_by_name():
    for provider in ("openai", "anthropic"):
        with pytest.raises(
            StageConfigError,
            match=f"provider_key_parameter is required when llm_provider is {provider}",
        ):
            stage(llm_provider=provider)


def test_choosing_openai_on_the_command_line_without_a_key_parameter_fails_synth():
    app = cdk.App(context={**project_context(), "stage": "dev", "llm_provider": "openai"})
    with pytest.raises(StageConfigError, match="provider_key_parameter is required"):
        build(app)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"llm_provider": "ollama"}, "provider_base_url is required when llm_provider is ollama"),
        (
            {"llm_provider": "openai", "provider_key_parameter": "/kidstory/*"},
            "provider_key_parameter must be an SSM parameter name",
        ),
        (
            {
                "llm_provider": "openai",
                "provider_key_parameter": "arn:aws:ssm:us-east-1:123456789012:parameter/k",
            },
            "provider_key_parameter must be an SSM parameter name",
        ),
        (
            {"llm_provider": "anthropic", "provider_key_parameter": "/aws/key"},
            "reserved by Parameter Store",
        ),
        (
            {"llm_provider": "bedrock", "provider_key_parameter": "/kidstory/dev/key"},
            "provider_key_parameter does not apply to llm_provider bedrock",
        ),
        (
            {"llm_provider": "bedrock", "provider_base_url": "https://x.example"},
            "provider_base_url does not apply to llm_provider bedrock",
        ),
        (
            {"llm_provider": "ollama", "provider_base_url": "ollama:11434"},
            "provider_base_url must be an http",
        ),
        ({"llm_provider": "bedrock", "text_model": "amazon.*"}, "text_model for bedrock"),
        (
            {
                "llm_provider": "bedrock",
                "text_model": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0",
            },
            "text_model for bedrock",
        ),
        (
            {"llm_provider": "bedrock", "bedrock_region": "eu-central-1"},
            "bedrock_region eu-central-1 cannot call the inference profile us.amazon.nova-2-lite",
        ),
        (
            {
                "llm_provider": "openai",
                "provider_key_parameter": "/k",
                "bedrock_region": "us-east-1",
            },
            "bedrock_region does not apply to llm_provider openai",
        ),
        ({"image_provider": "anthropic"}, "image_provider must be one of offline, openai"),
    ],
)
def test_provider_settings_that_cannot_work_are_refused_by_name(values, problem):
    with pytest.raises(StageConfigError, match=problem):
        stage(**values)


def test_each_provider_gets_only_its_own_variables():
    anthropic = stage(
        llm_provider="anthropic",
        provider_key_parameter="/kidstory/dev/anthropic-api-key",
        text_model="claude-sonnet-5-5",
    )
    assert anthropic.text_provider_environment == {
        "LLM_PROVIDER": "anthropic",
        "ANTHROPIC_TEXT_MODEL": "claude-sonnet-5-5",
        "ANTHROPIC_API_KEY_PARAMETER": "/kidstory/dev/anthropic-api-key",
    }
    ollama = stage(llm_provider="ollama", provider_base_url="https://ollama.internal.example")
    assert ollama.text_provider_environment == {
        "LLM_PROVIDER": "ollama",
        "OLLAMA_BASE_URL": "https://ollama.internal.example",
    }
    behind_gateway = stage(
        llm_provider="ollama",
        provider_base_url="https://llm-gateway.example.org/ollama",
        provider_key_parameter="/kidstory/dev/ollama-gateway-key",
    )
    assert behind_gateway.text_provider_environment == {
        "LLM_PROVIDER": "ollama",
        "OLLAMA_BASE_URL": "https://llm-gateway.example.org/ollama",
        "OLLAMA_API_KEY_PARAMETER": "/kidstory/dev/ollama-gateway-key",
    }
    bedrock = stage(
        llm_provider="bedrock",
        text_model="eu.amazon.nova-2-lite-v1:0",
        bedrock_region="eu-central-1",
    )
    assert bedrock.text_provider_environment == {
        "LLM_PROVIDER": "bedrock",
        "BEDROCK_TEXT_MODEL": "eu.amazon.nova-2-lite-v1:0",
        "BEDROCK_REGION": "eu-central-1",
    }


def test_offline_ignores_the_provider_settings_so_a_stage_can_be_switched_to_it():
    switched = stage(
        llm_provider="offline",
        provider_key_parameter="/kidstory/dev/openai-api-key",
        text_model="gpt-6.1-sol",
    )
    assert switched.text_provider_environment == {"LLM_PROVIDER": "offline"}


def test_every_stage_defaults_to_offline():
    for name, values in project_context()["stages"].items():
        config = StageConfig.from_mapping(name, values)
        assert (config.text.provider, config.images.provider, config.video.provider) == (
            "offline",
            "offline",
            "offline",
        )


def test_every_provider_a_stage_can_choose_is_one_the_functions_know():
    kinds = {
        TextProvider: ProviderName,
        ImageProvider: ImageProviderName,
        VideoProvider: VideoProviderName,
        ModerationProvider: ModerationProviderName,
    }
    for kind, names in kinds.items():
        union, _ = get_args(kind)
        chosen = {
            get_args(model.model_fields["provider"].annotation)[0] for model in get_args(union)
        }
        assert chosen <= set(get_args(names)), kind


def test_an_ollama_gateways_key_parameter_is_the_only_one_the_writer_may_read(
    tmp_path_factory: pytest.TempPathFactory,
):
    template = synthesize(
        str(tmp_path_factory.mktemp("ollama-gateway")),
        {
            "llm_provider": "ollama",
            "provider_base_url": "https://llm-gateway.example.org/ollama",
            "provider_key_parameter": "/kidstory/dev/ollama-gateway-key",
        },
    )
    statements = statements_by_role(template)

    assert of_service(statements[write_story_role(template)], "ssm") == [
        {
            "Action": "ssm:GetParameter",
            "Effect": "Allow",
            "Resource": arn(
                ":ssm:", REGION, ":", ACCOUNT, ":parameter/kidstory/dev/ollama-gateway-key"
            ),
        }
    ]
    for role, held in statements.items():
        if role != write_story_role(template):
            assert not key_reads(held), role
