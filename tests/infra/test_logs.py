"""Every log group of a stage expires, every function (CDK's helpers too) logs to one of them,
and prod's workflow log group outlives the stack without blocking the next deployment."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.config import project_context
from tests.infra.stages import synthesize_stage


@pytest.fixture(scope="module", params=["dev", "prod"])
def stage(request: pytest.FixtureRequest, tmp_path_factory) -> tuple[str, dict[str, Any]]:
    outdir = tmp_path_factory.mktemp(request.param)
    return request.param, synthesize_stage(request.param, outdir)["Resources"]


def of_type(resources: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: res for lid, res in resources.items() if res["Type"] == kind}


def test_every_log_group_expires_after_the_stages_retention(stage):
    name, resources = stage
    days = project_context()["stages"][name]["log_retention_days"]
    log_groups = of_type(resources, "AWS::Logs::LogGroup")
    assert log_groups
    for logical_id, log_group in log_groups.items():
        assert log_group["Properties"].get("RetentionInDays") == days, logical_id


def test_every_function_logs_to_a_log_group_that_expires(stage):
    _, resources = stage
    functions = of_type(resources, "AWS::Lambda::Function")
    # CDK's helpers are among them: the reader's deployment, the signing key's provider
    assert any(lid.startswith("CustomCDKBucketDeployment") for lid in functions)
    for logical_id, function in functions.items():
        target = function["Properties"].get("LoggingConfig", {}).get("LogGroup")
        assert isinstance(target, dict) and "Ref" in target, logical_id
        log_group = resources[target["Ref"]]
        assert log_group["Type"] == "AWS::Logs::LogGroup", logical_id
        assert log_group["Properties"]["RetentionInDays"] > 0, logical_id


def test_prods_workflow_log_group_is_kept_and_named_for_its_deployment(tmp_path):
    resources = synthesize_stage("prod", tmp_path)["Resources"]
    [logs_id] = [
        lid
        for lid, res in resources.items()
        if res["Type"] == "AWS::Logs::LogGroup" and lid.startswith("WorkflowLogs")
    ]
    log_group = resources[logs_id]
    assert log_group["DeletionPolicy"] == "Retain"
    name = log_group["Properties"]["LogGroupName"]
    # not a fixed string: a group kept from a deleted stack cannot block the next one
    assert not isinstance(name, str)
    assert "AWS::StackId" in json.dumps(name)
    assert json.dumps(name).startswith('{"Fn::Join": ["", ["/aws/vendedlogs/states/')
