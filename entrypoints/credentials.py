"""Where a client's credential travels on ``$connect`` (docs/PROTOCOL.md, "Authentication"):
``Authorization: Bearer <jwt>``, the second value of ``Sec-WebSocket-Protocol: manga-assist, <jwt>``
(all a browser's WebSocket can send), or the ``token`` query parameter. Standard library only: the
connect function reads the subprotocol offer too, and must not load what the authorizer loads.

None of these values is ever logged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUBPROTOCOL = "manga-assist"
SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol"


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A header's value, whatever case the client (or API Gateway) gave its name."""
    headers = event.get("headers") or {}
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, str):
            return value
    return None


def offered_subprotocols(event: Mapping[str, Any]) -> list[str]:
    value = header(event, SUBPROTOCOL_HEADER) or ""
    return [part.strip() for part in value.split(",") if part.strip()]


def selected_subprotocol(event: Mapping[str, Any]) -> str | None:
    """``manga-assist`` when the client offered it: a browser drops a connection whose handshake
    answer does not select one of the subprotocols it offered."""
    return SUBPROTOCOL if SUBPROTOCOL in offered_subprotocols(event) else None


def credential(event: Mapping[str, Any]) -> str | None:
    """The credential, from the first place that holds one."""
    authorization = header(event, "Authorization") or ""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    offered = offered_subprotocols(event)
    if len(offered) >= 2 and offered[0] == SUBPROTOCOL:
        return offered[1]
    query = event.get("queryStringParameters") or {}
    found = query.get("token")
    return found if isinstance(found, str) and found else None
