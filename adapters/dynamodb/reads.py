"""Every read of the table: single items, a session partition's items of one kind in key order, and
the connection index. Strongly consistent unless the caller says an eventually consistent read is
safe (half the read capacity). For the prompt's context it is: a write made well under a second
earlier — the reply to a message sent right before this one — may be missing from it, and the
prompt then merges two questions, which the model handles; nothing is lost from the store."""

from __future__ import annotations

from typing import Any

from adapters.dynamodb.converter import (
    MessageState,
    handoff_from,
    message_from,
    session_from,
    summary_from,
    turn_from,
)
from adapters.dynamodb.errors import translated
from adapters.dynamodb.layout import (
    CONNECTION_ATTRIBUTE,
    CONNECTION_INDEX,
    HANDOFF_PREFIX,
    MESSAGE_PREFIX,
    META,
    PK,
    SK,
    SUMMARY_PREFIX,
    TURN_PREFIX,
    Item,
    key,
    message_key,
    partition,
    turn_key,
)
from domain.model import Handoff, Session, Summary, Turn


class TableReads:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def item(self, session_id: str, sort_key: str) -> Item | None:
        with translated("GetItem"):
            found = self._client.get_item(
                TableName=self._table, Key=key(session_id, sort_key), ConsistentRead=True
            )
        item: Item | None = found.get("Item")
        return item

    def query(
        self,
        session_id: str,
        prefix: str,
        limit: int | None,
        newest_first: bool,
        consistent: bool,
        after: str | None = None,
        projection: str | None = None,
    ) -> list[Item]:
        """Items whose sort key starts with ``prefix`` (all of the partition for ``""``), in key order
        or its reverse, at most ``limit``; with ``after``, only those whose key follows ``prefix+after``."""
        if limit is not None and limit <= 0:
            return []
        names = {"#pk": PK, "#sk": SK}
        values: dict[str, Any] = {":pk": {"S": partition(session_id)}}
        condition = "#pk = :pk"
        if after is not None:  # the keys between prefix+after (itself dropped below) and the prefix's end
            condition += " AND #sk BETWEEN :low AND :high"
            values[":low"] = {"S": prefix + after}
            values[":high"] = {"S": prefix[:-1] + chr(ord(prefix[-1]) + 1)}
        elif prefix:
            condition += " AND begins_with(#sk, :prefix)"
            values[":prefix"] = {"S": prefix}
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
            "ConsistentRead": consistent,
        }
        if projection:
            request["ProjectionExpression"] = projection
        wanted = None if limit is None else limit + (after is not None)
        items: list[Item] = []
        while True:  # one page unless the items pass the 1 MB a Query returns at most
            if wanted is not None:
                request["Limit"] = wanted - len(items)
            with translated("Query"):
                page = self._client.query(**request)
            items.extend(page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last or (wanted is not None and len(items) >= wanted):
                break
            request["ExclusiveStartKey"] = last
        if after is not None:
            items = [i for i in items if i[SK]["S"] != prefix + after]
        return items if limit is None else items[:limit]

    def session(self, session_id: str) -> Session | None:
        item = self.item(session_id, META)
        return None if item is None else session_from(item)

    def turns(self, session_id: str, limit: int, consistent: bool) -> list[Turn]:
        """The last ``limit`` turns, newest first."""
        return [turn_from(i) for i in self.query(session_id, TURN_PREFIX, limit, True, consistent)]

    def turns_after(self, session_id: str, after_turn_id: str | None, limit: int) -> list[Turn]:
        """At most ``limit`` turns following ``after_turn_id``, oldest first."""
        found = self.query(session_id, TURN_PREFIX, limit, False, True, after=after_turn_id)
        return [turn_from(i) for i in found]

    def turn(self, session_id: str, turn_id: str) -> Turn | None:
        item = self.item(session_id, turn_key(turn_id))
        return None if item is None else turn_from(item)

    def latest_summary(self, session_id: str, consistent: bool) -> Summary | None:
        found = self.query(session_id, SUMMARY_PREFIX, 1, True, consistent)
        return summary_from(session_id, found[0]) if found else None

    def summaries(self, session_id: str) -> list[Summary]:
        return [
            summary_from(session_id, i) for i in self.query(session_id, SUMMARY_PREFIX, None, False, True)
        ]

    def messages(self, session_id: str) -> list[MessageState]:
        return [message_from(i) for i in self.query(session_id, MESSAGE_PREFIX, None, False, True)]

    def turns_by_id(self, session_id: str, turn_ids: list[str]) -> dict[str, Turn]:
        """Many turns by id: BatchGetItem, 100 keys at a time, unprocessed keys asked again."""
        found: dict[str, Turn] = {}
        for start in range(0, len(turn_ids), 100):
            keys = [key(session_id, turn_key(t)) for t in turn_ids[start : start + 100]]
            pending: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
            for _ in range(10):
                with translated("BatchGetItem"):
                    answer = self._client.batch_get_item(RequestItems=pending)
                for item in answer.get("Responses", {}).get(self._table, []):
                    turn = turn_from(item)
                    found[turn.turn_id] = turn
                pending = answer.get("UnprocessedKeys") or {}
                if not pending:
                    break
        return found

    def handoffs(self, session_id: str) -> list[Handoff]:
        return [
            handoff_from(session_id, i) for i in self.query(session_id, HANDOFF_PREFIX, None, False, True)
        ]

    def message(self, session_id: str, message_id: str) -> MessageState | None:
        item = self.item(session_id, message_key(message_id))
        return None if item is None else message_from(item)

    def session_id_of_connection(self, connection_id: str) -> str | None:
        """One look at the connection index (eventually consistent, as every GSI read is)."""
        with translated("Query"):
            page = self._client.query(
                TableName=self._table,
                IndexName=CONNECTION_INDEX,
                KeyConditionExpression="#c = :c",
                ExpressionAttributeNames={"#c": CONNECTION_ATTRIBUTE},
                ExpressionAttributeValues={":c": {"S": connection_id}},
                ProjectionExpression="session_id",
            )
        for item in page.get("Items", []):
            return str(item["session_id"]["S"])
        return None
