"""The pending-job sweeper: a schedule runs `sweep_pending_jobs`, which starts the workflow of
jobs left pending (the API stopped between recording a job and starting its execution), and
fails and announces those left pending too long (docs/architecture.md, "Jobs left pending")."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import pin_logical_id
from infra.lambda_factory import FunctionFactory
from infra.storage import Storage

# How often the sweeper runs. A job left pending is started at most this long after its grace
# period (PENDING_GRACE_SECONDS, 2 minutes by default) has passed.
SWEEP_INTERVAL = Duration.minutes(5)
SWEEP_TIMEOUT = Duration.minutes(2)
# The key prefix of job items (kidstory.store.table.job_key): the only items the sweeper updates.
JOB_KEY_PATTERN = "JOB#*"


class PendingJobSweeper(Construct):
    """A schedule rule and the function it runs, with exactly the grants the function uses:
    Query on gsi1 (the pending list), UpdateItem on job items, StartExecution on StoryWorkflow,
    PutEvents on the story bus."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: Storage,
        functions: FunctionFactory,
        state_machine: sfn.IStateMachine,
        event_bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function: lambda_.Function = functions.create(
            self,
            "sweep_pending_jobs",
            timeout=SWEEP_TIMEOUT,
            environment={
                "STATE_MACHINE_ARN": state_machine.state_machine_arn,
                "EVENT_BUS_NAME": event_bus.event_bus_name,
            },
        )
        table = storage.table
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/gsi1"]
            )
        )
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:UpdateItem"],
                resources=[table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [JOB_KEY_PATTERN]}},
            )
        )
        state_machine.grant_start_execution(self.function)
        event_bus.grant_put_events_to(self.function)

        self.rule = events.Rule(
            self,
            "Schedule",
            description="Starts (or, when too old, fails) story jobs left pending",
            schedule=events.Schedule.rate(SWEEP_INTERVAL),
            targets=[
                # a sweep that is not delivered is replaced by the next one
                targets.LambdaFunction(
                    self.function, retry_attempts=2, max_event_age=SWEEP_INTERVAL
                )
            ],
        )
        pin_logical_id(self.rule, "SweepPendingJobsRule")
