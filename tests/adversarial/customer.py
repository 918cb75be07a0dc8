"""A patient customer (retries the same message id until it is answered, waits out a lease on 409,
reconnects and resumes on 403) and the audit that follows every fault: no turn lost, none duplicated,
replies right after their questions, and the model asked once per message unless a call failed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from attrs import define, field

from adapters.retry_message import encode_pending_write
from application.ports import PendingWrite
from entrypoints import turn_writer
from testing.fakes import ListRetryQueue, ManualClock
from testing.harness import load_event
from tests.adversarial.faults import ProcessDied
from tests.adversarial.ledger import LEDGER
from tests.adversarial.oracle import Tally, snapshot, tally
from tests.adversarial.systems import StrictChat, fresh_id

LEASE_SECONDS = 46  # just past the answer lease (45 s) another invocation may hold on a message
DIED = 0  # the status a client sees from an invocation that died: none at all


@define
class Customer:
    chat: StrictChat
    clock: ManualClock
    customer_id: str = "cust-faults"
    connection_id: str = field(factory=lambda: fresh_id("faults"))
    session_id: str = ""
    asked: dict[str, str] = field(factory=dict)  # message id -> question
    statuses: dict[str, list[int]] = field(factory=dict)

    def connect(self) -> Customer:
        assert self.chat.connect(self.connection_id, self.customer_id, self.session_id or None) == 200
        self.session_id = self.chat.repository.session_id_of_connection(self.connection_id)
        return self

    def reconnect(self) -> None:
        self.connection_id = fresh_id("faults")
        self.connect()

    def ask(self, message_id: str, question: str | None = None, attempts: int = 8) -> list[int]:
        question = question or f"Question {message_id}: is Frieren vol. 3 in stock?"
        self.asked[message_id] = question
        statuses = self.statuses.setdefault(message_id, [])
        for _ in range(attempts):
            try:
                status = self.chat.say(self.connection_id, question, message_id)
            except ProcessDied:
                status = DIED
            statuses.append(status)
            if status == 200:
                break
            if status == 403:  # the socket went away meanwhile: a new connection resumes the session
                self.reconnect()
            elif status == 409:
                self.clock.advance(LEASE_SECONDS)
        return statuses

    def read(self, action: str, attempts: int = 6) -> dict[str, Any]:
        """A ``session`` or ``history`` frame, asked again while the store is unavailable."""
        for _ in range(attempts):
            if self.chat.send(self.connection_id, {"action": action}) == 200:
                frame: dict[str, Any] = self.chat.last(self.connection_id)
                assert frame["type"] == action, frame
                return frame
        raise AssertionError(f"{action} never answered: {self.chat.statuses[-attempts:]}")

    def model_calls(self, message_id: str) -> int:
        question = self.asked[message_id]
        # Questions sent before the previous one was answered are merged into one prompt message.
        return sum(1 for p in self.chat.llm.prompts if p.messages and p.messages[-1].text.endswith(question))


def replay(queue: ListRetryQueue, times: int = 2) -> None:
    """Deliver every queued write to the turn writer, ``times`` times over (SQS delivers at least once)."""
    template = load_event("sqs_retry_batch.json")["Records"][0]
    writes: list[Any] = list(queue.items)
    for round_ in range(times):
        records = [
            {**template, "messageId": f"retry-{round_}-{n}", "body": encode_pending_write(w)}
            for n, w in enumerate(writes)
        ]
        if records:
            answer = turn_writer.handler({"Records": records}, None)
            assert answer["batchItemFailures"] == [], answer
    queue.items.clear()


def audit(
    customer: Customer,
    family: str,
    scenario: str,
    queue: ListRetryQueue | None = None,
    **details: Any,
) -> Tally:
    """Count, before and after the turn writer has replayed the queue, then assert none lost or doubled."""
    repo = customer.chat.repository
    expected = list(customer.asked)
    pending: Sequence[PendingWrite] = [w for w in queue.items if isinstance(w, PendingWrite)] if queue else ()
    before_replay = tally(snapshot(repo, customer.session_id).turns, expected, pending)
    if queue is not None:
        replay(queue)
    after = snapshot(repo, customer.session_id)
    final = tally(after.turns, expected)
    lost = max(before_replay.lost, final.lost)
    duplicated = max(before_replay.duplicated, final.duplicated)
    calls = {m: customer.model_calls(m) for m in expected}
    LEDGER.fault(
        family,
        scenario,
        lost,
        duplicated,
        statuses=customer.statuses,
        model_calls=calls,
        queued=len(pending),
        **details,
    )
    assert (lost, duplicated) == (0, 0), (before_replay.details, final.details)
    assert after.turn_count == len(after.turns), "turn_count is not the number of turns"
    assert all(s == 200 for s in [v[-1] for v in customer.statuses.values()]), customer.statuses
    replies_follow_questions(after.turns)
    for message_id, count in calls.items():  # once per message id, unless an attempt failed
        failures = sum(1 for status in customer.statuses[message_id] if status != 200)
        assert 1 <= count <= 1 + failures, (message_id, count, customer.statuses[message_id])
    return final


def replies_follow_questions(turns: Sequence[Any]) -> None:
    roles = Counter(t.role for t in turns)
    pairs = [(a.role, b.role, a.message_id == b.message_id) for a, b in pairwise(turns)]
    for index, turn in enumerate(turns):
        if turn.role == "user" and index + 1 < len(turns):
            assert pairs[index] == ("user", "assistant", True), json.dumps([t.role for t in turns])
    assert roles["user"] == roles["assistant"], roles
