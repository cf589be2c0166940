"""The pending-job sweeper in the synthesized stack: its schedule, its grants, and the
MarkProcessing write that takes a job off the pending list."""

from __future__ import annotations

from tests.infra.test_stack import all_states, as_list, role_statements

SWEEPER = "SweepPendingJobsFunction"


def test_a_schedule_runs_the_sweeper_every_five_minutes(synthesized):
    rule = synthesized.resources["SweepPendingJobsRule"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["State"] == "ENABLED"
    assert "EventPattern" not in rule and "EventBusName" not in rule
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [SWEEPER, "Arn"]}
    # a sweep that cannot be delivered soon is replaced by the next one
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 300, "MaximumRetryAttempts": 2}
    permissions = [
        resource["Properties"]
        for resource in synthesized.resources.values()
        if resource["Type"] == "AWS::Lambda::Permission"
        and resource["Properties"]["FunctionName"] == {"Fn::GetAtt": [SWEEPER, "Arn"]}
    ]
    assert permissions == [
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Fn::GetAtt": [SWEEPER, "Arn"]},
            "Principal": "events.amazonaws.com",
            "SourceArn": {"Fn::GetAtt": ["SweepPendingJobsRule", "Arn"]},
        }
    ]


def test_the_sweeper_knows_the_workflow_and_the_story_bus(synthesized):
    function = synthesized.resources[SWEEPER]["Properties"]
    assert function["Handler"] == "sweep_pending_jobs.handler.handler"
    variables = function["Environment"]["Variables"]
    assert variables["STATE_MACHINE_ARN"] == {"Ref": "StoryWorkflow"}
    assert variables["EVENT_BUS_NAME"] == {"Ref": "StoryEventBus"}
    assert variables["TABLE_NAME"] == {"Ref": "StoryTable"}


def test_the_sweeper_is_granted_exactly_what_it_calls(synthesized):
    statements = role_statements(synthesized.resources, SWEEPER)
    granted: dict[str, list[dict]] = {}
    for statement in statements:
        for action in as_list(statement["Action"]):
            granted.setdefault(action, []).append(statement)

    ours = {action for action in granted if action.split(":")[0] not in ("logs", "xray")}
    assert ours == {
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "states:StartExecution",
        "events:PutEvents",
    }
    [query] = granted["dynamodb:Query"]
    assert query["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": ["StoryTable", "Arn"]}, "/index/gsi1"]]
    }
    [update] = granted["dynamodb:UpdateItem"]
    assert update["Resource"] == {"Fn::GetAtt": ["StoryTable", "Arn"]}
    assert update["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["JOB#*"]}}
    [start] = granted["states:StartExecution"]
    assert start["Resource"] == {"Ref": "StoryWorkflow"}
    [put] = granted["events:PutEvents"]
    assert put["Resource"] == {"Fn::GetAtt": ["StoryEventBus", "Arn"]}
    for statement in statements:
        assert "*" not in as_list(statement["Action"])
        if "*" in as_list(statement["Resource"]):
            assert {a.split(":")[0] for a in as_list(statement["Action"])} == {"xray"}


def test_mark_processing_takes_the_job_off_the_pending_list_in_the_same_write(synthesized):
    states = all_states(synthesized.definition()["States"])
    update = states["MarkProcessing"]["Parameters"]
    assert update["UpdateExpression"] == (
        "SET #status = :processing, updated_at = :now, progress.stage = :writing "
        "REMOVE gsi1pk, gsi1sk"
    )
    assert update["ConditionExpression"] == "#status IN (:pending, :processing)"
