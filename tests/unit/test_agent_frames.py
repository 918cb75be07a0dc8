"""The agents' frames stay within API Gateway's 32 KB however long the conversation or the queue."""

from __future__ import annotations

from datetime import timedelta

from application.frame_size import MAX_FRAME_BYTES, frame_bytes
from application.frames import claimed_frame, queue_frame
from application.ports import QueueEntry
from domain.model import Role, Session, Turn
from testing.fakes import START

IDLE = timedelta(hours=24)


def test_a_claim_shows_the_newest_turns_that_fit_oldest_first() -> None:
    session = Session.open("s-1", "cust-1", "c-1", START, IDLE).hand_off(START, IDLE, reason="refund")
    turns = [Turn(f"{n:019d}-0", Role.USER, f"{n}:" + "é" * 5000, 1, START) for n in range(20)]
    frame = claimed_frame(session, None, turns)
    assert frame_bytes(frame) <= MAX_FRAME_BYTES and frame["truncated"] is True
    shown = [int(t["content"].split(":")[0]) for t in frame["turns"]]
    assert shown == list(range(20 - len(shown), 20)) and len(shown) >= 2
    whole = claimed_frame(session, None, turns[:2])
    assert "truncated" not in whole and len(whole["turns"]) == 2


def test_the_queue_lists_the_oldest_that_fit() -> None:
    entries = [
        QueueEntry(f"s-{n:04d}", f"cust-{n}", "ü" * 500, START + timedelta(seconds=n), None, START + IDLE)
        for n in range(300)
    ]
    frame = queue_frame(entries, START + timedelta(hours=1))
    assert frame_bytes(frame) <= MAX_FRAME_BYTES and frame["truncated"] is True
    listed = [h["session_id"] for h in frame["handoffs"]]
    assert listed == [f"s-{n:04d}" for n in range(len(listed))] and len(listed) > 10
    assert "truncated" not in queue_frame(entries[:3], START)
