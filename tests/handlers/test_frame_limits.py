"""API Gateway's 32 KB WebSocket frame, on the way in: a message whose UTF-8 would not fit a frame is
refused with too_large and changes nothing (a browser sends a message as one frame, and a frame over
32 KB closes the connection before any handler sees it)."""

from __future__ import annotations

import pytest

from application.frame_size import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, encode_frame
from testing.harness import Chat

CONN = "connFrames01="


@pytest.fixture
def connected(chat: Chat) -> Chat:
    assert chat.connect(CONN, "cust-1") == 200
    return chat


def test_a_japanese_message_within_the_character_limit_but_over_the_frame_is_too_large(
    connected: Chat,
) -> None:
    message = "漫" * 16_000  # 16,000 characters: allowed by MAX_MESSAGE_CHARS, but 48,000 bytes
    assert connected.say(CONN, message, "m-1") == 413
    assert connected.last(CONN)["code"] == "too_large" and "bytes" in connected.last(CONN)["message"]
    assert connected.llm.calls == 0
    assert connected.send(CONN, {"action": "history"}) == 200
    assert connected.last(CONN)["turns"] == []


def test_the_longest_message_accepted_still_fits_a_frame_with_its_envelope(connected: Chat) -> None:
    message = "漫" * (MAX_MESSAGE_BYTES // 3)
    frame = {"action": "sendMessage", "message": message, "message_id": "m" * 128, "session_id": "s" * 36}
    assert len(encode_frame(frame)) <= MAX_FRAME_BYTES
    assert connected.say(CONN, message, "m-2") == 200
    assert connected.say(CONN, message + "漫", "m-3") == 413


def test_a_message_is_measured_as_it_travels_in_a_frame_escapes_included(connected: Chat) -> None:
    quoted = '"' * 13_000  # 13,000 bytes of UTF-8, but 26,000 inside a frame: \\" each
    assert connected.say(CONN, quoted, "m-4") == 413
    assert connected.llm.calls == 0
