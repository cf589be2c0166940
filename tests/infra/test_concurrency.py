"""How many Lambdas run at once: one story's media Maps are bounded by media_max_concurrency,
all stories together by each provider-calling function's reserved concurrency (prod)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import StageConfig, StageConfigError, project_context
from tests.infra.stages import synthesize_stage
from tests.infra.test_stack import all_states

PROVIDER_CALLERS = {
    "WriteStoryFunction",
    "GenerateImageFunction",
    "StartVideoFunction",
    "CheckVideoFunction",
    "NarratePageFunction",
}


def reserved(resources: dict[str, Any]) -> dict[str, int]:
    return {
        logical_id: resource["Properties"]["ReservedConcurrentExecutions"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function"
        and "ReservedConcurrentExecutions" in resource["Properties"]
    }


def test_prod_reserves_concurrency_for_each_function_that_calls_a_provider(tmp_path):
    resources = synthesize_stage("prod", tmp_path)["Resources"]
    limit = project_context()["stages"]["prod"]["provider_concurrency"]
    assert reserved(resources) == dict.fromkeys(PROVIDER_CALLERS, limit)
    definition = resources["StoryWorkflow"]["Properties"]["DefinitionString"]["Fn::Join"][1]
    states = all_states(json.loads("".join(p for p in definition if isinstance(p, str)))["States"])
    for name in ("Images", "Videos", "Narration"):
        assert 0 < states[name]["MaxConcurrency"] <= limit


def test_a_stage_without_provider_concurrency_reserves_none(synthesized):
    assert synthesized.stack.config.provider_concurrency is None
    assert reserved(synthesized.resources) == {}


def test_a_map_wider_than_the_reserved_concurrency_stops_synth():
    prod = project_context()["stages"]["prod"]
    with pytest.raises(StageConfigError, match=r"media_max_concurrency .* at most provider_conc"):
        StageConfig.from_mapping(
            "prod", {**prod, "media_max_concurrency": 20, "provider_concurrency": 10}
        )
    with pytest.raises(StageConfigError, match="provider_concurrency must be greater than 0"):
        StageConfig.from_mapping("prod", {**prod, "provider_concurrency": 0})
