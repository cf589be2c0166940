"""A stage tunes runtime limits and timings through `function_settings`: every function gets
them, and synth refuses names that cannot be set there and values the functions would refuse."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from app import build
from infra.config import StageConfig, StageConfigError, project_context
from tests.infra.test_providers_stack import environments, synthesize
from tests.infra.test_stack import FUNCTIONS


def stage(**values: Any) -> StageConfig:
    return StageConfig.from_mapping("dev", {**project_context()["stages"]["dev"], **values})


def test_every_function_gets_the_stages_function_settings(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    tuned = {"PROVIDER_TIMEOUT_SECONDS": 45, "MEDIA_LINK_SECONDS": "3600"}

    template = synthesize(str(tmp_path_factory.mktemp("tuned")), {"function_settings": tuned})

    ours = {name: env for name, env in environments(template).items() if "TABLE_NAME" in env}
    assert set(ours) == set(FUNCTIONS.values())
    for function, variables in ours.items():
        assert variables["PROVIDER_TIMEOUT_SECONDS"] == "45", function
        assert variables["MEDIA_LINK_SECONDS"] == "3600", function


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"OPENAI_API_KEY": "sk-1"}, "OPENAI_API_KEY cannot be set here"),
        ({"MEDIA_LINK_SECONDS": 10}, "MEDIA_LINK_SECONDS: Input should be greater than or equal"),
        ({"WEBHOOK_RETRY_DELAYS": "soon"}, "WEBHOOK_RETRY_DELAYS: String should match pattern"),
        ({"PROVIDER_TIMEOUT_SECONDS": 120}, "PROVIDER_TIMEOUT_SECONDS must be at most 60"),
        ({"PENDING_GRACE_SECONDS": 600, "PENDING_MAX_AGE_SECONDS": 600}, "PENDING_MAX_AGE"),
    ],
)
def test_a_setting_the_functions_would_refuse_stops_synth(given: dict, problem: str) -> None:
    with pytest.raises(StageConfigError, match=problem):
        stage(function_settings=given)


def test_function_settings_can_come_from_the_command_line() -> None:
    app = cdk.App(
        context={
            **project_context(),
            "stage": "dev",
            "function_settings": '{"VIDEO_POLL_SECONDS": "10"}',
            "aws:cdk:bundling-stacks": [],
        }
    )
    stack = build(app)

    assert stack.config.function_environment == {"VIDEO_POLL_SECONDS": "10"}


def test_a_command_line_value_that_is_not_json_is_named() -> None:
    app = cdk.App(context={**project_context(), "stage": "dev", "function_settings": "{oops"})
    with pytest.raises(StageConfigError, match=r"function_settings.*not a JSON object"):
        build(app)
