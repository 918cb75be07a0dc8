"""The operator's timeline of a session, built from the store."""

from __future__ import annotations

from dependency_injector import providers

from application.timeline import SessionTimeline
from entrypoints.commands.inspect import render
from testing.fakes import FlakyRepository, ManualClock
from testing.harness import Chat


def test_the_timeline_shows_turns_summaries_handoffs_and_the_missing_reply(
    chat: Chat, clock: ManualClock
) -> None:
    chat.connect("c1", "cust-1")
    for n in range(5):
        chat.say("c1", f"question {n} about my order", f"m-{n}")
    flaky = FlakyRepository(chat.repository)
    chat.container.adapters.repository.override(providers.Object(flaky))
    chat.container.adapters.retry_queue.override(providers.Object(None))  # memory mode has one otherwise
    flaky.fail("complete_exchange")
    assert chat.say("c1", "is anyone there?", "m-lost") == 503  # no retry queue: refused loudly
    chat.container.adapters.repository.reset_override()
    chat.send("c1", {"action": "handoff", "reason": "no answer"})
    session_id = chat.repository.session_id_of_connection("c1")

    timeline = SessionTimeline(chat.repository, chat.repository, clock)(session_id).as_dict()
    kinds = [e["kind"] for e in timeline["timeline"]]
    assert kinds[0] == "opened"
    assert kinds.count("turn") == 12  # 5 questions, 5 replies, the lost question, the handoff notice
    assert kinds.count("summary") == 1 and kinds.count("handoff") == 1
    assert timeline["unanswered_message_ids"] == ["m-lost"]
    assert timeline["session"]["status"] == "handoff" and timeline["session"]["turn_count"] == 12
    text = render(timeline)
    assert "!! no reply stored for: m-lost" in text
    # Customers' words appear only when asked for; the system's own notices always do.
    assert "question 0" not in str(timeline) and "human agent" in str(timeline)
    with_words = SessionTimeline(chat.repository, chat.repository, clock)(
        session_id, with_content=True
    ).as_dict()
    assert "question 0 about my order" in str(with_words)
