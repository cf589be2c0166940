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
FIVE_MINUTES = Duration.minutes(5)


def business_metric(name: str, statistic: str = "Sum") -> cloudwatch.Metric:
    """A metric the functions emit (embedded metric format, dimension service=kidstory)."""
    return cloudwatch.Metric(
        namespace=NAMESPACE,
        metric_name=name,
        dimensions_map={"service": "kidstory"},
        statistic=statistic,
        period=FIVE_MINUTES,
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
        throttled = business_metric("ProviderThrottled")

        alarms = [
            cloudwatch.Alarm(
                self,
                "FailedExecutions",
                alarm_description="Story workflows failed (5 or more in 5 minutes): providers "
                "down or refusing, or a fault in the workflow",
                metric=failed_executions,
                threshold=5,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "TimedOutExecutions",
                alarm_description="A story workflow ran past its 2-hour limit",
                metric=timed_out,
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "WebhookDeadLetters",
                alarm_description="Webhook notices gave up after every retry and wait in the "
                "dead-letter queue",
                metric=dead_letters,
                threshold=1,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "ApiServerErrors",
                alarm_description="The API answered 5xx (5 or more in 5 minutes)",
                metric=api_errors,
                threshold=5,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self,
                "ProviderThrottling",
                alarm_description="AI providers throttled us 20 or more times in 5 minutes: "
                "raise the provider's quota or lower media_max_concurrency",
                metric=throttled,
                threshold=20,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        for alarm in alarms:
            alarm.add_alarm_action(notify)
        self.alarms = alarms

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"KidStory-{config.stage}"
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Stories",
                left=[business_metric("StoriesCompleted"), business_metric("StoriesFailed")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Pictures and clips made",
                left=[business_metric("ImagesGenerated"), business_metric("VideosGenerated")],
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
                title="Provider latency (s)",
                left=[
                    business_metric("ProviderLatency", "Average"),
                    business_metric("StoryWritingTime", "Average"),
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
