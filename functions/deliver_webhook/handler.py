"""DeliverWebhook: POSTs signed story notices from the webhook queue to clients' URLs; a
notice that was not accepted comes back later, after a growing delay. A batch holds notices of
several jobs: each notice's lines carry its own job id."""

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

# the table's pieces load during init, not on the first call
import kidstory.store.jobs
import kidstory.store.webhook_secrets  # noqa: F401
from kidstory.config.load import get_settings
from kidstory.observability import about_job, logger, metrics, tracer
from kidstory.webhooks import EventEnvelope, WebhookFailed, deliver
from kidstory.wiring import jobs, webhook_secrets

processor = BatchProcessor(event_type=EventType.SQS)
sqs = boto3.client("sqs")


@cache
def queue_url(queue_arn: str) -> str:
    _, _, _, _, account, name = queue_arn.split(":")
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])


def deliver_record(record: SQSRecord) -> None:
    envelope = EventEnvelope.model_validate_json(record.body)
    with about_job(envelope.detail.job_id):
        deliver_notice(envelope, record)


def deliver_notice(envelope: EventEnvelope, record: SQSRecord) -> None:
    settings = get_settings()
    try:
        attempt = deliver(
            envelope,
            jobs(),
            webhook_secrets(),
            allow_private=settings.webhook_allow_private_targets,
        )
    except WebhookFailed as failed:
        tries = int(record.attributes.approximate_receive_count)
        delay = settings.webhook_retry_delay(tries)
        sqs.change_message_visibility(
            QueueUrl=queue_url(record.event_source_arn),
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=delay,
        )
        logger.warning(
            "webhook not delivered", extra={"error": str(failed), "try": tries, "next_in": delay}
        )
        raise
    if attempt is not None:
        logger.info("webhook attempt", extra=attempt.model_dump(mode="json"))


@tracer().capture_lambda_handler
@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=deliver_record, processor=processor, context=context
    )
    return dict(response)
