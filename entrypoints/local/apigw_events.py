"""API Gateway WebSocket events of the real shape (``$connect``, ``$default``, ``$disconnect``), built
from what the local gateway saw on the wire."""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import frozen

STAGE = "local"
API_ID = "local"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Hop-by-hop headers that API Gateway consumes and does not pass on.
DROPPED_HEADERS = {"connection", "upgrade"}


def apigw_id() -> str:
    """16 characters of base64 like ``BFHPhfCWIAMCKlQ=``, without ``+`` or ``/`` so that an id is safe in
    a URL path as it is (the Management API puts connection ids in its paths)."""
    while True:
        candidate = base64.b64encode(secrets.token_bytes(11)).decode("ascii")
        if "+" not in candidate and "/" not in candidate:
            return candidate


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def request_time(epoch_ms: int) -> str:
    moment = time.gmtime(epoch_ms / 1000)
    return (
        f"{moment.tm_mday:02d}/{MONTHS[moment.tm_mon - 1]}/{moment.tm_year}:"
        f"{moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} +0000"
    )


@frozen
class ConnectionFacts:
    """What API Gateway knows about a connection from its handshake."""

    connection_id: str
    connected_at: int  # epoch ms
    domain_name: str  # HOST:PORT
    source_ip: str
    user_agent: str
    headers: tuple[tuple[str, str], ...]  # as the client sent them, in order
    query: tuple[tuple[str, str], ...]
    # What the $connect authorizer said (principalId and its context): API Gateway passes it on in
    # the requestContext of every later event of the connection.
    authorizer: Mapping[str, Any] | None = None


def _request_context(facts: ConnectionFacts, route: str, event_type: str, **extra: Any) -> dict[str, Any]:
    epoch = now_ms()
    request_id = apigw_id()
    if facts.authorizer is not None:
        extra = {"authorizer": dict(facts.authorizer), **extra}
    return {
        "routeKey": route,
        **extra,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": request_time(epoch),
        "messageDirection": "IN",
        "stage": STAGE,
        "connectedAt": facts.connected_at,
        "requestTimeEpoch": epoch,
        "identity": {"sourceIp": facts.source_ip},
        "requestId": request_id,
        "domainName": facts.domain_name,
        "connectionId": facts.connection_id,
        "apiId": API_ID,
    }


def _single_and_multi(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value  # API Gateway keeps the last value in the single-value map
        multi.setdefault(name, []).append(value)
    return single, multi


def connect_event(facts: ConnectionFacts) -> dict[str, Any]:
    forwarded = [
        ("X-Forwarded-For", facts.source_ip),
        ("X-Forwarded-Port", facts.domain_name.rpartition(":")[2] or "80"),
        ("X-Forwarded-Proto", "http"),
    ]
    passed = [(k, v) for k, v in facts.headers if k.lower() not in DROPPED_HEADERS]
    headers, multi_headers = _single_and_multi([*passed, *forwarded])
    event: dict[str, Any] = {"headers": headers, "multiValueHeaders": multi_headers}
    if facts.query:  # API Gateway leaves both maps out when there is no query string
        query, multi_query = _single_and_multi(facts.query)
        event["queryStringParameters"] = query
        event["multiValueQueryStringParameters"] = multi_query
    event["requestContext"] = _request_context(facts, "$connect", "CONNECT")
    event["isBase64Encoded"] = False
    return event


def message_event(facts: ConnectionFacts, data: str | bytes) -> dict[str, Any]:
    """A client frame: text as it is, binary as base64 with ``isBase64Encoded``."""
    body = base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data
    return {
        "requestContext": _request_context(facts, "$default", "MESSAGE", messageId=apigw_id()),
        "body": body,
        "isBase64Encoded": isinstance(data, bytes),
    }


def disconnect_event(facts: ConnectionFacts, status_code: int, reason: str) -> dict[str, Any]:
    host = {"Host": facts.domain_name}
    return {
        "headers": {**host, "x-api-key": "", "X-Forwarded-For": "", "x-restapi": ""},
        "multiValueHeaders": {"Host": [facts.domain_name]},
        "requestContext": _request_context(
            facts,
            "$disconnect",
            "DISCONNECT",
            disconnectStatusCode=status_code,
            disconnectReason=reason,
        ),
        "isBase64Encoded": False,
    }


def header_pairs(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return tuple((str(k), str(v)) for k, v in items)
