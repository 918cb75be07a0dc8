"""DynamoDB failing at the HTTP level, under botocore: a ``before-send`` hook, first in line on the
container's own client (ahead of moto's in-process stub), answers chosen calls with DynamoDB's own
error responses, so that botocore's retries, its error parsing and the adapter's judgement all run.

A fault is armed on one operation: from its ``position``-th call on, the next ``attempts`` HTTP
attempts fail (botocore makes up to 3 per call; the adapter retries cancelled transactions itself).
``lost response`` lets the request through and loses the answer: DynamoDB committed, the client timed out.
``held by a transaction`` is DynamoDB's ``TransactionConflictException`` to a single-item write (UpdateItem
here) on an item an in-flight transaction holds, which botocore does not retry: moto never produces it."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

from attrs import define, field
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from moto.core.botocore_stubber import MockRawResponse

KINDS = (
    "throttled",
    "server error",
    "lost response",
    "cancelled: throttled",
    "cancelled: conflict",
    "held by a transaction",
)
TRANSACTION_ONLY = ("cancelled: throttled", "cancelled: conflict")
# TransactionConflictException: a single-item write on an item another writer's transaction holds.
SINGLE_WRITE_ONLY = ("held by a transaction",)
SINGLE_WRITES = ("UpdateItem", "PutItem", "DeleteItem")
OPERATIONS = ("TransactWriteItems", "Query", "GetItem", "UpdateItem")
NOWHERE = "http://injected-fault.invalid/"  # no moto backend answers it


@define
class DynamoDBFaults:
    operation: str = ""
    kind: str = ""
    position: int = 1
    attempts: int = 0
    fired: int = 0
    calls: Counter[str] = field(factory=Counter)
    _invocations: set[str] = field(factory=set)
    _lock: threading.Lock = field(factory=threading.Lock)

    def install(self, client: Any) -> DynamoDBFaults:
        client.meta.events.register_first("before-send.dynamodb", self._before_send)
        return self

    def arm(self, operation: str, kind: str, position: int, attempts: int) -> None:
        with self._lock:
            self.operation, self.kind, self.position, self.attempts = operation, kind, position, attempts
            self.calls.clear()

    def disarm(self) -> int:
        """No more failures (the test reads the table itself next); how many were injected."""
        with self._lock:
            self.attempts = 0
            return self.fired

    def _before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        with self._lock:
            invocation = str(request.headers.get("amz-sdk-invocation-id", id(request)))
            if invocation not in self._invocations:  # a new call, not botocore's retry of one
                self._invocations.add(invocation)
                self.calls[operation] += 1
            if operation != self.operation or self.calls[operation] < self.position or self.attempts <= 0:
                return None
            self.attempts -= 1
            self.fired += 1
        # botocore emits before-send to every handler and takes the first answer: moto's stub, after
        # this one, still sees the request. It applies a lost response; the others it must not see.
        if self.kind != "lost response":
            request.url = NOWHERE
        return _error_response(request, self.kind)


def _error_response(request: AWSPreparedRequest, kind: str) -> AWSResponse:
    if kind == "throttled":
        status, body = 400, _error("ProvisionedThroughputExceededException", "injected: throughput exceeded")
    elif kind in SINGLE_WRITE_ONLY:
        message = "Transaction is ongoing for the item"
        status, body = 400, _error("TransactionConflictException", message)
    elif kind in TRANSACTION_ONLY:  # another writer's transaction on the same item, or throttling
        sent = request.body if isinstance(request.body, str | bytes) else b"{}"
        items = len(json.loads(sent or b"{}").get("TransactItems", [])) or 1
        code = "ThrottlingError" if kind == "cancelled: throttled" else "TransactionConflict"
        reasons = [{"Code": "None"}] * (items - 1) + [{"Code": code, "Message": "injected"}]
        codes = ", ".join(r["Code"] for r in reasons)
        status = 400
        body = _error("TransactionCanceledException", f"Transaction cancelled, reasons [{codes}]")
        body["CancellationReasons"] = reasons
    else:
        status, body = 500, _error("InternalServerError", "injected: internal server error")
    headers = {"x-amzn-RequestId": "injected-fault", "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, headers, MockRawResponse(json.dumps(body)))  # type: ignore[arg-type]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}
