"""Orphaned jobs: the rule that hears of StoryWorkflow executions that ended without finishing
their job, and the function (EndOrphanedJob) that fails the job and announces it."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import pin_logical_id
from infra.lambda_factory import FunctionFactory
from infra.storage import Storage


def end_orphaned_jobs(
    scope: Construct,
    functions: FunctionFactory,
    storage: Storage,
    event_bus: events.IEventBus,
    state_machine: sfn.IStateMachine,
) -> lambda_.Function:
    """Executions that time out, are aborted, or fail where no Catch saw it never reach
    MarkFailed: their status-change event fails the job instead."""
    function = functions.create(
        scope,
        "end_orphaned_job",
        timeout=Duration.minutes(1),
        environment={"EVENT_BUS_NAME": event_bus.event_bus_name},
    )
    storage.allow_table_read_write(function)
    storage.allow_page_change_cleanup(function)  # a page change it fails leaves no trace
    event_bus.grant_put_events_to(function)
    undelivered = sqs.Queue(
        scope,
        "ExecutionEndedDeadLetterQueue",
        enforce_ssl=True,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        retention_period=Duration.days(14),
    )
    Validations.of(undelivered).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SQS3",
            reason="This queue is itself a dead-letter queue: the ExecutionEnded rule's "
            "target sends events it could not deliver to the function here; cdk-nag only "
            "recognises dead-letter queues of other queues.",
        )
    )
    rule = events.Rule(
        scope,
        "ExecutionEnded",
        description="StoryWorkflow executions that stopped without finishing their job",
        event_pattern=events.EventPattern(
            source=["aws.states"],
            detail_type=["Step Functions Execution Status Change"],
            detail={
                "stateMachineArn": [state_machine.state_machine_arn],
                "status": ["FAILED", "TIMED_OUT", "ABORTED"],
            },
        ),
        targets=[targets.LambdaFunction(function, retry_attempts=8, dead_letter_queue=undelivered)],
    )
    pin_logical_id(rule, "ExecutionEndedRule")
    return function
