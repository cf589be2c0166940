"""The moderation of a stage, wired into the stack: the three functions that check content (the
API, for ideas; WriteStory, for story pages; GenerateImage, for pictures) alone get its settings
and grants, and the grants are exactly what it needs: bedrock:ApplyGuardrail on the one
guardrail, or ssm:GetParameter on the parameter holding the OpenAI key, which stays out of the
template. Offline, the picture function gets nothing: a picture's check is structural. With
Bedrock clips, CheckVideo (frames of each clip) is a fourth; with offline clips it is not.

Six stages are synthesized once per module (a Bedrock guardrail; OpenAI moderation; OpenAI
pictures and moderation sharing one key; Bedrock clips with each moderation and without); the
offline case uses the session's local stack. The synthesis runs the AwsSolutions checks."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest

from infra.config import StageConfig, StageConfigError, project_context
from infra.provider_access import moderation_statements
from kidstory.config.settings import Settings
from tests.infra.test_providers_stack import (
    ACCOUNT,
    REGION,
    SYNTH_ENVIRONMENT_KEYS,
    arn,
    environments,
    of_service,
    statements_by_role,
    synthesize,
)

GUARDRAIL = "gr7k2mq9x4ab"
KEY_PARAMETER = "/kidstory/dev/openai-moderation-key"
BEDROCK_MODERATION = {
    "moderation_provider": "bedrock",
    "guardrail_id": GUARDRAIL,
    "guardrail_version": "3",
    "guardrail_region": "eu-west-1",
}
OPENAI_MODERATION = {
    "moderation_provider": "openai",
    "moderation_key_parameter": KEY_PARAMETER,
    "moderation_model": "omni-moderation-2024-09-26",
}
TEXT_CHECKERS = {"ApiFunction", "WriteStoryFunction"}
PICTURE_CHECKER = "GenerateImageFunction"
CHECKERS = TEXT_CHECKERS | {PICTURE_CHECKER}
# OpenAI pictures, moderated by OpenAI with the same key.
OPENAI_PICTURES_AND_MODERATION = {
    "image_provider": "openai",
    "image_key_parameter": KEY_PARAMETER,
    "moderation_provider": "openai",
    "moderation_key_parameter": KEY_PARAMETER,
}
MODERATION_VARIABLES = (
    "MODERATION_",
    "BEDROCK_GUARDRAIL_",
    "OPENAI_MODERATION_",
    "OPENAI_API_KEY_PARAMETER",
)


@pytest.fixture(scope="module")
def bedrock_moderation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(str(tmp_path_factory.mktemp("bedrock-moderation")), BEDROCK_MODERATION)


@pytest.fixture(scope="module")
def openai_moderation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(str(tmp_path_factory.mktemp("openai-moderation")), OPENAI_MODERATION)


CLIP_CHECKER = "CheckVideoFunction"
BEDROCK_CLIPS = {"video_provider": "bedrock"}


@pytest.fixture(scope="module")
def bedrock_clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(str(tmp_path_factory.mktemp("bedrock-clips")), BEDROCK_CLIPS)


@pytest.fixture(scope="module")
def bedrock_clips_guardrail(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(
        str(tmp_path_factory.mktemp("bedrock-clips-guardrail")),
        {**BEDROCK_CLIPS, **BEDROCK_MODERATION},
    )


@pytest.fixture(scope="module")
def bedrock_clips_openai_moderation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(
        str(tmp_path_factory.mktemp("bedrock-clips-openai")),
        {**BEDROCK_CLIPS, **OPENAI_MODERATION},
    )


@pytest.fixture(scope="module")
def openai_pictures_and_moderation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return synthesize(
        str(tmp_path_factory.mktemp("openai-pictures-moderation")), OPENAI_PICTURES_AND_MODERATION
    )


def role_of(template: dict[str, Any], function: str) -> str:
    return template["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]


def moderation_settings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The moderation variables of every function that has any."""
    found = {
        function: {
            name: value
            for name, value in variables.items()
            if name.startswith(MODERATION_VARIABLES)
        }
        for function, variables in environments(template).items()
    }
    return {function: variables for function, variables in found.items() if variables}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grants(template: dict[str, Any], action: str) -> dict[str, list[Any]]:
    """The resources each role may `action` (the CDK merges statements: flattened here)."""
    found: dict[str, list[Any]] = {}
    for role, held in statements_by_role(template).items():
        for statement in held:
            if action in as_list(statement["Action"]):
                assert statement["Effect"] == "Allow" and "Condition" not in statement
                found.setdefault(role, []).extend(as_list(statement["Resource"]))
    return found


