"""Frames as API Gateway limits them: a WebSocket frame is at most 32 KB, in each direction, and a
client's message longer than that closes its connection (1009) before any handler sees it.

Frames leave as compact JSON in UTF-8, non-ASCII unescaped (``encode_frame``); ``split_text`` cuts a
text into pieces whose encoded size, escapes included, stays within a budget of bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_FRAME_BYTES = 32 * 1024
# The longest message a client may send: its size inside a frame (UTF-8, JSON escapes included, as
# ``text_cost`` counts), so that its own frame and every frame that carries it on (to an agent, in a
# history) stay under MAX_FRAME_BYTES with their ids beside it. Over this: too_large.
MAX_MESSAGE_BYTES = 24 * 1024

# What each ASCII character costs inside a JSON string: 1, or 2 for \" \\ \n ..., or 6 for \u0001.
_ASCII_COST = [len(json.dumps(chr(code))) - 2 for code in range(128)]


def encode_frame(frame: Mapping[str, Any]) -> bytes:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def frame_bytes(frame: Mapping[str, Any]) -> int:
    return len(encode_frame(frame))


def char_cost(character: str) -> int:
    code = ord(character)
    if code < 0x80:
        return _ASCII_COST[code]
    return 2 if code < 0x800 else 3 if code < 0x10000 else 4


def text_cost(text: str) -> int:
    return sum(char_cost(c) for c in text)


def split_text(text: str, budget: int) -> list[str]:
    """``text`` in order, in pieces that each cost at most ``budget`` bytes in a frame (never a
    character cut in two); one piece when it fits."""
    if budget < 6:
        raise ValueError("a piece must have room for any one character")
    pieces: list[str] = []
    start, spent = 0, 0
    for index, character in enumerate(text):
        cost = char_cost(character)
        if spent + cost > budget:
            pieces.append(text[start:index])
            start, spent = index, 0
        spent += cost
    pieces.append(text[start:])
    return pieces
