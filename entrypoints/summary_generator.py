"""DynamoDB Streams → rolling summaries. Reports partial batch failures: Lambda resumes the shard
from the first failed record, so the records after it are delivered again — harmless, because a
summary already made is never made twice (``RollSummary`` is idempotent)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from adapters.dynamodb.stream_records import turns_counted
from domain.model import Summary
from entrypoints.container import get_container, message_bus
from entrypoints.lambda_logging import bind, logger, observed

# Report every failed record, even when all failed: the same retry for Lambda, and one shape to read.
processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


def handle_record(record: DynamoDBRecord) -> None:
    change = turns_counted(record)
    if change is None:
        return
    for summary in message_bus(get_container()).handle(change):
        if isinstance(summary, Summary):
            logger.info(
                "summary stored",
                extra={"session_id": change.session_id, "turns_covered": summary.turns_covered},
            )


@observed
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    bind(context)
    return process_partial_response(
        event=event, record_handler=handle_record, processor=processor, context=context
    )
