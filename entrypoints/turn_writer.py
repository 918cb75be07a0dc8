"""SQS (the retry queue of failed writes) → replay each write idempotently. Partial batch failures:
a message that fails is retried alone, and after ``maxReceiveCount`` receives SQS moves it to the
dead-letter queue (``manga-assist redrive`` brings it back)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from adapters.retry_message import decode_pending_write
from application.telemetry import WRITES_FOR_GONE_SESSIONS
from domain.errors import SessionNotFound
from entrypoints.container import get_container, message_bus
from entrypoints.lambda_logging import bind, logger, observed

# Report every failed record, even when all failed: the same retry for Lambda, and one shape to read.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def handle_record(record: SQSRecord) -> None:
    receives = int(record.attributes.approximate_receive_count or 1)
    try:
        write = decode_pending_write(record.body)
        (stored,) = message_bus(get_container()).handle(write)
    except SessionNotFound:
        # The session expired and was cleaned up while the reply waited: there is nothing left to
        # store it in, and retrying until the DLQ would only page someone. Said, counted, let go.
        logger.warning(
            "pending write for a session that no longer exists; dropped",
            extra={"sqs_message_id": record.message_id, "receive_count": receives},
        )
        get_container().adapters.telemetry().count(WRITES_FOR_GONE_SESSIONS)
        return
    except Exception:
        logger.exception(
            "retry message failed; SQS retries it, and moves it to the DLQ after maxReceiveCount receives",
            extra={"sqs_message_id": record.message_id, "receive_count": receives},
        )
        raise
    logger.info(
        "pending write replayed" if stored else "pending write was already stored",
        extra={"session_id": write.session_id, "message_id": write.message_id, "receive_count": receives},
    )


@observed
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    bind(context)
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
