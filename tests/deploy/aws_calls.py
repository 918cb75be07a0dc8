"""Every AWS API call a function's code makes, recorded on the wire, and the IAM permission each needs.

A ``CallRecorder`` hooks botocore's ``before-call`` event on a boto3 Session: every client the
container makes from that session (DynamoDB, SQS, the Management API, Bedrock) reports each call with
its operation, HTTP method, path and JSON body, before anything answers it (moto, a fault injected by
a test, or the canned Bedrock answers given here: moto has no Converse).

``needs`` maps a call to IAM (action, resource) pairs as AWS authorizes them: a transaction by each
of its items' actions, a Query on an index by the index's ARN, ``post_to_connection`` by
``execute-api:ManageConnections`` on ``.../POST/@connections/*``, Converse by ``bedrock:InvokeModel``.
A call it does not know fails the test: teach it the rule, never guess.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

import boto3
from attrs import field, frozen
from botocore.awsrequest import AWSResponse, HTTPHeaders

SERVICES = ("dynamodb", "sqs", "apigatewaymanagementapi", "bedrock-runtime", "secretsmanager")
REPLY = "Volume 3 ships on Friday."

# What a resource is, in the template's words: ("table", logical id), ("index", index name),
# ("stream", table logical id), ("queue", logical id), ("connections", HTTP method), ("model", param),
# ("secret", param).
Resource = tuple[str, str]
Need = tuple[str, Resource]

TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
SQS_BATCH_ACTIONS = {
    "SendMessageBatch": "sqs:SendMessage",
    "DeleteMessageBatch": "sqs:DeleteMessage",
    "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}
BEDROCK_ACTIONS = {
    "Converse": "bedrock:InvokeModel",
    "InvokeModel": "bedrock:InvokeModel",
    "ConverseStream": "bedrock:InvokeModelWithResponseStream",
    "InvokeModelWithResponseStream": "bedrock:InvokeModelWithResponseStream",
}


class UnknownCall(AssertionError):
    """A call this mapping does not know how IAM authorizes."""


@frozen
class Call:
    service: str
    operation: str
    method: str
    path: str
    body: Mapping[str, Any] = field(repr=False)


class CallRecorder:
    def __init__(self, region: str) -> None:
        self.session = boto3.session.Session(region_name=region)
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        for service in SERVICES:
            # First, so that no other handler (a test's injected fault) answers a call unrecorded.
            self.session.events.register_first(f"before-call.{service}", self._before_call)

    def _before_call(self, model: Any, params: Mapping[str, Any], **_: Any) -> Any:
        raw = params.get("body") or b"{}"
        body = json.loads(raw) if raw[:1] in (b"{", "{") else {}
        call = Call(
            model.service_model.service_name, model.name, params["method"], unquote(params["url_path"]), body
        )
        with self._lock:
            self.calls.append(call)
        if call.service == "bedrock-runtime":
            return AWSResponse(params.get("url", ""), 200, HTTPHeaders(), None), _bedrock_answer(
                call.operation
            )
        return None


def _bedrock_answer(operation: str) -> dict[str, Any]:
    usage = {"inputTokens": 12, "outputTokens": 6, "totalTokens": 18}
    if operation == "ConverseStream":
        events: list[dict[str, Any]] = [
            {"messageStart": {"role": "assistant"}},
            *({"contentBlockDelta": {"delta": {"text": w}, "contentBlockIndex": 0}} for w in REPLY.split()),
            {"messageStop": {"stopReason": "end_turn"}},
            {"metadata": {"usage": usage, "metrics": {"latencyMs": 5}}},
        ]
        return {"stream": _EventStream(events)}
    if operation == "Converse":
        message = {"role": "assistant", "content": [{"text": "The customer asks about volumes."}]}
        return {"output": {"message": message}, "stopReason": "end_turn", "usage": usage}
    raise UnknownCall(f"no canned Bedrock answer for {operation}")


class _EventStream:
    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._events = events

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._events)

    def close(self) -> None:
        return None


def needs(call: Call, names: Mapping[str, str]) -> set[Need]:
    """The IAM (action, resource) pairs ``call`` needs. ``names`` maps physical names (table name,
    queue URL, model id) to the template's logical ids."""
    body = call.body
    if call.service == "dynamodb":
        return _dynamodb(call.operation, body, names)
    if call.service == "sqs":
        action = SQS_BATCH_ACTIONS.get(call.operation, f"sqs:{call.operation}")
        return {(action, ("queue", _name(names, body["QueueUrl"])))}
    if call.service == "apigatewaymanagementapi":
        if not call.path.startswith("/@connections/"):
            raise UnknownCall(f"Management API path {call.path}")
        return {("execute-api:ManageConnections", ("connections", call.method))}
    if call.service == "secretsmanager" and call.operation == "GetSecretValue":
        return {("secretsmanager:GetSecretValue", ("secret", _name(names, body["SecretId"])))}
    if call.service == "bedrock-runtime":
        model = call.path.split("/")[2]  # /model/{modelId}/converse(-stream)
        if call.operation not in BEDROCK_ACTIONS:
            raise UnknownCall(f"bedrock-runtime {call.operation}")
        return {(BEDROCK_ACTIONS[call.operation], ("model", _name(names, model)))}
    raise UnknownCall(f"{call.service} {call.operation}")


def _dynamodb(operation: str, body: Mapping[str, Any], names: Mapping[str, str]) -> set[Need]:
    if operation in ("TransactWriteItems", "TransactGetItems"):
        found = set()
        for item in body["TransactItems"]:
            ((kind, request),) = item.items()
            if kind not in TRANSACT_ITEM_ACTIONS:
                raise UnknownCall(f"{operation} item {kind}")
            found.add((TRANSACT_ITEM_ACTIONS[kind], ("table", _name(names, request["TableName"]))))
        return found
    if operation in ("BatchWriteItem", "BatchGetItem"):
        return {(f"dynamodb:{operation}", ("table", _name(names, t))) for t in body["RequestItems"]}
    if "TableName" not in body:
        raise UnknownCall(f"dynamodb {operation} names no table")
    table = ("table", _name(names, body["TableName"]))
    if operation in ("Query", "Scan") and "IndexName" in body:
        return {(f"dynamodb:{operation}", ("index", body["IndexName"]))}
    return {(f"dynamodb:{operation}", table)}


def _name(names: Mapping[str, str], physical: str) -> str:
    if physical not in names:
        raise UnknownCall(f"{physical!r} is none of the template's resources {sorted(names)}")
    return names[physical]