def guardrail_grants(template: dict[str, Any]) -> dict[str, list[Any]]:
    return grants(template, "bedrock:ApplyGuardrail")


# Bedrock Guardrails


def test_the_api_the_story_writer_and_the_picture_function_get_the_guardrail_settings(
    bedrock_moderation,
):
    expected = {
        "MODERATION_PROVIDER": "bedrock",
        "BEDROCK_GUARDRAIL_ID": GUARDRAIL,
        "BEDROCK_GUARDRAIL_VERSION": "3",
        "BEDROCK_GUARDRAIL_REGION": "eu-west-1",
    }

    assert moderation_settings(bedrock_moderation) == {function: expected for function in CHECKERS}


def test_only_they_may_apply_exactly_the_configured_guardrail(bedrock_moderation):
    guardrail = arn(":bedrock:eu-west-1:", ACCOUNT, f":guardrail/{GUARDRAIL}")

    assert guardrail_grants(bedrock_moderation) == {
        role_of(bedrock_moderation, function): [guardrail] for function in CHECKERS
    }
    for role, held in statements_by_role(bedrock_moderation).items():
        # and nothing else of Bedrock: the text provider is offline
        actions = {s["Action"] for s in of_service(held, "bedrock")}
        assert actions <= {"bedrock:ApplyGuardrail"}, role


def test_the_settings_the_stack_passes_are_ones_the_functions_accept(bedrock_moderation):
    variables = moderation_settings(bedrock_moderation)["ApiFunction"]

    settings = Settings.from_environ({"TABLE_NAME": "t", "MEDIA_BUCKET": "b", **variables})

    assert (settings.bedrock_guardrail_id, settings.guardrail_region) == (GUARDRAIL, "eu-west-1")


# OpenAI moderation


def test_the_api_the_story_writer_and_the_picture_function_get_the_openai_moderation_settings(
    openai_moderation,
):
    expected = {
        "MODERATION_PROVIDER": "openai",
        "OPENAI_MODERATION_MODEL": "omni-moderation-2024-09-26",
        "OPENAI_API_KEY_PARAMETER": KEY_PARAMETER,
    }

    assert moderation_settings(openai_moderation) == {function: expected for function in CHECKERS}


def test_only_they_may_read_the_key_parameter_and_the_key_stays_out(openai_moderation):
    parameter = arn(":ssm:", REGION, ":", ACCOUNT, ":parameter/kidstory/dev/openai-moderation-key")
    readers = {
        role
        for role, resources in grants(openai_moderation, "ssm:GetParameter").items()
        if parameter in resources
    }

    assert readers == {role_of(openai_moderation, function) for function in CHECKERS}
    assert guardrail_grants(openai_moderation) == {}
    text = json.dumps(openai_moderation)
    for value in SYNTH_ENVIRONMENT_KEYS.values():
        assert value not in text


# Pictures


def test_the_picture_function_has_time_for_a_moderation_call_per_drawing(
    bedrock_moderation, openai_moderation, synthesized
):
    for template in (bedrock_moderation, openai_moderation):
        assert template["Resources"][PICTURE_CHECKER]["Properties"]["Timeout"] == 5 * 60
    offline = synthesized.template.to_json()["Resources"][PICTURE_CHECKER]["Properties"]
    assert offline["Timeout"] == 2 * 60  # offline pictures, structural check


def test_the_picture_function_settings_are_ones_it_accepts(bedrock_moderation):
    variables = {
        name: value
        for name, value in environments(bedrock_moderation)[PICTURE_CHECKER].items()
        if isinstance(value, str)  # not the table's and bucket's names: references
    }

    settings = Settings.from_environ({**variables, "TABLE_NAME": "t", "MEDIA_BUCKET": "b"})

    assert (settings.image_provider, settings.moderation_provider) == ("offline", "bedrock")
    assert settings.bedrock_guardrail_id == GUARDRAIL


