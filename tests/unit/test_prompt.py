from datetime import timedelta

import pytest

from adapters.tokens import CalibratedTokenCounter
from application.ports import ConversationContext
from application.prompt import PromptBuilder
from domain.model import Role, Summary, Turn
from testing.fakes import START

SYSTEM = "You are MangaAssist."


def turn(n: int, role: Role, text: str) -> Turn:
    return Turn(f"{n:019d}-00000000", role, text, 1, START + timedelta(seconds=n), message_id=f"m{n}")


def builder(tokens: int = 4000, turns: int = 20) -> PromptBuilder:
    return PromptBuilder(CalibratedTokenCounter(), SYSTEM, tokens, turns)


def test_the_prompt_starts_with_the_user_alternates_and_ends_with_the_question() -> None:
    history = [
        turn(1, Role.ASSISTANT, "welcome"),
        turn(2, Role.USER, "a"),
        turn(3, Role.USER, "b"),
        turn(4, Role.ASSISTANT, "answer"),
        turn(5, Role.SYSTEM, "An agent joined."),
    ]
    prompt = builder().build(ConversationContext(None, history), turn(6, Role.USER, "question"))
    assert [m.role for m in prompt.messages] == [Role.USER, Role.ASSISTANT, Role.USER]
    assert prompt.messages[0].text == "a\n\nb"
    assert prompt.messages[-1].text == "question"
    assert prompt.system == [SYSTEM, "An agent joined."]


def test_the_summary_goes_into_the_system_prompt() -> None:
    summary = Summary("s", "They want Frieren vol. 3.", "0000000000000000002-00000000", 2, START)
    prompt = builder().build(ConversationContext(summary, []), turn(3, Role.USER, "and vol. 4?"))
    assert "They want Frieren vol. 3." in prompt.system[1]


def test_the_window_keeps_the_most_recent_turns_within_both_limits() -> None:
    history = [turn(n, Role.USER if n % 2 else Role.ASSISTANT, f"text {n} " * 50) for n in range(1, 60)]
    current = turn(60, Role.USER, "latest")
    prompt = builder(tokens=1200, turns=8).build(ConversationContext(None, history), current)
    assert prompt.estimated_tokens <= 1200
    assert len(prompt.messages) <= 8
    # the newest turns are the ones kept; an unanswered question merges into the current one
    assert prompt.messages[-1].text.startswith("text 59") and prompt.messages[-1].text.endswith("latest")
    assert "text 58" in prompt.messages[-2].text
    assert all("text 40 " not in m.text for m in prompt.messages)


def test_a_question_alone_over_the_budget_is_cut_in_the_middle_not_dropped() -> None:
    question = "BEGIN " + "filler " * 5000 + " END"
    prompt = builder(tokens=1000).build(ConversationContext(None, []), turn(1, Role.USER, question))
    text = prompt.messages[-1].text
    assert text.startswith("BEGIN") and text.endswith("END") and "[…]" in text
    assert prompt.estimated_tokens <= 1000


def test_turns_after_the_question_are_left_out_on_a_retry() -> None:
    history = [turn(1, Role.USER, "old"), turn(3, Role.USER, "newer question of someone else")]
    prompt = builder().build(ConversationContext(None, history), turn(2, Role.USER, "mine"))
    assert all("newer" not in m.text for m in prompt.messages)


def test_a_budget_that_cannot_hold_the_system_prompt_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="no room beside the system prompt"):
        PromptBuilder(CalibratedTokenCounter(), "x" * 3000, 200, 20)


def agent_turn(n: int, text: str) -> Turn:
    return Turn(f"{n:019d}-00000000", Role.ASSISTANT, text, 1, START + timedelta(seconds=n), agent_id="mika")


def test_after_a_handoff_the_agents_words_reach_the_model_as_theirs() -> None:
    history = [
        turn(1, Role.SYSTEM, "The conversation was handed to a human agent."),
        agent_turn(2, "Your refund of 12 euros is approved."),  # before any customer turn: no dialogue
        turn(3, Role.USER, "Great, when?"),
        agent_turn(4, "Within five days."),
        turn(5, Role.SYSTEM, "mika handed the conversation back to MangaAssist."),
    ]
    prompt = builder().build(ConversationContext(None, history), turn(6, Role.USER, "Thanks!"))
    assert [m.role for m in prompt.messages] == [Role.USER, Role.ASSISTANT, Role.USER]
    assert "mika" in prompt.messages[1].text and "Within five days." in prompt.messages[1].text
    assert any("Your refund of 12 euros is approved." in part and "mika" in part for part in prompt.system)
