"""DynamoDB Streams (TTL ``REMOVE`` of a META item) → delete what remains of the expired session and
close its live connection. Deletes made by anyone but the TTL service are ignored."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from adapters.dynamodb.stream_records import expired_session
from entrypoints.container import get_container, message_bus
from entrypoints.lambda_logging import bind, logger, observed

# Report every failed record, even when all failed: the same retry for Lambda, and one shape to read.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def handle_record(record: DynamoDBRecord) -> None:
    expired = expired_session(record)
    if expired is None:
        return
    (deleted,) = message_bus(get_container()).handle(expired)
    logger.info("expired session removed", extra={"session_id": expired.session_id, "items_deleted": deleted})


@observed
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    bind(context)
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