def test_openai_pictures_are_moderated_with_the_key_the_picture_function_reads_already(
    openai_pictures_and_moderation,
):
    template = openai_pictures_and_moderation
    parameter = arn(":ssm:", REGION, ":", ACCOUNT, ":parameter/kidstory/dev/openai-moderation-key")
    picture_role = role_of(template, PICTURE_CHECKER)

    assert moderation_settings(template)[PICTURE_CHECKER] == {
        "MODERATION_PROVIDER": "openai",
        "OPENAI_API_KEY_PARAMETER": KEY_PARAMETER,
    }
    assert environments(template)[PICTURE_CHECKER]["IMAGE_PROVIDER"] == "openai"
    # one grant on the one parameter, not a second one for moderation
    assert grants(template, "ssm:GetParameter")[picture_role] == [parameter]
    readers = {
        role for role, found in grants(template, "ssm:GetParameter").items() if parameter in found
    }
    assert readers == {role_of(template, function) for function in CHECKERS}


def test_openai_pictures_and_openai_moderation_must_share_one_key():
    with pytest.raises(StageConfigError, match="must be image_key_parameter"):
        stage(
            image_provider="openai",
            image_key_parameter="/kidstory/dev/openai-images-key",
            moderation_provider="openai",
            moderation_key_parameter=KEY_PARAMETER,
        )
    shared = stage(**OPENAI_PICTURES_AND_MODERATION)
    assert shared.picture_moderation_environment == shared.moderation_environment
    assert stage().picture_moderation_environment == {}


# Clips


def test_with_bedrock_clips_check_video_gets_the_guardrail_settings_and_may_apply_it(
    bedrock_clips_guardrail,
):
    template = bedrock_clips_guardrail
    expected = {
        "MODERATION_PROVIDER": "bedrock",
        "BEDROCK_GUARDRAIL_ID": GUARDRAIL,
        "BEDROCK_GUARDRAIL_VERSION": "3",
        "BEDROCK_GUARDRAIL_REGION": "eu-west-1",
    }
    guardrail = arn(":bedrock:eu-west-1:", ACCOUNT, f":guardrail/{GUARDRAIL}")
    checkers = CHECKERS | {CLIP_CHECKER}

    # StartVideo is not among them: it makes the clip, CheckVideo checks it
    assert moderation_settings(template) == {function: expected for function in checkers}
    assert guardrail_grants(template) == {
        role_of(template, function): [guardrail] for function in checkers
    }
    held = statements_by_role(template)[role_of(template, CLIP_CHECKER)]
    assert {s["Action"] for s in of_service(held, "bedrock")} == {
        "bedrock:GetAsyncInvoke",  # its clip provider's
        "bedrock:ApplyGuardrail",
    }
    assert grants(template, "ssm:GetParameter").get(role_of(template, CLIP_CHECKER)) is None
    # room for a moderation call per frame besides polling Bedrock
    assert template["Resources"][CLIP_CHECKER]["Properties"]["Timeout"] == 5 * 60


def test_the_clip_checks_settings_are_ones_it_accepts(bedrock_clips_guardrail):
    variables = {
        name: value
        for name, value in environments(bedrock_clips_guardrail)[CLIP_CHECKER].items()
        if isinstance(value, str)  # not the table's and bucket's names: references
    }

    settings = Settings.from_environ({**variables, "TABLE_NAME": "t", "MEDIA_BUCKET": "b"})

    assert (settings.video_provider, settings.moderation_provider) == ("bedrock", "bedrock")
    assert (settings.bedrock_guardrail_id, settings.guardrail_region) == (GUARDRAIL, "eu-west-1")


def test_with_bedrock_clips_check_video_gets_the_openai_moderation_key_parameter_alone(
    bedrock_clips_openai_moderation,
):
    template = bedrock_clips_openai_moderation
    parameter = arn(":ssm:", REGION, ":", ACCOUNT, ":parameter/kidstory/dev/openai-moderation-key")

    assert moderation_settings(template)[CLIP_CHECKER] == {
        "MODERATION_PROVIDER": "openai",
        "OPENAI_MODERATION_MODEL": "omni-moderation-2024-09-26",
        "OPENAI_API_KEY_PARAMETER": KEY_PARAMETER,
    }
    assert "StartVideoFunction" not in moderation_settings(template)
    assert grants(template, "ssm:GetParameter")[role_of(template, CLIP_CHECKER)] == [parameter]
    assert guardrail_grants(template) == {}
    for value in SYNTH_ENVIRONMENT_KEYS.values():
        assert value not in json.dumps(template)


def test_bedrock_clips_without_a_moderation_provider_get_no_moderation(bedrock_clips):
    assert moderation_settings(bedrock_clips) == {
        function: {"MODERATION_PROVIDER": "offline"} for function in TEXT_CHECKERS
    }
    assert guardrail_grants(bedrock_clips) == {}
    assert role_of(bedrock_clips, CLIP_CHECKER) not in grants(bedrock_clips, "ssm:GetParameter")


