"""SQS (the retry queue of failed writes) → replay each write idempotently. Partial batch failures:
a message that fails is retried alone, and after ``maxReceiveCount`` receives SQS moves it to the
dead-letter queue (``manga-assist redrive`` brings it back)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from adapters.retry_message import decode_pending_write
from application.replay import Replayed
from entrypoints.container import get_container, message_bus
from entrypoints.lambda_logging import bind, logger, observed

# Report every failed record, even when all failed: the same retry for Lambda, and one shape to read.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> None:
    receives = int(record.attributes.approximate_receive_count or 1)
    try:
        write = decode_pending_write(record.body)
        (outcome,) = message_bus(get_container()).handle(write)
        assert isinstance(outcome, Replayed)
    except Exception:
        logger.exception(
            "retry message failed; SQS retries it, and moves it to the DLQ after maxReceiveCount receives",
            extra={"sqs_message_id": record.message_id, "receive_count": receives},
        )
        raise
    logger.info(
        "pending write replayed",
        extra={
            "session_id": write.session_id,
            "message_id": write.message_id,
            "sqs_message_id": record.message_id,
            "receive_count": receives,
            "outcome": outcome.value,
        },
    )


@observed
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    bind(context)
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
