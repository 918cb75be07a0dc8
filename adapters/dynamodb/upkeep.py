"""Writes of the asynchronous half that touch no session state: summaries, and deleting what remains
of an expired session."""

from __future__ import annotations

from typing import Any

from adapters.dynamodb.converter import summary_item, ttl_of
from adapters.dynamodb.errors import Backoff, translated
from adapters.dynamodb.layout import CHILD_GRACE, PK, SK, summary_key
from adapters.dynamodb.transactions import PartitionWriter
from application.errors import Unavailable
from domain.model import Summary

BATCH = 25  # BatchWriteItem's limit


class Upkeep:
    def __init__(self, writer: PartitionWriter, backoff: Backoff) -> None:
        self._writer = writer
        self._backoff = backoff

    def add_summary(self, summary: Summary) -> bool:
        """Put the summary unless one covers the same last turn. Its ``ttl`` follows the session's
        expiry, read first: the summarizer learns of the session from a stream record, not its META."""
        w = self._writer
        session = w.reads.session(summary.session_id)
        expiry = session.expires_at if session is not None else summary.created_at
        attributes = summary_item(summary, ttl_of(expiry + CHILD_GRACE))
        return w.put_new(summary.session_id, summary_key(summary.last_turn_id), attributes, "the summary")

    def delete_session(self, session_id: str) -> tuple[int, str | None]:
        """Delete every item of the partition; the number deleted and the connection META held."""
        w = self._writer
        items = w.reads.query(session_id, "", None, False, True, projection="#pk, #sk, connection_id")
        connection = next((i["connection_id"]["S"] for i in items if "connection_id" in i), None)
        keys = [{PK: i[PK], SK: i[SK]} for i in items]
        for start in range(0, len(keys), BATCH):
            self._delete(keys[start : start + BATCH])
        return len(keys), connection

    def _delete(self, keys: list[dict[str, Any]]) -> None:
        pending = {self._writer.table: [{"DeleteRequest": {"Key": k}} for k in keys]}
        for attempt in range(self._backoff.attempts):
            with translated("BatchWriteItem"):
                answer = self._writer.client.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                return
            self._backoff.pause(attempt)  # throttled items come back unprocessed, not as an error
        raise Unavailable("DynamoDB BatchWriteItem: items stayed unprocessed")
