"""The three WebSocket handlers driven by API-Gateway-shaped events (fixtures in testing/events/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from entrypoints import connect, disconnect, message
from testing.harness import Chat, connect_event, load_event, message_event

ROOT = Path(__file__).resolve().parents[2]


def test_the_reference_events_are_handled(chat: Chat) -> None:
    event = load_event("ws_connect.json")
    assert connect.handler(event, None) == {"statusCode": 200}
    connection = event["requestContext"]["connectionId"]
    assert message.handler(load_event("ws_message.json"), None) == {"statusCode": 200}
    reply = chat.last(connection)
    assert reply["type"] == "message" and reply["reply_to"] == "0f8e6a52-1d0c-4c7e-9c55-3b1f1f0a2b11"
    assert disconnect.handler(load_event("ws_disconnect.json"), None) == {"statusCode": 200}
    session = chat.repository.get(_only_session(chat))
    assert session.status == "disconnected" and session.turn_count == 2


def _only_session(chat: Chat) -> str:
    sessions = chat.repository._sessions  # one session in this test
    assert len(sessions) == 1
    session_id: str = next(iter(sessions))
    return session_id


def test_the_authorizer_customer_id_wins_over_the_query_string(chat: Chat) -> None:
    assert chat.connect("c1", "cust-1") == 200
    first = chat.session_of("c1")["session_id"]
    # The query string claims cust-1, but the authorizer vouches for cust-9: no resume.
    assert chat.connect("c2", "cust-1", first, authorizer={"principalId": "cust-9"}) == 200
    assert chat.session_of("c2")["resumed"] is False
    assert chat.repository.get(chat.session_of("c2")["session_id"]).customer_id == "cust-9"


def test_a_malformed_customer_id_refuses_the_handshake_and_a_malformed_session_id_is_ignored(
    chat: Chat,
) -> None:
    assert chat.connect("c1", "cust 1; drop table") == 400
    assert chat.repository.session_id_of_connection("c1") is None
    assert chat.connect("c2", "cust-1", "../../etc/passwd") == 200
    assert chat.session_of("c2")["resumed"] is False


def test_a_frame_from_a_connection_that_never_connected_is_refused(chat: Chat) -> None:
    assert chat.send("ghost", {"action": "history"}) == 403
    assert chat.last("ghost")["code"] == "forbidden"


def test_history_is_oldest_first_with_iso_times_and_bounded(chat: Chat) -> None:
    assert chat.connect("c1", "cust-1") == 200
    for n in range(3):
        assert chat.say("c1", f"question {n}", f"m-{n}") == 200
    assert chat.send("c1", {"action": "history", "limit": 4}) == 200
    turns = chat.last("c1")["turns"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant"]
    assert turns[0]["content"] == "question 1"
    assert all(t["created_at"].endswith("Z") and "T" in t["created_at"] for t in turns)


def test_history_naming_someone_elses_session_is_forbidden(chat: Chat) -> None:
    chat.connect("c1", "cust-1")
    chat.say("c1", "my secret order", "m-1")
    victim = chat.session_of("c1")["session_id"]
    chat.connect("c2", "cust-2")
    assert chat.send("c2", {"action": "history", "session_id": victim}) == 403
    assert all("secret" not in json.dumps(f) for f in chat.frames("c2"))


def test_the_original_frame_without_an_action_is_a_message(chat: Chat) -> None:
    chat.connect("c1", "cust-1")
    session_id = chat.session_of("c1")["session_id"]
    assert chat.send("c1", {"session_id": session_id, "message": "hi"}) == 200
    assert chat.last("c1")["type"] == "message"


def test_binary_frames_are_refused(chat: Chat) -> None:
    chat.connect("c1", "cust-1")
    event = message_event("c1", "aGVsbG8=")
    event["isBase64Encoded"] = True
    assert message.handler(event, None)["statusCode"] == 400


def test_a_disconnect_for_an_unknown_connection_is_harmless(chat: Chat) -> None:
    assert chat.disconnect("never-seen") == 200


def test_a_resume_does_not_let_the_old_connections_disconnect_detach_the_new_one(chat: Chat) -> None:
    chat.connect("c1", "cust-1")
    session_id = chat.session_of("c1")["session_id"]
    assert chat.connect("c2", "cust-1", session_id) == 200
    assert chat.disconnect("c1") == 200  # the old socket closes after the move
    session = chat.repository.get(session_id)
    assert session.status == "active" and session.connection_id == "c2"


def test_importing_the_handlers_does_no_network_io_and_needs_no_credentials() -> None:
    probe = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise AssertionError('network I/O at import')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "import entrypoints.message, entrypoints.connect, entrypoints.disconnect\n"
        "print('imported')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_connect_events_from_the_reference_shape_keep_their_query_string() -> None:
    event = connect_event("c9", "cust-3", "abc")
    assert event["queryStringParameters"] == {"customer_id": "cust-3", "session_id": "abc"}


def test_an_identity_providers_subject_is_taken_as_it_is_from_the_authorizer(chat: Chat) -> None:
    assert chat.connect("c1", authorizer={"principalId": "auth0|5f7c8e9a"}) == 200
    assert chat.repository.get(chat.session_of("c1")["session_id"]).customer_id == "auth0|5f7c8e9a"
    assert chat.connect("c2", authorizer={"customer_id": "ana maría@example.com"}) == 200
    assert chat.connect("c3", "auth0|5f7c8e9a") == 400  # the query string stays strict: it is untrusted
