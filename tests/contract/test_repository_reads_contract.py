"""The store contract, continued: what reads return, over both stores."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.model import Summary, Turn
from tests.contract.conversation import NOW, exchange, open_session, record, user_turn

# --- reads -----------------------------------------------------------------------------------------


def test_history_is_the_last_turns_oldest_first(repo: Any) -> None:
    open_session(repo)
    turns: list[Turn] = []
    for n in range(4):
        turns.extend(exchange(repo, f"question {n}", f"m-{n}", NOW + timedelta(seconds=n)))
    assert list(repo.history("s-1", 3)) == turns[-3:]
    assert list(repo.history("s-1", 100)) == turns
    assert list(repo.history("nobody", 5)) == []


def test_the_context_starts_after_the_latest_summary(repo: Any) -> None:
    open_session(repo)
    turns: list[Turn] = []
    for n in range(5):
        turns.extend(exchange(repo, f"question {n}", f"m-{n}", NOW + timedelta(seconds=n)))
    repo.add_summary(Summary("s-1", "older summary", turns[1].turn_id, 2, NOW))
    latest = Summary("s-1", "they asked about volumes", turns[5].turn_id, 6, NOW + timedelta(seconds=9))
    repo.add_summary(latest)
    first = user_turn("one more", "m-7", NOW + timedelta(seconds=30))
    recorded = record(repo, first, context_turns=20)
    assert recorded.context.summary == latest
    assert list(recorded.context.turns) == turns[6:]
    second = user_turn("and another", "m-8", NOW + timedelta(seconds=31))
    assert list(record(repo, second, context_turns=3).context.turns) == [*turns[-2:], first]
    third = user_turn("a third", "m-9", NOW + timedelta(seconds=32))
    assert list(record(repo, third, context_turns=0).context.turns) == []


def test_text_survives_the_round_trip(repo: Any) -> None:
    open_session(repo)
    text = "「鬼滅の刃」23巻はありますか 🙏\n" + "x" * 20_000
    _, answer = exchange(repo, text, "m-1")
    assert [t.content for t in repo.history("s-1", 2)] == [text, f"re: {text}"]
    assert repo.message_record("s-1", "m-1").reply == answer
