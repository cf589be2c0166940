"""What the workflow tries again before it gives a job up, and how long a step may take."""

from __future__ import annotations

from typing import Any

import pytest

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
        } <= retried, name
