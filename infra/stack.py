"""KidStoryStack: storage, CDN, notifications, workflow and API, composed once."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from constructs import Construct

from infra.api import StoryApi
from infra.cdn import MediaCdn
from infra.config import StageConfig
from infra.function_logs import expire_every_function_log
from infra.lambda_factory import FunctionFactory
from infra.monitoring import Monitoring
from infra.notifications import Notifications
from infra.reader import ReaderSite
from infra.storage import Storage
from infra.sweeper import PendingJobSweeper
from infra.workflow import StoryWorkflow


class KidStoryStack(Stack):
    """Everything of one stage of Kids Story Agent."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StageConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        Tags.of(self).add("project", "kidstory")
        Tags.of(self).add("stage", config.stage)

        self.storage = Storage(self, "Storage", config=config)
        functions = FunctionFactory(self, "Functions", config=config, storage=self.storage)
        self.cdn = MediaCdn(
            self,
            "Cdn",
            config=config,
            functions=functions,
            media_bucket=self.storage.media_bucket,
            access_logs=self.storage.access_logs,
        )
        self.notifications = Notifications(
            self, "Notifications", config=config, storage=self.storage, functions=functions
        )
        self.workflow = StoryWorkflow(
            self,
            "Workflow",
            config=config,
            storage=self.storage,
            functions=functions,
            event_bus=self.notifications.event_bus,
        )
        # jobs the API recorded but whose workflow it could not start (it stopped in between)
        self.sweeper = PendingJobSweeper(
            self,
            "Sweeper",
            storage=self.storage,
            functions=functions,
            state_machine=self.workflow.state_machine,
            event_bus=self.notifications.event_bus,
        )
        self.api = StoryApi(
            self,
            "Api",
            config=config,
            storage=self.storage,
            functions=functions,
            state_machine=self.workflow.state_machine,
            cdn=self.cdn,
        )
        # The web reader on CloudFront (the local stack serves it from the API at /reader/).
        self.reader: ReaderSite | None = None
        if config.stage != "local":
            self.reader = ReaderSite(
                self,
                "Reader",
                config=config,
                distribution=self.cdn.distribution,
                access_logs=self.storage.access_logs,
                api_url=self.api.url,
                api_function=self.api.function,
                rest_api=self.api.rest_api,
            )

        self.monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            state_machine=self.workflow.state_machine,
            rest_api=self.api.rest_api,
            webhook_dead_letters=self.notifications.dead_letter_queue,
        )
        # last: every function is made by now, CDK's helpers included
        expire_every_function_log(self, config)

        CfnOutput(self, "ApiUrl", value=self.api.url, description="Base URL of the API")
        CfnOutput(
            self,
            "StateMachineArn",
            value=self.workflow.state_machine.state_machine_arn,
            description="StoryWorkflow",
        )
        CfnOutput(self, "MediaBaseUrl", value=self.cdn.media_base_url)
        if self.reader:
            CfnOutput(self, "ReaderUrl", value=self.reader.url, description="The web reader")
        CfnOutput(self, "TableName", value=self.storage.table.table_name)
        CfnOutput(self, "MediaBucketName", value=self.storage.media_bucket.bucket_name)
        CfnOutput(self, "EventBusName", value=self.notifications.event_bus.event_bus_name)
        CfnOutput(self, "WebhookQueueUrl", value=self.notifications.queue.queue_url)
        CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.monitoring.topic.topic_arn,
            description="Subscribe to receive the alarms",
        )
        CfnOutput(
            self,
            "DashboardName",
            value=self.monitoring.dashboard.dashboard_name,
            description="CloudWatch dashboard of the service",
        )
