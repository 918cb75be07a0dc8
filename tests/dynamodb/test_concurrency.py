"""Two senders, one session, a moto server over HTTP: every turn stored exactly once, each sender's
order kept, and the turn count exact, while the two race on the same META item (and for the
session's turn: one reply at a time, the other sender's message refused until it is its turn)."""

from __future__ import annotations

import threading
import zlib
from typing import Any

import pytest

from testing.aws import partition_items
from testing.harness import Chat
from tests.dynamodb.conftest import DYNAMODB_ENV, close

pytestmark = pytest.mark.moto_server

PER_SENDER = 25


def test_two_senders_into_one_session_lose_and_duplicate_nothing(table: Any) -> None:
    chat = Chat(env=dict(DYNAMODB_ENV))  # the system clock: the senders' times really interleave
    try:
        assert chat.connect("conn-1", "cust-1") == 200
        session_id = chat.session_of("conn-1")["session_id"]
        statuses: dict[str, list[int]] = {"a": [], "b": []}
        conflicts = {"a": 0, "b": 0}
        start = threading.Barrier(2)

        def sender(name: str) -> None:
            start.wait()
            for n in range(PER_SENDER):
                # One reply at a time per session: a message sent while the other sender's reply is
                # being written is refused (409, nothing written) and sent again, as a client does.
                while (status := chat.say("conn-1", f"{name} question {n}", f"{name}-{n}")) == 409:
                    conflicts[name] += 1
                statuses[name].append(status)

        threads = [threading.Thread(target=sender, args=(name,)) for name in statuses]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert statuses == {"a": [200] * PER_SENDER, "b": [200] * PER_SENDER}
        answered = sorted(f["reply_to"] for f in chat.frames("conn-1", "message"))
        assert answered == sorted(f"{name}-{n}" for name in statuses for n in range(PER_SENDER))
    finally:
        close(chat)

    items = _partition(table, session_id)
    turns = [item for item in items if item["SK"]["S"].startswith("TURN#")]  # in key order
    assert len(turns) == 4 * PER_SENDER
    pairs = [(t["role"]["S"], t["message_id"]["S"]) for t in turns]
    assert len(set(pairs)) == len(pairs)  # one user and one assistant turn per message id
    for name in statuses:
        asked = [
            zlib.decompress(t["content_compressed"]["B"]).decode()
            for t in turns
            if t["role"]["S"] == "user" and t["message_id"]["S"].startswith(f"{name}-")
        ]
        assert asked == [f"{name} question {n}" for n in range(PER_SENDER)]
    asked_at = {t["message_id"]["S"]: t["SK"]["S"] for t in turns if t["role"]["S"] == "user"}
    for reply in (t for t in turns if t["role"]["S"] == "assistant"):
        assert reply["SK"]["S"] == asked_at[reply["message_id"]["S"]] + "~a"  # right after its question
    [meta] = [item for item in items if item["SK"]["S"] == "META"]
    assert meta["turn_count"] == {"N": str(4 * PER_SENDER)}
    messages = [item for item in items if item["SK"]["S"].startswith("MSG#")]
    assert len(messages) == 2 * PER_SENDER and all("reply_turn_id" in m for m in messages)


def _partition(table: Any, session_id: str) -> list[dict[str, Any]]:
    return partition_items(table, session_id)
