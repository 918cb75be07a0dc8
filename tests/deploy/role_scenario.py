"""Representative traffic through every function of the template, each path its code can take in
production that needs a permission: new and resumed connections, new and repeated messages, history,
session, a reply the table refuses (queued to SQS) and its replay, a rolled summary, a handoff from the
client and from the agent console, an expiry; every handshake through the authorizer. Each step
checks that it did what it should, so that a call missing from the recording means a path not taken,
never a path that failed silently."""

from __future__ import annotations

import time
from typing import Any

from joserfc import jwk, jwt

from testing.aws import partition_items
from testing.harness import connect_event, disconnect_event, message_event
from tests.deploy.event_filter import passes
from tests.deploy.role_traffic import API_ID, HS256_SECRET, TABLE, Deployment, Function, mapping_of
from tests.deploy.stream_source import batch, sort_key, ttl_expiry
from tests.dynamodb.faults import InjectedFaults, reply_transaction

OK: dict[str, Any] = {"batchItemFailures": []}


def run_traffic(d: Deployment) -> None:
    connect, message = d["ConnectFunction"], d["MessageFunction"]

    _ok(connect(authorized_connect(d, "conn-1", "cust-1")))
    session_id = _session(message, "conn-1", resumed=False)
    _say(message, "conn-1", "Frieren vol 3?", "m-1")
    _say(message, "conn-1", "Frieren vol 3?", "m-1")
    replies = [f for f in frames(message, "conn-1") if f.get("type") == "message"]
    assert [f["reply_to"] for f in replies] == ["m-1", "m-1"], "a repeat gets the stored reply"
    _ok(message(message_event("conn-1", {"action": "history", "limit": 10})))

    faults = InjectedFaults(message.container.adapters.dynamodb_client())
    faults.fail("TransactWriteItems", code="InternalServerError", times=10_000, when=reply_transaction)
    _say(message, "conn-1", "And vol 4?", "m-2")
    faults.clear()
    assert faults.injected, "the reply write was not refused"

    _ok(d["DisconnectFunction"](disconnect_event("conn-1")))
    _ok(connect(authorized_connect(d, "conn-2", "cust-1", session_id)))
    assert _session(message, "conn-2", resumed=True) == session_id

    queued = d.sqs_event("RetryQueue")
    assert len(queued["Records"]) == 1, "the refused reply was not queued"
    assert d["TurnWriterFunction"](queued) == OK
    assert d["TurnWriterFunction"](queued) == OK, "SQS delivers at least once: a repeat is a success"
    _ok(message(message_event("conn-2", {"action": "history", "limit": 10})))
    history = [f for f in frames(message, "conn-2") if f.get("type") == "history"][-1]
    assert [t["role"] for t in history["turns"]] == ["user", "assistant", "user", "assistant"]

    delivered = d.stream_event("SummaryGeneratorFunction")
    assert delivered["Records"], "the filter delivered nothing to the summary generator"
    assert d["SummaryGeneratorFunction"](delivered) == OK
    assert any(sort_key_of(i).startswith("SUMMARY#") for i in partition(d, session_id)), "no summary made"

    _handoffs(d)
    _agents(d)
    _ok(message(message_event("conn-2", {"action": "handoff", "reason": "refund"})))
    assert frames(message, "conn-2")[-1]["type"] == "handoff"

    _expire(d, session_id)
    assert partition(d, session_id) == [], "the expired session was not cleaned up"
    closed = [c for c in d["SessionCleanupFunction"].recorder.calls if c.operation == "DeleteConnection"]
    assert [c.path for c in closed] == ["/@connections/conn-2"]
    # A replay that arrives after the session expired reads back why its transaction was refused,
    # and lets the write go (nothing is left to store it in): acknowledged, not sent to the DLQ.
    late = d["TurnWriterFunction"](queued)
    assert late["batchItemFailures"] == []
    assert partition(d, session_id) == [], "a late replay brought an expired session back"


def authorized_connect(
    d: Deployment, connection_id: str, customer_id: str, session_id: str | None = None, agent: bool = False
) -> dict[str, Any]:
    """The handshake as API Gateway runs it with the template's authorizer (AuthMode jwt, HS256 by
    secret ARN): the authorizer's Allow, then ``$connect`` with its word in requestContext.authorizer."""
    now = int(time.time())
    key = jwk.OctKey.import_key(HS256_SECRET.encode())
    claims: dict[str, Any] = {"sub": customer_id, "exp": now + 300}
    if agent:
        claims["cognito:groups"] = ["support-agents"]
    token = jwt.encode({"alg": "HS256"}, claims, key)
    request = connect_event(connection_id, None, session_id)
    request.update(type="REQUEST", methodArn=f"arn:aws:execute-api:us-east-1:1:{API_ID}/prod/$connect")
    request["headers"]["Authorization"] = f"Bearer {token}"
    decision = d["AuthorizerFunction"](request)
    assert decision["policyDocument"]["Statement"][0]["Effect"] == "Allow", decision
    context = {**decision["context"], "principalId": decision["principalId"]}
    return connect_event(connection_id, None, session_id, authorizer=context)


