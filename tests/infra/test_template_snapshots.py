"""The template identity check (python -m infra.template_snapshots) names what a change to infra
would change in a deployed stack: the resource by logical id, and the property."""

from __future__ import annotations

import copy

from infra.template_snapshots import CASES, differences
from tests.infra.conftest import Synthesized


def test_a_changed_property_is_named_by_logical_id_and_path(synthesized: Synthesized) -> None:
    before = synthesized.template.to_json()
    after = copy.deepcopy(before)
    variables = after["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    variables["MAX_REQUEST_SIZE_MB"] = "4.0"
    del after["Resources"]["StoryWorkflow"]

    assert list(differences(before, before)) == []
    assert list(differences(before, after)) == [
        'Resources.ApiFunction.Properties.Environment.Variables.MAX_REQUEST_SIZE_MB: "4" -> "4.0"',
        "Resources.StoryWorkflow: removed",
    ]


def test_every_stage_of_cdk_json_is_among_the_checked_cases() -> None:
    from infra.config import project_context

    assert set(project_context()["stages"]) <= {stage for stage, _ in CASES.values()}
