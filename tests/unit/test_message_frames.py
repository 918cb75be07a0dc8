"""Every frame we post fits API Gateway's 32 KB WebSocket frame, however long the reply or the
history; the parts join back into exactly what was stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from application.frame_size import MAX_FRAME_BYTES, char_cost, encode_frame, split_text, text_cost
from application.frames import history_frames, message_frame, message_frames
from domain.model import Role, Turn

AWKWARD = ["a", "漫", "🍙", "\x01", '"', "\n"]  # 1, 3, 4, 6, 2 and 2 bytes in a frame


def reply(content: str) -> Turn:
    return Turn("t-2", Role.ASSISTANT, content, 10, datetime(2026, 11, 27, tzinfo=UTC), "m-1", "r-1")


def turn(n: int, content: str) -> Turn:
    role = Role.USER if n % 2 == 0 else Role.ASSISTANT
    return Turn(f"t-{n:03d}", role, content, 10, datetime(2026, 11, 27, tzinfo=UTC) + timedelta(seconds=n))


@pytest.mark.parametrize("character", AWKWARD)
def test_a_characters_cost_is_what_json_makes_of_it(character: str) -> None:
    assert char_cost(character) == len(encode_frame({"c": character})) - len(encode_frame({"c": ""}))
    assert text_cost(character * 3) == 3 * char_cost(character)


@pytest.mark.parametrize("length", [1, 5000, 30_000])
def test_a_reply_that_fits_is_one_plain_message_frame(length: int) -> None:
    whole = reply("a" * length)
    assert message_frames(whole) == [message_frame(whole)]
    assert "parts" not in message_frames(whole)[0]


@pytest.mark.parametrize("character", AWKWARD)
def test_a_longer_reply_is_split_into_numbered_parts_that_each_fit(character: str) -> None:
    content = character * (3 * MAX_FRAME_BYTES // char_cost(character) + 7)
    frames = message_frames(reply(content))
    assert [(f["part"], f["parts"]) for f in frames] == [(n, len(frames)) for n in range(len(frames))]
    assert len(frames) >= 4
    assert all(
        f["type"] == "message" and f["response_id"] == "r-1" and f["reply_to"] == "m-1" for f in frames
    )
    assert "".join(f["content"] for f in frames) == content
    assert max(len(encode_frame(f)) for f in frames) <= MAX_FRAME_BYTES


def test_splitting_never_cuts_a_character_and_fills_each_piece() -> None:
    text = "ab🍙" * 1000
    pieces = split_text(text, 100)
    assert "".join(pieces) == text
    assert all(text_cost(p) <= 100 for p in pieces) and all(text_cost(p) > 100 - 4 for p in pieces[:-1])


def test_a_history_that_fits_is_one_plain_frame() -> None:
    frames = history_frames([turn(0, "Is Frieren 3 in stock?"), turn(1, "Yes.")])
    assert frames == [
        {
            "type": "history",
            "turns": [
                {
                    "role": "user",
                    "content": "Is Frieren 3 in stock?",
                    "created_at": "2026-11-27T00:00:00.000Z",
                },
                {"role": "assistant", "content": "Yes.", "created_at": "2026-11-27T00:00:01.000Z"},
            ],
        }
    ]


def rejoined(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a client does: the parts' turns in part order, each continued entry joined to the next."""
    entries = [entry for frame in sorted(frames, key=lambda f: f["part"]) for entry in frame["turns"]]
    whole: list[dict[str, Any]] = []
    carried = ""
    for entry in entries:
        if entry.get("continued"):
            carried += entry["content"]
            continue
        whole.append({**entry, "content": carried + entry["content"]})
        carried = ""
    return whole


@pytest.mark.parametrize("character", AWKWARD)
def test_a_long_history_comes_in_parts_that_each_fit_and_rejoin_to_every_turn(character: str) -> None:
    turns = [turn(n, f"{n:02d} " + character * (n * 900)) for n in range(40)]  # some alone exceed a frame
    frames = history_frames(turns)
    assert len(frames) > 1
    assert [(f["part"], f["parts"]) for f in frames] == [(n, len(frames)) for n in range(len(frames))]
    assert max(len(encode_frame(f)) for f in frames) <= MAX_FRAME_BYTES
    assert any(e.get("continued") for f in frames for e in f["turns"])
    assert rejoined(frames) == history_frames(turns, max_bytes=10**9)[0]["turns"]