def test_offline_clips_are_not_moderated_whatever_the_stage_moderation():
    # from the page's already-checked picture: CheckVideo gets nothing (the guardrail stage
    # above, with offline clips, grants it nothing either: CHECKERS)
    assert stage(**BEDROCK_MODERATION).clip_moderation_environment == {}
    assert stage(**OPENAI_MODERATION).clip_moderation_environment == {}
    assert stage(**BEDROCK_CLIPS).clip_moderation_environment == {}
    assert (
        stage(**BEDROCK_CLIPS, **BEDROCK_MODERATION).clip_moderation_environment
        == stage(**BEDROCK_MODERATION).moderation_environment
    )


# Offline


def test_an_offline_stage_grants_no_guardrail_and_names_the_word_list(synthesized):
    template = synthesized.template.to_json()

    assert guardrail_grants(template) == {}
    # the picture function's check is structural: it gets no moderation settings at all
    assert moderation_settings(template) == {
        function: {"MODERATION_PROVIDER": "offline"} for function in TEXT_CHECKERS
    }


def test_every_stage_defaults_to_the_word_list_alone():
    for name, values in project_context()["stages"].items():
        assert StageConfig.from_mapping(name, values).moderation.provider == "offline"


# Stage settings


def stage(**values: Any) -> StageConfig:
    return StageConfig.from_mapping("dev", {**project_context()["stages"]["dev"], **values})


def test_a_guardrail_by_arn_is_granted_as_it_is_and_by_id_in_the_stacks_region():
    stack = cdk.Stack(cdk.App(), "Grants")
    guardrail = f"arn:aws:bedrock:ap-southeast-2:123456789012:guardrail/{GUARDRAIL}"

    [by_arn] = moderation_statements(
        stack, stage(moderation_provider="bedrock", guardrail_id=guardrail)
    )
    [by_id] = moderation_statements(stack, stage(moderation_provider="bedrock", guardrail_id="abc"))

    assert stack.resolve(by_arn.to_statement_json())["Resource"] == guardrail
    assert stack.resolve(by_id.to_statement_json())["Resource"] == arn(
        ":bedrock:", REGION, ":", ACCOUNT, ":guardrail/abc"
    )
    assert stage(moderation_provider="bedrock", guardrail_id=guardrail).moderation_environment == {
        "MODERATION_PROVIDER": "bedrock",
        "BEDROCK_GUARDRAIL_ID": guardrail,
        "BEDROCK_GUARDRAIL_VERSION": "DRAFT",
    }


def test_openai_moderation_shares_the_story_writers_openai_key_and_endpoint():
    config = stage(
        llm_provider="openai",
        provider_key_parameter="/kidstory/dev/openai-api-key",
        provider_base_url="https://llm-gateway.example.com/v1",
        moderation_provider="openai",
    )

    assert config.moderation_environment == {
        "MODERATION_PROVIDER": "openai",
        "OPENAI_BASE_URL": "https://llm-gateway.example.com/v1",
        "OPENAI_API_KEY_PARAMETER": "/kidstory/dev/openai-api-key",
    }
    stack = cdk.Stack(cdk.App(), "Grants")
    # the story writer reads that parameter for its text provider already
    assert moderation_statements(stack, config, key_granted=True) == []
    [api_grant] = moderation_statements(stack, config)
    assert stack.resolve(api_grant.to_statement_json())["Resource"] == arn(
        ":ssm:", REGION, ":", ACCOUNT, ":parameter/kidstory/dev/openai-api-key"
    )


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"moderation_provider": "bedrock"},
            "guardrail_id is required when moderation_provider is bedrock",
        ),
        (
            {"moderation_provider": "bedrock", "guardrail_id": "gr-*"},
            "guardrail_id must be a guardrail id",
        ),
        (
            {"moderation_provider": "bedrock", "guardrail_id": "abc", "guardrail_version": "v2"},
            "guardrail_version must be a version number or DRAFT",
        ),
        (
            {"moderation_provider": "bedrock", "guardrail_id": "abc", "guardrail_region": "mars"},
            "guardrail_region must be an AWS Region",
        ),
        (
            {
                "moderation_provider": "bedrock",
                "guardrail_id": f"arn:aws:bedrock:eu-west-1:123456789012:guardrail/{GUARDRAIL}",
                "guardrail_region": "us-east-1",
            },
            "guardrail_region us-east-1 is not the Region of the guardrail ARN",
        ),
        (
            {"moderation_provider": "bedrock", "guardrail_id": "abc", "moderation_model": "m"},
            "moderation_model does not apply to moderation_provider bedrock",
        ),
        (
            {"moderation_provider": "openai"},
            "moderation_key_parameter is required when moderation_provider is openai",
        ),
        (
            {"moderation_provider": "openai", "moderation_key_parameter": "/kidstory/*"},
            "moderation_key_parameter must be an SSM parameter name",
        ),
        (
            {
                "moderation_provider": "openai",
                "moderation_key_parameter": "/k",
                "guardrail_id": GUARDRAIL,
            },
            "guardrail_id does not apply to moderation_provider openai",
        ),
        (
            {
                "llm_provider": "openai",
                "provider_key_parameter": "/kidstory/dev/openai-api-key",
                "moderation_provider": "openai",
                "moderation_key_parameter": "/kidstory/dev/other-key",
            },
            "moderation_key_parameter must be provider_key_parameter",
        ),
        ({"moderation_provider": "azure"}, "moderation_provider must be one of offline"),
    ],
)
def test_moderation_settings_that_cannot_work_are_refused_by_name(values, problem):
    with pytest.raises(StageConfigError, match=problem):
        stage(**values)


