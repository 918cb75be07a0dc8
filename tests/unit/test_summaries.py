"""Rolling summaries stay within the token budget, however far behind they fell."""

from __future__ import annotations

from datetime import timedelta

from adapters.memory import InMemorySessionRepository
from adapters.tokens import CalibratedTokenCounter
from application.summaries import RollSummary, RollSummaryCommand
from domain.model import Role, Session, SessionStatus, Turn
from testing.fakes import START, ManualClock
from testing.model import RecordingModel


def session_with_turns(repo: InMemorySessionRepository, count: int, chars: int) -> str:
    repo.add(Session.open("s-1", "cust-1", "c-1", START, timedelta(days=1)))
    for n in range(count):
        turn = Turn(
            f"{n:019d}-00000000",
            Role.USER if n % 2 == 0 else Role.ASSISTANT,
            "word " * (chars // 5),
            1,
            START,
        )
        repo.add_turn("s-1", turn, SessionStatus.ACTIVE, START + timedelta(days=1))
    return "s-1"


def test_a_summary_far_behind_still_fits_the_budget_and_covers_up_to_the_target() -> None:
    repo, llm, counter = InMemorySessionRepository(), RecordingModel(), CalibratedTokenCounter()
    session_id = session_with_turns(repo, 1000, 2000)
    roll = RollSummary(repo, llm, counter, ManualClock(), every_turns=10, max_prompt_tokens=4000)
    summary = roll(RollSummaryCommand(session_id, 1000))
    assert summary is not None and summary.turns_covered == 1000
    assert summary.last_turn_id == f"{999:019d}-00000000"
    prompt = llm.completions[-1]
    assert prompt.estimated_tokens <= 4000
    assert RecordingModel.input_tokens(prompt) <= 4000


def test_a_small_budget_still_holds_for_many_large_turns() -> None:
    repo, llm, counter = InMemorySessionRepository(), RecordingModel(), CalibratedTokenCounter()
    session_id = session_with_turns(repo, 40, 16000)
    roll = RollSummary(repo, llm, counter, ManualClock(), every_turns=20, max_prompt_tokens=600)
    assert roll(RollSummaryCommand(session_id, 40)) is not None
    assert llm.completions[-1].estimated_tokens <= 600


def test_an_agents_turns_are_summarized_like_any_other_and_named_as_the_agents() -> None:
    repo, llm, counter = InMemorySessionRepository(), RecordingModel(), CalibratedTokenCounter()
    repo.add(Session.open("s-1", "cust-1", "c-1", START, timedelta(days=1)))
    turns = [
        Turn(f"{1:019d}-00000000", Role.USER, "My parcel is damaged", 1, START),
        Turn(f"{2:019d}-00000000", Role.ASSISTANT, "A new one ships today", 1, START, agent_id="mika"),
    ]
    for turn in turns:
        repo.add_turn("s-1", turn, SessionStatus.ACTIVE, START + timedelta(days=1))
    session = repo.get("s-1")
    assert session is not None and session.turn_count == 2
    summary = RollSummary(repo, llm, counter, ManualClock(), every_turns=2, max_prompt_tokens=4000)(
        RollSummaryCommand("s-1", 2)
    )
    assert summary is not None and summary.turns_covered == 2
    transcript = llm.completions[-1].messages[0].text
    assert "Human agent mika: A new one ships today" in transcript
