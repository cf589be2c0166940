"""StoryWorkflow: the state machine of one story job (docs/architecture.md), with its role and log
group, its steps' functions (functions.py), its definition (definition.py) and the rule that
ends orphaned jobs (orphaned_jobs.py)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Duration, Fn, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import pin_logical_id
from infra.config import StageConfig
from infra.lambda_factory import FunctionFactory
from infra.storage import Storage
from infra.workflow.definition import story_definition
from infra.workflow.functions import story_functions
from infra.workflow.orphaned_jobs import end_orphaned_jobs


class StoryWorkflow(Construct):
    """The StoryWorkflow state machine and the functions of its steps."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        storage: Storage,
        functions: FunctionFactory,
        event_bus: events.IEventBus,
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions = story_functions(self, functions, storage, config)
        definition = story_definition(self, self.functions, storage.table, event_bus, config)

        # Under /aws/vendedlogs/ (CloudWatch Logs then needs no resource policy entry per log
        # group), and named for this deployment of the stack: a retained group (prod) outlives
        # the stack, and the same stack deployed again after it was deleted makes a new one
        # instead of failing on "already exists".
        deployment = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/KidStory-{config.stage}-StoryWorkflow-"
            f"{deployment}",
            retention=config.log_retention,
            removal_policy=config.removal_policy,
        )
        role = self._role(storage.table, event_bus)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            comment="StoryWorkflow: one story job, from prompt to published story",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=Duration.hours(2),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=True
            ),
            # The role below already holds every permission; CDK must not widen it.
            role=role.without_policy_updates(),
        )
        pin_logical_id(self.state_machine, "StoryWorkflow")
        self.end_orphaned_job = end_orphaned_jobs(
            self, functions, storage, event_bus, self.state_machine
        )

    def _role(self, table: dynamodb.ITable, event_bus: events.IEventBus) -> iam.Role:
        """Exactly what the state machine does: invoke its functions, mark the job processing,
        publish story events, trace, and deliver its logs."""
        statements = [
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=[function.function_arn for function in self.functions.all()],
            ),
            iam.PolicyStatement(actions=["dynamodb:UpdateItem"], resources=[table.table_arn]),
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[event_bus.event_bus_arn]),
            iam.PolicyStatement(
                actions=[
                    "xray:PutTraceSegments",
                    "xray:PutTelemetryRecords",
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                actions=[
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups",
                ],
                resources=["*"],
            ),
        ]
        # Inline, so the permissions exist before the state machine is created (Step Functions
        # checks log delivery permissions at creation).
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
            description="Runs StoryWorkflow",
            inline_policies={"StoryWorkflow": iam.PolicyDocument(statements=statements)},
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray tracing (PutTraceSegments, PutTelemetryRecords, GetSampling*) and "
                "CloudWatch Logs vended log delivery (*LogDelivery, *ResourcePolicies, "
                "DescribeLogGroups) support no resource-level permissions.",
            )
        )
        return role