def _handoffs(d: Deployment) -> None:
    """The agent console's three actions on a session of their own, and a customer message between."""
    handoff, message = d["HandoffFunction"], d["MessageFunction"]
    _ok(d["ConnectFunction"](authorized_connect(d, "conn-3", "cust-2")))
    session_id = _session(message, "conn-3", resumed=False)
    _say(message, "conn-3", "Refund?", "m-3")
    agent = {"session_id": session_id, "agent_id": "agent-7"}
    _ok(handoff({**agent, "reason": "refund", "agent_connection_id": "agent-conn"}))
    _say(message, "conn-3", "Hello?", "m-4")
    assert frames(message, "agent-conn"), "the customer's message did not reach the agent"
    _ok(handoff({**agent, "action": "reply", "message": "Refund on its way.", "reply_id": "r-1"}))
    _ok(handoff({**agent, "action": "release"}))
    assert frames(handoff, "conn-3"), "the agent console pushed nothing to the customer"


def _agents(d: Deployment) -> None:
    """Agents on the WebSocket API: a console connects, lists the queue, claims, replies, transfers
    back to the queue, claims again and releases; the schedule's sweep; the console disconnects."""
    connect, message, handoff = d["ConnectFunction"], d["MessageFunction"], d["HandoffFunction"]
    console = authorized_connect(d, "console-9", "agent-9", agent=True)
    agent = console["requestContext"]["authorizer"]
    assert agent["role"] == "agent", "the template's authorizer did not make an agent of the group"
    _ok(connect(console))
    _ok(connect(authorized_connect(d, "conn-4", "cust-4")))
    session_id = _session(message, "conn-4", resumed=False)
    _ok(message(message_event("conn-4", {"action": "handoff", "reason": "refund"})))
    assert [f["type"] for f in frames(message, "console-9")] == ["queue_changed"]

    def act(action: str, **fields: Any) -> dict[str, Any]:
        body = {"action": action, "session_id": session_id, **fields}
        _ok(message(message_event("console-9", body, authorizer=agent)))
        return frames(message, "console-9")[-1]

    assert [h["session_id"] for h in act("agent.queue")["handoffs"]] == [session_id]
    assert act("agent.claim")["type"] in ("claimed", "queue_changed")
    _say(message, "conn-4", "Still there?", "m-5")
    assert frames(message, "console-9")[-1]["type"] == "customer_message"
    act("agent.reply", message="Yes!", reply_id="r-9")
    act("agent.transfer")
    act("agent.claim")
    assert handoff({"action": "sweep"})["statusCode"] == 200
    _ok(
        handoff(
            {
                "action": "reply",
                "session_id": session_id,
                "agent_id": "agent-9",
                "message": "Hi",
                "reply_id": "r-10",
            }
        )
    )
    act("agent.release")
    assert frames(message, "conn-4")[-1]["type"] == "handoff"
    _ok(d["DisconnectFunction"](disconnect_event("console-9", agent)))


def _expire(d: Deployment, session_id: str) -> None:
    """The TTL service deletes the META item; its stream record reaches the cleanup function."""
    key = {"PK": {"S": f"SESSION#{session_id}"}, "SK": {"S": "META"}}
    d.dynamodb.delete_item(TableName=TABLE, Key=key)
    criteria = mapping_of("SessionCleanupFunction").get("FilterCriteria")
    records = [r for r in d.stream.read() if r["eventName"] == "REMOVE" and sort_key(r) == "META"]
    delivered = [e for e in map(ttl_expiry, records) if passes(criteria, e)]
    assert len(delivered) == 1, "the expiry did not pass the cleanup function's filter"
    assert d["SessionCleanupFunction"](batch(delivered)) == OK


def frames(function: Function, connection_id: str) -> list[dict[str, Any]]:
    """What ``function`` posted to a connection, read off the recorded PostToConnection calls."""
    path = f"/@connections/{connection_id}"
    return [
        dict(c.body) for c in function.recorder.calls if c.operation == "PostToConnection" and c.path == path
    ]


def partition(d: Deployment, session_id: str) -> list[dict[str, Any]]:
    return partition_items(d.dynamodb, session_id, TABLE)


def sort_key_of(item: dict[str, Any]) -> str:
    return str(item["SK"]["S"])


def _session(message: Function, connection_id: str, resumed: bool) -> str:
    _ok(message(message_event(connection_id, {"action": "session"})))
    frame = frames(message, connection_id)[-1]
    assert frame["type"] == "session" and frame["resumed"] is resumed, frame
    return str(frame["session_id"])


def _say(message: Function, connection_id: str, text: str, message_id: str) -> None:
    body = {"action": "sendMessage", "message": text, "message_id": message_id}
    _ok(message(message_event(connection_id, body)))


def _ok(response: dict[str, Any]) -> None:
    assert response.get("statusCode") == 200, response
