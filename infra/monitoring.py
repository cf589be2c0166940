"""Monitoring: a CloudWatch dashboard of the service, and alarms to an SNS topic that the
operator subscribes to (`aws sns subscribe --topic-arn <AlarmTopicArn> ...`)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.config import StageConfig

NAMESPACE = "KidStory"  # the functions' Powertools metrics namespace
SERVICE = "kidstory"  # their service dimension
FIVE_MINUTES = Duration.minutes(5)
PROVIDER_KINDS = ("text", "image", "video")


def business_metric(
    name: str,
    *,
    stage: str,
    statistic: str = "Sum",
    kind: str | None = None,
    label: str | None = None,
) -> cloudwatch.Metric:
    """A metric the functions of `stage` emit (embedded metric format; dimensions service and
    stage, and kind for ProviderLatency: kidstory.observability), so a stage's dashboard and
    alarms read that stage's figures alone."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE, "stage": stage, **({"kind": kind} if kind else {})},
        statistic=statistic,
        period=FIVE_MINUTES,
        label=label,
    )


class Monitoring(Construct):
    """The dashboard and alarms of one stage."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        state_machine: sfn.StateMachine,
        rest_api: apigateway.RestApi,
        webhook_dead_letters: sqs.IQueue,
    ) -> None:
        super().__init__(scope, construct_id)
        key = kms.Key(
            self,
            "AlarmTopicKey",
            description="Encrypts the alarm topic",
            enable_key_rotation=True,
            removal_policy=config.removal_policy,
        )
        # CloudWatch publishes alarms to the encrypted topic
        key.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                resources=["*"],
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"Kids Story Agent alarms ({config.stage})",
            master_key=key,
            enforce_ssl=True,
        )
        notify = actions.SnsAction(self.topic)

        failed_executions = state_machine.metric_failed(period=FIVE_MINUTES)
        timed_out = state_machine.metric_timed_out(period=FIVE_MINUTES)
        api_errors = rest_api.metric_server_error(period=FIVE_MINUTES)
        dead_letters = webhook_dead_letters.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum"
        )

        def metric(name: str) -> cloudwatch.Metric:
            """A count of this stage's functions, summed over five minutes."""
            return business_metric(name, stage=config.stage)

        throttled = metric("ProviderThrottled")

        def alarm(
            name: str, description: str, metric: cloudwatch.IMetric, threshold: int
        ) -> cloudwatch.Alarm:
            """Raised when `metric` reaches `threshold` in one period; silence is fine."""
            return cloudwatch.Alarm(
                self,
                name,
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )

        alarms = [
            alarm(
                "FailedExecutions",
                "Story workflows failed (5 or more in 5 minutes): providers down or refusing, or a "
                "fault in the workflow",
                failed_executions,
                5,
            ),
            alarm("TimedOutExecutions", "A story workflow ran past its 2-hour limit", timed_out, 1),
            alarm(
                "WebhookDeadLetters",
                "Webhook notices gave up after every retry and wait in the dead-letter queue",
                dead_letters,
                1,
            ),
            alarm(
                "ApiServerErrors", "The API answered 5xx (5 or more in 5 minutes)", api_errors, 5
            ),
            alarm(
                "ProviderThrottling",
                "AI providers throttled us 20 or more times in 5 minutes: raise the provider's "
                "quota or lower media_max_concurrency",
                throttled,
                20,
            ),
            alarm(
                "PendingJobsExpired",
                "A job was never started within a day of its request and was failed by the "
                "sweeper: StartExecution keeps failing (permissions, quota, a deleted workflow)",
                metric("PendingJobsExpired"),
                1,
            ),
            alarm(
                "PendingJobsNotStarted",
                "The sweeper could not start jobs left pending (5 or more tries in 5 minutes); "
                "they are tried again at every sweep",
                metric("PendingJobsRetryLater"),
                5,
            ),
        ]
        for raised in alarms:
            raised.add_alarm_action(notify)
        self.alarms = alarms

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"KidStory-{config.stage}"
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Stories",
                left=[
                    metric("StoriesRequested"),
                    metric("StoriesCompleted"),
                    metric("StoriesFailed"),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Pictures and clips made",
                left=[metric("ImagesGenerated"), metric("VideosGenerated")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Workflow executions",
                left=[
                    state_machine.metric_started(period=FIVE_MINUTES),
                    state_machine.metric_succeeded(period=FIVE_MINUTES),
                    failed_executions,
                    timed_out,
                ],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Provider latency, average of calls (s)",
                left=[
                    *(
                        business_metric(
                            "ProviderLatency",
                            stage=config.stage,
                            statistic="Average",
                            kind=kind,
                            label=f"{kind} call",
                        )
                        for kind in PROVIDER_KINDS
                    ),
                    business_metric(
                        "StoryWritingTime",
                        stage=config.stage,
                        statistic="Average",
                        label="whole story (text calls and reviews)",
                    ),
                ],
                width=8,
            ),
            cloudwatch.GraphWidget(title="Provider throttling", left=[throttled], width=8),
            cloudwatch.GraphWidget(
                title="API",
                left=[
                    rest_api.metric_count(period=FIVE_MINUTES),
                    rest_api.metric_client_error(period=FIVE_MINUTES),
                    api_errors,
                ],
                right=[rest_api.metric_latency(period=FIVE_MINUTES, statistic="p90")],
                width=8,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=alarms, width=12),
            cloudwatch.GraphWidget(title="Webhook dead letters", left=[dead_letters], width=12),
        )