def test_offline_ignores_the_moderation_settings_so_a_stage_can_be_switched_back():
    switched = stage(moderation_provider="offline", guardrail_id=GUARDRAIL, moderation_model="m")

    assert switched.moderation_environment == {"MODERATION_PROVIDER": "offline"}


# Ollama moderation (a safety model on the story writer's Ollama)

OLLAMA_STAGE = {
    "llm_provider": "ollama",
    "provider_base_url": "https://ollama.internal.example.org",
    "moderation_provider": "ollama",
}


def test_ollama_moderation_asks_the_story_writers_ollama_for_text_and_leaves_pictures_alone():
    config = stage(**OLLAMA_STAGE, moderation_model="llama-guard3:8b")

    assert config.moderation_environment == {
        "MODERATION_PROVIDER": "ollama",
        "OLLAMA_MODERATION_MODEL": "llama-guard3:8b",
        "OLLAMA_BASE_URL": "https://ollama.internal.example.org",
    }
    assert config.picture_moderation_environment == {}
    settings = Settings.from_environ(
        {"TABLE_NAME": "t", "MEDIA_BUCKET": "b", **config.moderation_environment}
    )
    assert (settings.moderation_provider, settings.ollama_moderation_model) == (
        "ollama",
        "llama-guard3:8b",
    )
    assert moderation_statements(cdk.Stack(cdk.App(), "Grants"), config) == []


def test_ollama_moderation_behind_a_gateway_may_read_the_gateways_key_and_no_more():
    key = "/kidstory/dev/ollama-gateway-key"
    config = stage(**OLLAMA_STAGE, provider_key_parameter=key)
    stack = cdk.Stack(cdk.App(), "Grants")

    [grant] = moderation_statements(stack, config)

    assert config.moderation_environment["OLLAMA_API_KEY_PARAMETER"] == key
    assert stack.resolve(grant.to_statement_json())["Action"] == "ssm:GetParameter"
    assert moderation_statements(stack, config, key_granted=True) == []


def test_ollama_moderation_behind_a_gateway_grants_its_key_to_the_text_checkers_alone(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    key = "/kidstory/dev/ollama-gateway-key"
    template = synthesize(
        str(tmp_path_factory.mktemp("ollama-moderation-gateway")),
        {**OLLAMA_STAGE, **BEDROCK_CLIPS, "provider_key_parameter": key},
    )

    parameter = arn(":ssm:", REGION, ":", ACCOUNT, f":parameter{key}")
    readers = {
        role for role, found in grants(template, "ssm:GetParameter").items() if parameter in found
    }
    # pictures and clip frames are not shown to a text-only safety model: no key for them
    assert readers == {role_of(template, function) for function in TEXT_CHECKERS}


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"moderation_provider": "ollama"},
            "moderation_provider ollama needs llm_provider ollama",
        ),
        ({**OLLAMA_STAGE, "guardrail_id": GUARDRAIL}, "guardrail_id does not apply"),
        ({**OLLAMA_STAGE, "moderation_model": " "}, "moderation_model must not be blank"),
    ],
)
def test_ollama_moderation_settings_that_cannot_work_are_refused_by_name(values, problem):
    with pytest.raises(StageConfigError, match=problem):
        stage(**values)
