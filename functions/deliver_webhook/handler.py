"""DeliverWebhook: POSTs finished-story notices from the webhook queue to clients' URLs."""

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from kidstory.adapters import story_table
from kidstory.observability import logger
from kidstory.settings import get_settings
from kidstory.webhooks import deliver

processor = BatchProcessor(event_type=EventType.SQS)


def deliver_record(record: SQSRecord) -> None:
    notice = deliver(
        record.body,
        story_table(),
        allow_private=get_settings().webhook_allow_private_targets,
    )
    if notice is not None:
        logger.info("webhook delivered", extra={"job_id": notice.job_id, "event": notice.event})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=deliver_record, processor=processor, context=context
    )
    return dict(response)
