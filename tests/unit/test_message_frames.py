"""The ``message`` frame of a reply never exceeds API Gateway's 128 KB, however long the reply."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.apigateway import MAX_FRAME_BYTES, encode_frame
from application.frames import MAX_CONTENT_CHARS, message_frame, message_frames
from domain.model import Role, Turn


def reply(content: str) -> Turn:
    return Turn("t-2", Role.ASSISTANT, content, 10, datetime(2026, 11, 27, tzinfo=UTC), "m-1", "r-1")


@pytest.mark.parametrize("length", [1, 5000, MAX_CONTENT_CHARS])
def test_a_reply_that_fits_is_one_plain_message_frame(length: int) -> None:
    whole = reply("a" * length)
    assert message_frames(whole) == [message_frame(whole)]
    assert "parts" not in message_frames(whole)[0]


@pytest.mark.parametrize("character", ["a", "漫", "🍙", "\x01", '"'])
def test_a_longer_reply_is_split_into_numbered_parts_that_each_fit(character: str) -> None:
    content = character * (MAX_CONTENT_CHARS * 2 + 7)
    frames = message_frames(reply(content))
    assert [(f["part"], f["parts"]) for f in frames] == [(0, 3), (1, 3), (2, 3)]
    assert all(
        f["type"] == "message" and f["response_id"] == "r-1" and f["reply_to"] == "m-1" for f in frames
    )
    assert "".join(f["content"] for f in frames) == content
    assert max(len(encode_frame(f)) for f in frames) <= MAX_FRAME_BYTES


def test_the_worst_case_plain_frame_still_fits() -> None:
    # A control character is escaped as \uXXXX: 6 bytes, the most any character costs.
    assert len(encode_frame(message_frame(reply("\x01" * MAX_CONTENT_CHARS)))) <= MAX_FRAME_BYTES
