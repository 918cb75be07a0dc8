"""Reading the session table's DynamoDB Streams records (as Lambda delivers them) into the
application's change events. The table's keys are this adapter's business (``layout``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def _meta_session_id(record: Mapping[str, Any]) -> str | None:
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    pk, sk = _s(keys, PK), _s(keys, SK)
    if sk != META or not pk or not pk.startswith(SESSION_PREFIX):
        return None
    return pk[len(SESSION_PREFIX) :]


def turns_counted(record: Mapping[str, Any]) -> TurnsCounted | None:
    """A META insert or modify whose ``turn_count`` moved; anything else is not for the summarizer."""
    session_id = _meta_session_id(record)
    if session_id is None or record.get("eventName") not in ("INSERT", "MODIFY"):
        return None
    change = record.get("dynamodb") or {}
    before = _n(change.get("OldImage") or {}, "turn_count")
    after = _n(change.get("NewImage") or {}, "turn_count")
    return TurnsCounted(session_id, before, after) if after > before else None


def expired_session(record: Mapping[str, Any]) -> SessionExpired | None:
    """The TTL service's removal of a META item. Deletes by anyone else (an operator, our own cleanup)
    are not expiries and are ignored."""
    session_id = _meta_session_id(record)
    identity = record.get("userIdentity") or {}
    if (
        session_id is None
        or record.get("eventName") != "REMOVE"
        or identity.get("type") != "Service"
        or identity.get("principalId") != TTL_PRINCIPAL
    ):
        return None
    old = (record.get("dynamodb") or {}).get("OldImage") or {}
    return SessionExpired(session_id, _s(old, "connection_id"))
