"""One customer's session under fuzzed frames: each frame is sent through the real ``$default``
handler, and what it did (status, frames pushed, turns stored, model calls) is held to the protocol."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define, field
from hypothesis import event

from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import (
    CLIENT_STATUSES,
    Snapshot,
    check_refusal,
    per_message,
    snapshot,
)
from tests.adversarial.strategies import OTHER, OWN, UNKNOWN, RawFrame, materialize
from tests.adversarial.systems import StrictChat, fresh_id


@define
class Neighbour:
    """Another customer's session, with a secret in it that must never leak."""

    connection_id: str
    session_id: str
    secret: str

    @classmethod
    def open(cls, chat: StrictChat) -> Neighbour:
        connection_id = fresh_id("neighbour")
        assert chat.connect(connection_id, "cust-neighbour") == 200
        secret = f"my card number is SECRET-{connection_id}"
        assert chat.say(connection_id, secret, "n-1") == 200
        return cls(connection_id, chat.repository.session_id_of_connection(connection_id), secret)


@define
class FuzzedSession:
    chat: StrictChat
    neighbour: Neighbour
    target: str
    customer_id: str | None = "cust-fuzz"
    connection_id: str = field(factory=lambda: fresh_id("fuzz"))
    session_id: str = ""

    def open(self) -> FuzzedSession:
        LEDGER.example(self.target)
        assert self.chat.connect(self.connection_id, self.customer_id) == 200
        self.session_id = self.chat.repository.session_id_of_connection(self.connection_id)
        return self

    def send(self, raw: RawFrame) -> int:
        chat, repo = self.chat, self.chat.repository
        ids = {
            OWN: self.session_id,
            OTHER: self.neighbour.session_id,
            UNKNOWN: "7a1c0e4e-0000-4000-8000-000000000000",
        }
        frame = materialize(raw, ids)
        request_id = fresh_id("apigw")
        before, neighbour_before = snapshot(repo, self.session_id), snapshot(repo, self.neighbour.session_id)
        calls, pushed = chat.llm.calls, len(chat.frames(self.connection_id))

        status = chat.send_raw(self.connection_id, frame, request_id)

        LEDGER.input(self.target)
        event(f"status {status}")
        after, new = snapshot(repo, self.session_id), chat.frames(self.connection_id)[pushed:]
        self._count_losses(after)
        assert status in CLIENT_STATUSES, (status, new, frame)
        assert not chat.notifier.unsendable, chat.notifier.unsendable
        assert snapshot(repo, self.neighbour.session_id) == neighbour_before
        leaked = json.dumps(new, ensure_ascii=False, default=str)
        assert self.neighbour.secret not in leaked and self.neighbour.session_id not in leaked
        if status != 200:
            check_refusal(status, new)
            assert after == before, "a refused frame wrote something"
            assert chat.llm.calls == calls, "a refused frame called the model"
        else:
            self._accepted(_parsed(frame), request_id, before, after, new, chat.llm.calls - calls)
        return status

    def _count_losses(self, after: Snapshot) -> None:
        counts = per_message(after.turns)
        duplicated = sum(max(0, c["user"] - 1) + max(0, c["assistant"] - 1) for c in counts.values())
        LEDGER.lost_and_duplicated(0, duplicated, self.target)
        assert after.turn_count == len(after.turns), "turn_count is not the number of turns"

    def _accepted(
        self,
        data: Mapping[str, Any],
        request_id: str,
        before: Snapshot,
        after: Snapshot,
        new: Sequence[Mapping[str, Any]],
        model_calls: int,
    ) -> None:
        action = data.get("action") or "sendMessage"
        kinds = [f["type"] for f in new]
        if action == "session":
            assert kinds == ["session"] and new[0]["session_id"] == self.session_id
            assert after == before and model_calls == 0
        elif action == "history":
            assert kinds == ["history"] and after == before and model_calls == 0
            contents = [t["content"] for t in new[0]["turns"]]
            assert contents == [t.content for t in before.turns][len(before.turns) - len(contents) :]
        elif action == "handoff":
            assert kinds == ["handoff"] and model_calls == 0
            assert after.status == "handoff"
            added = 1 if before.status == "active" else 0
            assert len(after.turns) == len(before.turns) + added
        else:
            self._answered(data.get("message_id") or request_id, before, after, new, model_calls)

    def _answered(
        self,
        message_id: str,
        before: Snapshot,
        after: Snapshot,
        new: Sequence[Mapping[str, Any]],
        model_calls: int,
    ) -> None:
        known = per_message(before.turns).get(message_id)
        stored = per_message(after.turns)[message_id]
        answered = known is not None and known["assistant"] > 0  # by the bot, before any handoff
        if before.status == "handoff" and not answered:  # the agent's: stored once, no model, forwarded
            assert model_calls == 0 and stored["user"] == 1 and stored["assistant"] == 0
            assert new == [{"type": "forwarded", "reply_to": message_id}]
            return
        assert stored["user"] == 1 and stored["assistant"] == 1, stored
        replies = [f for f in new if f["type"] == "message"]
        assert replies and all(f["reply_to"] == message_id for f in replies)
        assert [f["type"] for f in new] == ["chunk"] * (len(new) - len(replies)) + ["message"] * len(replies)
        reply = next(t for t in after.turns if t.role == "assistant" and t.message_id == message_id)
        assert "".join(f["content"] for f in replies) == reply.content
        chunks = [f for f in new if f["type"] == "chunk"]
        assert [f["index"] for f in chunks] == list(range(len(chunks)))
        assert not chunks or "".join(f["delta"] for f in chunks) == reply.content
        if answered:  # its stored reply again, whatever the session's state since
            assert after == before and model_calls == 0, "a repeated message id was answered again"
        else:
            assert model_calls == 1 and len(after.turns) == len(before.turns) + 1 + (known is None)


def _parsed(frame: RawFrame) -> Mapping[str, Any]:
    data = json.loads(frame.body)
    assert isinstance(data, dict), "a frame that is no JSON object was accepted"
    return data
