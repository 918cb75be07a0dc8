"""``$connect`` with any query string and any authorizer context, ``$disconnect`` of any connection:
never a 5xx; the customer is the authorizer's when it names one, the query string's only without
one; a session is resumed only by its own customer, and a refused resume looks like no resume."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from entrypoints import connect
from testing.harness import connect_event
from tests.adversarial.frame_checks import Neighbour
from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import snapshot
from tests.adversarial.profile import examples
from tests.adversarial.strategies import MARKERS, OTHER, OWN, UNKNOWN, json_values, text
from tests.adversarial.systems import StrictChat, fresh_id

# docs/PROTOCOL.md §2 and the message of the refusal: 1 to 128 of these characters, nothing else.
VALID_ID = re.compile(r"[A-Za-z0-9._:@=+/\-]{1,128}")
OWNER = "cust-owner"

ids = st.one_of(
    st.sampled_from([OWNER, "cust-neighbour", "cust-other", "x" * 128, "x" * 129, OWNER + "\n", " " + OWNER]),
    text,
)
query_values = st.one_of(ids, st.sampled_from(MARKERS))
queries = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {}, optional={"customer_id": ids, "session_id": query_values, "other": text, "": text}
    ),
)
authorizers = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "customer_id": st.one_of(ids, json_values),
            "principalId": st.one_of(ids, json_values),
            "integrationLatency": st.integers(),
        },
    ),
)


def expected_customer(query: dict[str, str] | None, authorizer: dict[str, Any] | None) -> str | None:
    for key in ("customer_id", "principalId"):
        value = (authorizer or {}).get(key)
        if isinstance(value, str) and value:
            return value
    return (query or {}).get("customer_id") or None


def acceptable(customer: str, authorizer: dict[str, Any] | None) -> bool:
    """The authorizer vouches for its subject ("auth0|5f7c…"): anything printable a store can hold.
    The query string is untrusted: the strict id pattern."""
    if any(
        isinstance((authorizer or {}).get(k), str) and (authorizer or {}).get(k)
        for k in ("customer_id", "principalId")
    ):
        try:
            customer.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return customer.isprintable() and len(customer) <= 256
    return bool(VALID_ID.fullmatch(customer))


connects = {"query": queries, "authorizer": authorizers, "owner_resumes": st.booleans()}
disconnects = {
    "target": st.sampled_from(["own", "stranger", "unknown", "twice"]),
    "junk": st.one_of(text, st.just("")),
}


@examples(150)
@given(**connects)
def test_any_connect_on_the_memory_store(memory: tuple[StrictChat, Neighbour], **case: Any) -> None:
    check_connect(*memory, "$connect events (memory store)", **case)


@examples(25)
@given(**connects)
def test_any_connect_on_dynamodb(dynamodb: tuple[StrictChat, Neighbour], **case: Any) -> None:
    check_connect(*dynamodb, "$connect events (DynamoDB on moto)", **case)


@examples(60)
@given(**disconnects)
def test_any_disconnect_on_the_memory_store(memory: tuple[StrictChat, Neighbour], **case: Any) -> None:
    check_disconnect(*memory, "$disconnect events (memory store)", **case)


@examples(10)
@given(**disconnects)
def test_any_disconnect_on_dynamodb(dynamodb: tuple[StrictChat, Neighbour], **case: Any) -> None:
    check_disconnect(*dynamodb, "$disconnect events (DynamoDB on moto)", **case)


def check_connect(
    chat: StrictChat,
    neighbour: Neighbour,
    target: str,
    query: dict[str, str] | None,
    authorizer: dict[str, Any] | None,
    owner_resumes: bool,
) -> None:
    repo = chat.repository
    previous = fresh_id("prev")  # the owner's earlier connection and session, to be resumed or not
    assert chat.connect(previous, OWNER) == 200
    owned = repo.session_id_of_connection(previous)
    if owner_resumes:
        assert chat.disconnect(previous) == 200
    ids = {OWN: owned, OTHER: neighbour.session_id, UNKNOWN: "9d3c9a4e-0000-4000-8000-000000000000"}
    if query is not None:
        query = {k: ids.get(v, v) for k, v in query.items()}
    neighbour_before, owned_before = snapshot(repo, neighbour.session_id), snapshot(repo, owned)
    connection_id = fresh_id("conn")
    event_ = connect_event(connection_id)
    event_["queryStringParameters"] = query
    if authorizer is not None:
        event_["requestContext"]["authorizer"] = authorizer

    status = connect.handler(event_, None)["statusCode"]

    LEDGER.input(target)

    LEDGER.example(target)
    event(f"status {status}")
    customer = expected_customer(query, authorizer)
    assert status in (200, 400)
    assert snapshot(repo, neighbour.session_id) == neighbour_before
    attached = repo.session_id_of_connection(connection_id)
    if status == 400:
        assert customer is not None and not acceptable(customer, authorizer)
        assert attached is None and snapshot(repo, owned) == owned_before
        return
    assert customer is None or acceptable(customer, authorizer), customer
    session = repo.get(attached)
    assert session.customer_id == customer and session.connection_id == connection_id
    # Without an authorizer the query string is the customer's only word (docs/PROTOCOL.md §2); with one, a
    # forged customer_id in the query string never reaches anyone's session.
    owners = {owned: OWNER, neighbour.session_id: "cust-neighbour"}
    requested = (query or {}).get("session_id")
    resumable = requested in owners and customer == owners[requested]
    assert session.resumed == resumable and (attached == requested) == resumable
    if authorizer and customer != (query or {}).get("customer_id"):
        assert session.customer_id != (query or {}).get("customer_id")


def check_disconnect(
    chat: StrictChat, neighbour: Neighbour, ledger_target: str, target: str, junk: str
) -> None:
    """Never deletes, and detaches only the session of that very connection."""
    repo = chat.repository
    mine = fresh_id("mine")
    assert chat.connect(mine, "cust-disc") == 200 and chat.say(mine, "hello there", "m-1") == 200
    session_id = repo.session_id_of_connection(mine)
    before, neighbour_before = snapshot(repo, session_id), snapshot(repo, neighbour.session_id)
    connection_id = {"own": mine, "twice": mine, "stranger": fresh_id("stranger")}.get(target, junk or "x")

    statuses = [chat.disconnect(connection_id) for _ in range(2 if target == "twice" else 1)]

    LEDGER.input(ledger_target)

    LEDGER.example(ledger_target)
    assert set(statuses) == {200}
    after = snapshot(repo, session_id)
    assert after.turns == before.turns and after.turn_count == before.turn_count
    assert after.status == ("disconnected" if connection_id == mine else "active")
    assert snapshot(repo, neighbour.session_id) == neighbour_before
    if connection_id == mine:  # and it can be resumed, whole
        again = fresh_id("back")
        assert chat.connect(again, "cust-disc", session_id=session_id) == 200
        assert repo.session_id_of_connection(again) == session_id
