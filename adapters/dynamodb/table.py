"""The table of docs/PROTOCOL.md §11, defined once: `manga-assist create-table` and the tests use it."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.dynamodb.layout import (
    CONNECTION_ATTRIBUTE,
    CONNECTION_INDEX,
    PK,
    QUEUE_ATTRIBUTE,
    QUEUE_INDEX,
    QUEUE_ORDER,
    QUEUE_PROJECTION,
    SK,
    TTL_ATTRIBUTE,
)


def table_definition(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments: keys, the connection index, the agents' queue, on-demand billing,
    Streams."""
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "S"},
            {"AttributeName": CONNECTION_ATTRIBUTE, "AttributeType": "S"},
            {"AttributeName": QUEUE_ATTRIBUTE, "AttributeType": "S"},
            {"AttributeName": QUEUE_ORDER, "AttributeType": "N"},
        ],
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": CONNECTION_INDEX,
                "KeySchema": [{"AttributeName": CONNECTION_ATTRIBUTE, "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                # Sparse: only a META in handoff has these attributes (the agents' queue).
                "IndexName": QUEUE_INDEX,
                "KeySchema": [
                    {"AttributeName": QUEUE_ATTRIBUTE, "KeyType": "HASH"},
                    {"AttributeName": QUEUE_ORDER, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(QUEUE_PROJECTION)},
            },
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


# What a failed create_table raises: the command reports these, and lets anything else surface.
TABLE_ERRORS = (ClientError, BotoCoreError)


def create_table(client: Any, table_name: str) -> bool:
    """Create the table, wait until it is active and switch its TTL on. ``False`` when it existed
    already; TTL is switched on then too, in case an earlier run stopped halfway."""
    try:
        client.create_table(**table_definition(table_name))
        created = True
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        created = False
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    status = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    if status.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    return created
