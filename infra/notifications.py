"""Notifications: story events on EventBridge, delivered to webhooks through SQS."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import pin_logical_id
from infra.config import StageConfig
from infra.lambda_factory import FunctionFactory
from infra.storage import JOB_ITEMS, OWNER_ITEMS, Storage

EVENT_SOURCE = "kidstory"
STORY_COMPLETED = "story.completed"
STORY_FAILED = "story.failed"
STORY_UPDATED = "story.updated"  # a page change ended (kidstory.story_events)

DELIVER_WEBHOOK_TIMEOUT = Duration.seconds(30)


class Notifications(Construct):
    """The story event bus; a rule queues story.completed/failed/updated for deliver_webhook.

    SQS gives retries with back-off (visibility timeout) and a dead-letter queue after
    5 receives; deliver_webhook reports partial batch failures.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StageConfig,
        storage: Storage,
        functions: FunctionFactory,
    ) -> None:
        super().__init__(scope, construct_id)
        self.event_bus = events.EventBus(
            self, "Bus", event_bus_name=f"KidStoryEvents-{config.stage}"
        )
        pin_logical_id(self.event_bus, "StoryEventBus")

        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        pin_logical_id(self.dead_letter_queue, "WebhookDeadLetterQueue")

        self.queue = sqs.Queue(
            self,
            "Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(6 * DELIVER_WEBHOOK_TIMEOUT.to_seconds()),
            dead_letter_queue=sqs.DeadLetterQueue(
                # the first try and five retries (WEBHOOK_RETRY_DELAYS: 1 min ... 6 h)
                max_receive_count=6,
                queue=self.dead_letter_queue,
            ),
        )
        pin_logical_id(self.queue, "WebhookQueue")

        self.rule = events.Rule(
            self,
            "StoryFinished",
            description="Story jobs that ended, for webhook delivery",
            event_bus=self.event_bus,
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE],
                detail_type=[STORY_COMPLETED, STORY_FAILED, STORY_UPDATED],
            ),
            targets=[targets.SqsQueue(self.queue)],
        )
        pin_logical_id(self.rule, "StoryFinishedRule")

        self.deliver_webhook = functions.create(
            self, "deliver_webhook", timeout=DELIVER_WEBHOOK_TIMEOUT
        )
        # reads the job and its owner's signing secret; records each try on the job; makes the
        # owner's secret on first use
        self.deliver_webhook.add_to_role_policy(
            iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=[storage.table.table_arn])
        )
        storage.allow_item_access(self.deliver_webhook, ["dynamodb:UpdateItem"], JOB_ITEMS)
        storage.allow_item_access(self.deliver_webhook, ["dynamodb:PutItem"], OWNER_ITEMS)
        self.deliver_webhook.add_event_source(
            # one notice per invocation: a slow receiver cannot hold up the others' notices
            event_sources.SqsEventSource(self.queue, batch_size=1, report_batch_item_failures=True)
        )
