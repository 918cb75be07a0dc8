"""A frame the protocol refuses (docs/PROTOCOL.md §4) gets one error frame with its code, the handler
answers API Gateway the matching status, nothing is stored and the model is not asked."""

from __future__ import annotations

import json
from typing import Any

import pytest

from testing.harness import Chat

CONN = "connRefused01="
OTHER = "connRefused02="

BAD_FRAMES = [
    ("this is not json", "bad_request", 400),
    ('["an", "array"]', "bad_request", 400),
    ('{"action": "dance"}', "bad_request", 400),
    ('{"action": 5}', "bad_request", 400),
    ('{"action": "sendMessage"}', "bad_request", 400),
    ('{"action": "sendMessage", "message": ""}', "bad_request", 400),
    ('{"action": "sendMessage", "message": "   \\n\\t "}', "bad_request", 400),
    ('{"action": "sendMessage", "message": 42}', "bad_request", 400),
    ('{"action": "sendMessage", "message": "hi", "message_id": 7}', "bad_request", 400),
    ('{"action": "history", "limit": "ten"}', "bad_request", 400),
    ('{"action": "history", "limit": 0}', "bad_request", 400),
    ('{"action": "history", "limit": 101}', "bad_request", 400),
    (json.dumps({"action": "sendMessage", "message": "x" * 16_001}), "too_large", 413),
]


def refused_without_a_trace(chat: Chat, connection: str, code: str) -> None:
    frame = chat.last(connection)
    assert frame["type"] == "error" and frame["code"] == code, frame
    assert frame["message"]
    assert chat.llm.calls == 0
    session_id = chat.repository.session_id_of_connection(connection)
    assert session_id is not None
    assert chat.repository.get(session_id).turn_count == 0
    assert chat.repository.history(session_id, 100) == []


@pytest.mark.parametrize(("frame", "code", "status"), BAD_FRAMES, ids=[row[0][:40] for row in BAD_FRAMES])
def test_a_bad_frame_gets_a_clear_error_and_changes_nothing(
    chat: Chat, frame: str, code: str, status: int
) -> None:
    assert chat.connect(CONN, "cust-1") == 200
    assert chat.send(CONN, frame) == status
    refused_without_a_trace(chat, CONN, code)


def test_a_frame_naming_another_connections_session_is_forbidden(chat: Chat) -> None:
    assert chat.connect(CONN, "cust-1") == 200
    assert chat.connect(OTHER, "cust-2") == 200
    theirs: Any = chat.repository.session_id_of_connection(CONN)
    assert chat.say(OTHER, "let me in", "m-1", session_id=theirs) == 403
    refused_without_a_trace(chat, OTHER, "forbidden")
    assert chat.repository.get(theirs).turn_count == 0
