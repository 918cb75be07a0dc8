"""Reading the session table's DynamoDB Streams records (as Lambda delivers them) into the
application's change events. The table's keys are this adapter's business (``layout``).

Powertools' ``DynamoDBRecord`` carries the record and deserializes its keys. The images are read
attribute by attribute instead of through its deserialized ``old_image``/``new_image``: those
deserialize every attribute of the item, and one malformed attribute that no consumer reads would
fail the record (and hold its shard) rather than be ignored."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from adapters.dynamodb.layout import META, PK, SK, partition
from application.events import SessionExpired, TurnsCounted

SESSION_PREFIX = partition("")
TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def _s(image: Mapping[str, Any], name: str) -> str | None:
    value = (image.get(name) or {}).get("S")
    return value if isinstance(value, str) else None


def _n(image: Mapping[str, Any], name: str) -> int:
    value = (image.get(name) or {}).get("N")
    return int(value) if isinstance(value, str) else 0


def _meta_session_id(record: DynamoDBRecord) -> str | None:
    change = record.dynamodb
    keys = change.keys if change is not None else {}
    pk, sk = keys.get(PK), keys.get(SK)
    if sk != META or not isinstance(pk, str) or not pk.startswith(SESSION_PREFIX):
        return None
    return pk[len(SESSION_PREFIX) :] or None


def _image(record: DynamoDBRecord, name: str) -> Mapping[str, Any]:
    return (record.get("dynamodb") or {}).get(name) or {}


def turns_counted(record: DynamoDBRecord) -> TurnsCounted | None:
    """A META insert or modify whose ``turn_count`` moved; anything else is not for the summarizer."""
    session_id = _meta_session_id(record)
    if session_id is None or record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    before = _n(_image(record, "OldImage"), "turn_count")
    after = _n(_image(record, "NewImage"), "turn_count")
    return TurnsCounted(session_id, before, after) if after > before else None


def expired_session(record: DynamoDBRecord) -> SessionExpired | None:
    """The TTL service's removal of a META item. Deletes by anyone else (an operator, our own cleanup)
    are not expiries and are ignored."""
    session_id = _meta_session_id(record)
    identity = record.user_identity
    if (
        session_id is None
        or record.get("eventName") != "REMOVE"
        or identity.get("type") != "Service"
        or identity.get("principalId") != TTL_PRINCIPAL
    ):
        return None
    return SessionExpired(session_id, _s(_image(record, "OldImage"), "connection_id"))
