"""What the workflow tries again before it gives a job up, and how long a step may take."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import LONGEST_PROVIDER_TIMEOUT_SECONDS
from kidstory.config.settings import Settings
from kidstory.story_budget import MAX_REVISIONS, OVERHEAD_SECONDS, longest_story_seconds
from tests.infra.stages import synthesize_stage
from tests.infra.test_stack import all_states


@pytest.fixture(scope="module")
def states(synthesized) -> dict[str, Any]:
    return all_states(synthesized.definition()["States"])


def test_mark_processing_tries_a_throttled_write_again_but_not_a_failed_condition(
    synthesized, states
):
    config = synthesized.stack.config
    [retry] = states["MarkProcessing"]["Retry"]
    assert {
        "DynamoDB.ProvisionedThroughputExceededException",
        "DynamoDB.ThrottlingException",
        "DynamoDB.RequestLimitExceeded",
        "DynamoDB.InternalServerError",
    } <= set(retry["ErrorEquals"])
    # a job that has ended keeps its outcome: the failed condition goes straight to the Catch
    assert "DynamoDB.ConditionalCheckFailedException" not in retry["ErrorEquals"]
    assert "States.ALL" not in retry["ErrorEquals"]
    assert retry["MaxAttempts"] == config.retry_max_attempts
    assert retry["JitterStrategy"] == "FULL"
    assert states["MarkProcessing"]["Catch"][0]["Next"] == "MarkFailed"


def test_every_lambda_task_tries_lambdas_own_errors_again(states):
    lambda_tasks = {
        name: state
        for name, state in states.items()
        if state["Type"] == "Task" and str(state["Resource"]).endswith("Function.Arn>")
    }
    assert set(lambda_tasks) == {
        "WriteStory",
        "GenerateImage",
        "StartVideo",
        "CheckVideo",
        "NarratePage",
        "BuildBook",
        "Assemble",
        "MarkFailed",
    }
    for name, state in lambda_tasks.items():
        retried = {error for retry in state["Retry"] for error in retry["ErrorEquals"]}
        assert {
            "Lambda.ServiceException",
            "Lambda.AWSLambdaException",
            "Lambda.SdkClientException",
            "Lambda.TooManyRequestsException",
            "Lambda.ClientExecutionTimeoutException",
            "TableBusy",  # its writes kept conflicting and nothing was written
        } <= retried, name


def function_timeout(resources: dict[str, Any], logical_id: str) -> int:
    timeout: int = resources[logical_id]["Properties"]["Timeout"]
    return timeout


def test_write_story_has_time_for_its_longest_story(synthesized):
    """3 drafts and the scene plans, each asked twice (a repair) at 60 s, and the overhead."""
    assert MAX_REVISIONS + 1 == 3
    longest = (3 + 1) * 2 * 60 + OVERHEAD_SECONDS
    assert function_timeout(synthesized.resources, "WriteStoryFunction") == longest == 540


@pytest.mark.parametrize(
    ("overrides", "seconds"),
    [
        # a third ask of every question
        ({"function_settings": {"PROVIDER_REPAIR_ATTEMPTS": 2}}, (3 + 1) * 3 * 60 + 60),
        # a quicker provider leaves less to wait for
        ({"function_settings": {"PROVIDER_TIMEOUT_SECONDS": 30}}, (3 + 1) * 2 * 30 + 60),
        # a moderation call for the title and each of up to 14 pages of each of 3 drafts, at
        # 10 s each, would go past Lambda's 15 minutes: held to them
        (
            {"moderation_provider": "bedrock", "guardrail_id": "abcd1234efgh"},
            900,
        ),
    ],
)
def test_write_storys_timeout_follows_the_stages_settings(tmp_path, overrides, seconds):
    resources = synthesize_stage("dev", tmp_path, **overrides)["Resources"]
    assert function_timeout(resources, "WriteStoryFunction") == seconds


def test_the_longest_writing_the_settings_allow_fits_in_lambdas_15_minutes():
    most = Settings.from_environ(
        {
            "TABLE_NAME": "t",
            "MEDIA_BUCKET": "b",
            "PROVIDER_TIMEOUT_SECONDS": str(LONGEST_PROVIDER_TIMEOUT_SECONDS),
            "PROVIDER_REPAIR_ATTEMPTS": "2",  # the most it may be
        }
    )
    assert longest_story_seconds(most, moderated=False) <= 900


def test_no_task_gives_up_on_a_function_before_the_function_does(synthesized, states):
    """A Lambda task has no shorter timeout of its own, and the execution's 2 hours hold every
    try of WriteStory (each its whole timeout) with the longest waits between them."""
    resources = synthesized.resources
    for state in states.values():
        resource = str(state.get("Resource", ""))
        if state["Type"] == "Task" and resource.endswith("Function.Arn>"):
            logical_id = resource.strip("<>").removesuffix(".Arn")
            assert state.get("TimeoutSeconds", 10**9) >= function_timeout(resources, logical_id)
    [retry] = states["WriteStory"]["Retry"]
    tries = retry["MaxAttempts"] + 1
    longest = tries * function_timeout(resources, "WriteStoryFunction")
    longest += retry["MaxAttempts"] * retry["MaxDelaySeconds"]
    assert longest < synthesized.definition()["TimeoutSeconds"]
