"""The REQUEST authorizer in front of ``$connect``, as API Gateway runs it: the deployed authorizer's
handler gets the handshake as a REQUEST authorizer event; ``Exception("Unauthorized")`` refuses the
handshake with 401, a Deny policy with 403, an error of any other kind with 500; an Allow puts its
``principalId`` and ``context`` into ``$connect``'s ``requestContext.authorizer``.

With ``--auth none`` a handshake without a credential skips it (``$connect`` then reads the query
string); one with a credential is checked all the same."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from entrypoints import authorizer
from entrypoints.credentials import credential
from entrypoints.local.apigw_events import API_ID, STAGE

log = logging.getLogger(__name__)

ACCOUNT = "000000000000"


class LocalAuthorizer:
    def __init__(self, mode: str, region: str) -> None:
        self._mode = mode
        self._method_arn = f"arn:aws:execute-api:{region}:{ACCOUNT}:{API_ID}/{STAGE}/$connect"

    async def admit(self, connect: dict[str, Any]) -> web.Response | None:
        """``None`` when the handshake may go on to ``$connect`` (its event then carries the
        authorizer's word); else the refusal to answer it with."""
        if self._mode == "none" and credential(connect) is None:
            return None
        started = time.monotonic()
        try:
            decision = await asyncio.to_thread(authorizer.handler, self._request(connect), None)
        except Exception as error:
            if str(error) == authorizer.UNAUTHORIZED:
                return _refused(401, "Unauthorized")
            log.exception("the authorizer failed")
            return _refused(500, "Internal server error")
        if _effect(decision) != "Allow":
            return _refused(403, "Forbidden")
        context = decision.get("context") or {}
        connect["requestContext"]["authorizer"] = {
            **{k: v for k, v in context.items() if isinstance(v, str | int | float | bool)},
            "principalId": decision.get("principalId"),
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }
        return None

    def _request(self, connect: Mapping[str, Any]) -> dict[str, Any]:
        event = {k: v for k, v in connect.items() if k not in ("isBase64Encoded", "body")}
        return {"type": "REQUEST", "methodArn": self._method_arn, **event, "stageVariables": {}}


def _effect(decision: Any) -> str | None:
    try:
        statements = decision["policyDocument"]["Statement"]
        effects = {s["Effect"] for s in statements}
    except (KeyError, TypeError):
        return None
    return "Allow" if effects == {"Allow"} else "Deny"


def _refused(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
