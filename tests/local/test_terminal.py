"""``manga-assist chat`` against ``serve``: replies stream into the terminal, commands work."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator

from entrypoints.local.terminal import LocalAnswer, Printer, converse, frame_for
from tests.local.server_thread import ServerThread


async def typed(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line + "\n"


def test_a_terminal_conversation(server: ServerThread) -> None:
    out = io.StringIO()
    code = asyncio.run(
        converse(
            server.ws_url, "cust-term", None, typed("Is volume 3 in stock?", "", "/history", "/quit"), out
        )
    )
    text = out.getvalue()
    assert code == 0
    assert re.search(r"\* session \S+ \(new, active\)", text)
    assert re.search(r"MangaAssist> .*in stock.*\n", text)
    assert "user: Is volume 3 in stock?" in text and "assistant: " in text


def test_resuming_and_asking_for_a_human(server: ServerThread) -> None:
    first = io.StringIO()
    asyncio.run(converse(server.ws_url, "cust-term", None, typed("hello"), first))
    session_id = re.search(r"\* session (\S+) ", first.getvalue()).group(1)  # type: ignore[union-attr]

    out = io.StringIO()
    asyncio.run(
        converse(server.ws_url, "cust-term", session_id, typed("/human I want a person", "thanks"), out)
    )
    text = out.getvalue()
    assert f"* session {session_id} (resumed, " in text
    assert "human agent" in text
    assert "! " not in text  # no error frames


def test_a_refused_connection_is_reported(server: ServerThread) -> None:
    out = io.StringIO()
    assert asyncio.run(converse(server.ws_url, "not valid!", None, typed(), out)) == 1
    assert "refused the connection (400)" in out.getvalue()


def test_streamed_and_split_replies_print_once() -> None:
    out = io.StringIO()
    printer = Printer(out, "c")
    for delta in ("Hel", "lo"):
        printer.frame({"type": "chunk", "response_id": "r1", "index": 0, "delta": delta})
    printer.frame({"type": "message", "response_id": "r1", "reply_to": "m", "content": "Hello"})
    printer.frame({"type": "message", "response_id": "r2", "content": "Lo", "part": 0, "parts": 2})
    printer.frame({"type": "message", "response_id": "r2", "content": "ng", "part": 1, "parts": 2})
    printer.frame({"type": "message", "response_id": "r3", "content": "Hi, I'm Sam", "agent_id": "a-1"})
    printer.frame({"type": "error", "code": "too_large", "message": "message is too long"})
    assert out.getvalue().splitlines() == [
        "MangaAssist> Hello",
        "MangaAssist> Long",
        "Agent a-1> Hi, I'm Sam",
        "! too_large: message is too long",
    ]


def test_lines_become_frames() -> None:
    assert frame_for("  ") is None
    assert frame_for("/history") == {"action": "history"}
    assert frame_for("/human now please") == {"action": "handoff", "reason": "now please"}
    message = frame_for("hi")
    assert isinstance(message, dict) and message["action"] == "sendMessage" and message["message"] == "hi"
    again = frame_for("hi")
    assert isinstance(again, dict) and message["message_id"] != again["message_id"]


def test_commands_are_answered_here_and_never_sent_to_the_bot() -> None:
    help_text = frame_for("/help")
    assert isinstance(help_text, LocalAnswer) and "/history" in help_text and "/human" in help_text
    refused = frame_for("/refund now")
    assert isinstance(refused, LocalAnswer) and "unknown command /refund" in refused
    escaped = frame_for("//slash at the start")
    assert isinstance(escaped, dict) and escaped["message"] == "/slash at the start"


def test_a_message_during_a_handoff_is_acknowledged_and_a_stopped_server_named(server: ServerThread) -> None:
    out = io.StringIO()

    async def lines() -> AsyncIterator[str]:
        for line in ("/human", "is anyone there?"):
            yield line

    assert asyncio.run(converse(server.ws_url, "cust-h", None, lines(), out)) == 0
    assert "* sent to the agent" in out.getvalue()
    url = server.ws_url.replace(str(server.port), "9")  # nothing listens on the discard port
    stopped = io.StringIO()
    assert asyncio.run(converse(url, "cust-h", None, lines(), stopped)) == 1
    assert stopped.getvalue() == f"! no server at {url}: is `manga-assist serve` running?\n"


def test_a_history_in_parts_prints_once_and_whole() -> None:
    out = io.StringIO()
    printer = Printer(out, "c")
    at = "2026-12-01T08:00:00.000Z"
    printer.frame({"type": "history", "part": 1, "parts": 2, "turns": [
        {"role": "user", "content": "ow long?", "created_at": at},
        {"role": "assistant", "content": "Two days.", "created_at": at}]})  # fmt: skip
    assert out.getvalue() == "" and not printer.answered.is_set()
    printer.frame({"type": "history", "part": 0, "parts": 2, "turns": [
        {"role": "user", "content": "H", "created_at": at, "continued": True}]})  # fmt: skip
    assert out.getvalue().splitlines() == [
        "* history:",
        f"  [{at}] user: How long?",
        f"  [{at}] assistant: Two days.",
    ]
    assert printer.answered.is_set()


def test_a_message_too_long_for_a_frame_is_not_sent(server: ServerThread) -> None:
    out = io.StringIO()
    too_long = "漫" * 16_000  # 48,000 bytes: API Gateway would close the connection
    code = asyncio.run(converse(server.ws_url, "cust-big", None, typed(too_long, "/history", "/quit"), out))
    assert code == 0
    assert "! too long to send" in out.getvalue() and "* history: (empty)" in out.getvalue()


def test_a_refusal_for_going_too_fast_is_said_plainly_and_sent_again_after_its_wait() -> None:
    from entrypoints.local.terminal import BUSY_PAUSE, resend_after

    out = io.StringIO()
    printer = Printer(out, "c")
    too_fast = {
        "type": "error",
        "code": "rate_limited",
        "limit": "message_rate",
        "retry_after": 42,
        "message": "m",
    }
    today = {"type": "error", "code": "rate_limited", "limit": "customer_daily_tokens", "retry_after": 18_720}
    printer.frame(too_fast)
    printer.frame(today)
    assert out.getvalue().splitlines() == [
        "! You're sending messages too fast: sending it again in 42 s.",
        "! Today's limit is reached; it resets at 00:00 UTC, in 5 h 12 min. Please come back then.",
    ]
    assert resend_after(too_fast) == 42 and resend_after(today) is None
    assert resend_after({"type": "error", "code": "conflict", "message": "still being written"}) == BUSY_PAUSE
    assert resend_after({"type": "error", "code": "bad_request"}) is None and resend_after(None) is None


def test_each_line_is_sent_once_and_answered_once(server: ServerThread) -> None:
    out = io.StringIO()
    asyncio.run(converse(server.ws_url, "cust-once", None, typed("Is volume 3 in stock?", "/quit"), out))
    assert out.getvalue().count("MangaAssist> ") == 1, out.getvalue()


def test_each_change_of_a_handoff_is_told_as_what_it_is() -> None:
    out = io.StringIO()
    printer = Printer(out, "c")
    for frame in (
        {"type": "handoff", "status": "handoff", "transition": "waiting"},
        {"type": "handoff", "status": "handoff", "transition": "claimed", "agent_id": "sam"},
        {"type": "handoff", "status": "handoff", "transition": "transferred", "agent_id": "kim"},
        {"type": "handoff", "status": "handoff", "transition": "transferred", "agent_id": None},
        {"type": "handoff", "status": "handoff", "transition": "unclaimed", "message": "Still waiting."},
        {"type": "handoff", "status": "active", "transition": "released"},
    ):
        printer.frame(frame)
    assert out.getvalue().splitlines() == [
        "* you are being connected to a human agent; they will answer here",
        "* sam joined the conversation",
        "* kim takes over the conversation",
        "* you're back in the queue for the next free agent",
        "* Still waiting.",
        "* the agent handed the conversation back to MangaAssist",
    ]
