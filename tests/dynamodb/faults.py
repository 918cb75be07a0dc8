"""Fault injection on a real boto3 client: chosen calls are answered with an error before they leave
the client (a ``before-call`` handler short-circuits them), as if botocore's own retries had all
been spent. Everything else goes through to moto unchanged."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from attrs import define
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

Body = dict[str, Any]


def record_transaction(body: Body) -> bool:
    """The user's turn: a transaction that puts a ``MSG#`` item."""
    return any(
        i.get("Put", {}).get("Item", {}).get("SK", {}).get("S", "").startswith("MSG#")
        for i in body["TransactItems"]
    )


def reply_transaction(body: Body) -> bool:
    """The reply: a transaction that updates a ``MSG#`` item."""
    return any(
        i.get("Update", {}).get("Key", {}).get("SK", {}).get("S", "").startswith("MSG#")
        for i in body["TransactItems"]
    )


def turn_query(body: Body) -> bool:
    prefix: str | None = body.get("ExpressionAttributeValues", {}).get(":prefix", {}).get("S")
    return prefix == "TURN#"


def lease_release(body: Body) -> bool:
    return "REMOVE" in body.get("UpdateExpression", "") and body["Key"]["SK"]["S"].startswith("MSG#")


@define
class Plan:
    operation: str
    code: str
    times: int
    when: Callable[[Body], bool] | None
    reasons: list[str] | None  # a TransactionCanceledException's reason codes, item by item


class InjectedFaults:
    def __init__(self, client: Any) -> None:
        self._lock = threading.Lock()
        self._plans: list[Plan] = []
        self.injected: list[tuple[str, str]] = []
        client.meta.events.register("before-call.dynamodb", self._before_call)

    def fail(
        self,
        operation: str,
        code: str = "ThrottlingException",
        times: int = 1,
        when: Callable[[Body], bool] | None = None,
        reasons: list[str] | None = None,
    ) -> None:
        with self._lock:
            self._plans.append(Plan(operation, code, times, when, reasons))

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def _before_call(
        self, model: Any, params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        body = json.loads(params.get("body") or b"{}")
        with self._lock:
            plan = next(
                (
                    p
                    for p in self._plans
                    if p.operation == model.name and p.times > 0 and (p.when is None or p.when(body))
                ),
                None,
            )
            if plan is None:
                return None
            plan.times -= 1
            self.injected.append((model.name, plan.code))
        status = 500 if plan.code in ("InternalServerError", "ServiceUnavailable") else 400
        parsed: dict[str, Any] = {
            "Error": {"Code": plan.code, "Message": "injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}},
        }
        if plan.reasons is not None:
            parsed["CancellationReasons"] = [{"Code": code} for code in plan.reasons]
        return AWSResponse(params.get("url", ""), status, HTTPHeaders(), None), parsed
