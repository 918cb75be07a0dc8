"""The agents' side of the table: the queue of open handoffs (the sparse index ``GSI3-open-handoffs``)
and the partition of connected agents' consoles. See ``layout`` for why neither needs a Scan."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.dynamodb.converter import from_epoch, from_item, to_item, ttl_of, value
from adapters.dynamodb.errors import translated
from adapters.dynamodb.layout import (
    AGENT_CONNECTION_PREFIX,
    AGENTS_PARTITION,
    OPEN,
    PK,
    QUEUE_ATTRIBUTE,
    QUEUE_INDEX,
    QUEUE_ORDER,
    SK,
    agent_connection_key,
)
from application.ports import AgentConnection, QueueEntry


class AgentDesk:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def open_handoffs(self, limit: int, waiting_before: datetime | None = None) -> list[QueueEntry]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": QUEUE_INDEX,
            "KeyConditionExpression": "#q = :open",
            "ExpressionAttributeNames": {"#q": QUEUE_ATTRIBUTE},
            "ExpressionAttributeValues": {":open": {"S": OPEN}},
            "ScanIndexForward": True,
        }
        if waiting_before is not None:
            request["KeyConditionExpression"] += " AND #w < :before"
            request["ExpressionAttributeNames"]["#w"] = QUEUE_ORDER
            request["ExpressionAttributeValues"][":before"] = value(waiting_before)
        entries: list[QueueEntry] = []
        while len(entries) < limit:
            request["Limit"] = limit - len(entries)
            with translated("Query"):
                page = self._client.query(**request)
            entries.extend(_entry(from_item(i)) for i in page.get("Items", []))
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return entries

    def add_agent_connection(self, connection: AgentConnection, expires_at: datetime) -> None:
        item = {
            **agent_connection_key(connection.connection_id),
            **to_item(
                {
                    "agent_id": connection.agent_id,
                    "connected_at": connection.connected_at,
                    "ttl": ttl_of(expires_at),
                }
            ),
        }
        with translated("PutItem"):
            self._client.put_item(TableName=self._table, Item=item)

    def remove_agent_connection(self, connection_id: str) -> None:
        with translated("DeleteItem"):
            self._client.delete_item(TableName=self._table, Key=agent_connection_key(connection_id))

    def agent_connections(self) -> list[AgentConnection]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :agents AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": PK, "#sk": SK},
            "ExpressionAttributeValues": {
                ":agents": {"S": AGENTS_PARTITION},
                ":prefix": {"S": AGENT_CONNECTION_PREFIX},
            },
            "ConsistentRead": True,
        }
        found: list[AgentConnection] = []
        while True:
            with translated("Query"):
                page = self._client.query(**request)
            for item in page.get("Items", []):
                values = from_item(item)
                found.append(
                    AgentConnection(
                        connection_id=str(values[SK]).removeprefix(AGENT_CONNECTION_PREFIX),
                        agent_id=str(values["agent_id"]),
                        connected_at=from_epoch(values["connected_at"]),
                    )
                )
            last = page.get("LastEvaluatedKey")
            if not last:
                return found
            request["ExclusiveStartKey"] = last


def _entry(values: dict[str, Any]) -> QueueEntry:
    return QueueEntry(
        session_id=str(values["session_id"]),
        customer_id=values.get("customer_id"),
        reason=values.get("handoff_reason"),
        waiting_since=from_epoch(values["waiting_since"]),
        agent_id=values.get("agent_id"),
        expires_at=from_epoch(values["expires_at"]),
        unclaimed_told=bool(values.get("unclaimed_told", False)),
    )
