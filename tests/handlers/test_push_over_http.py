"""The message handler pushing for real: the container's ``ApiGatewayNotifier`` and boto3 client,
posting over HTTP to the endpoint in WEBSOCKET_CALLBACK_URL (a local stand-in, or moto server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from application.frame_size import MAX_FRAME_BYTES, encode_frame
from domain.model import SessionStatus
from testing.aws import moto_server
from testing.fakes import ManualClock
from testing.harness import Chat
from testing.management_api_standin import ManagementApiStandIn, frames_at_moto
from testing.model import RecordingModel

CONN = "connHttpPush1="
QUESTION = "Can you recommend something like Frieren?"


def chat_posting_to(url: str, llm: RecordingModel) -> Chat:
    chat = Chat(env={"WEBSOCKET_CALLBACK_URL": url}, llm=llm, clock=ManualClock())
    chat.container.adapters.notifier.reset_override()  # the real notifier, not the recording one
    return chat


@pytest.fixture
def api() -> Iterator[ManagementApiStandIn]:
    with ManagementApiStandIn(gone_after=3) as standin:
        yield standin


def test_a_client_gone_mid_reply_stops_the_pushes_but_the_reply_is_stored(api: ManagementApiStandIn) -> None:
    llm = RecordingModel(reply_words=400)  # ~2,400 characters: a dozen chunks
    chat = chat_posting_to(api.url, llm)
    try:
        assert chat.connect(CONN, "cust-1") == 200
        session_id = chat.repository.session_id_of_connection(CONN)
        assert chat.say(CONN, QUESTION, "m-1") == 200

        # Three chunks accepted, the fourth answered 410: nothing was posted after it.
        assert [p.status for p in api.posts] == [200, 200, 200, 410]
        assert [f["index"] for f in api.frames("chunk")] == [0, 1, 2]
        reply = llm.reply_for(llm.prompts[0])
        assert [(str(t.role), t.content) for t in chat.repository.history(session_id, 10)] == [
            ("user", QUESTION),
            ("assistant", reply),
        ]
        assert chat.repository.get(session_id).status is SessionStatus.DISCONNECTED

        # Back on a new connection, the reply is there, and asking again replays it without the model.
        assert chat.connect("connHttpPush2=", "cust-1", session_id=session_id) == 200
        api.gone_after = None
        assert chat.say("connHttpPush2=", QUESTION, "m-1") == 200
        assert api.frames("message")[-1]["content"] == reply
        assert llm.calls == 1
    finally:
        chat.close()


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:  # moto's Management API: every post succeeds
        yield url


@pytest.mark.moto_server
def test_a_very_long_reply_reaches_the_client_in_frames_under_32_kb(moto_url: str) -> None:
    llm = RecordingModel(reply_words=14000)  # ~74,000 characters
    chat = chat_posting_to(moto_url, llm)
    try:
        assert chat.connect("connLong0001=", "cust-1") == 200
        assert chat.say("connLong0001=", QUESTION, "m-long") == 200
        reply = llm.reply_for(llm.prompts[0])
        assert len(reply.encode()) > 2 * MAX_FRAME_BYTES

        frames = frames_at_moto("connLong0001=")
        chunks = [f for f in frames if f["type"] == "chunk"]
        parts = [f for f in frames if f["type"] == "message"]
        assert "".join(f["delta"] for f in chunks) == reply
        assert [(f["part"], f["parts"]) for f in parts] == [(n, len(parts)) for n in range(len(parts))]
        assert len(parts) == 3 and "".join(f["content"] for f in parts) == reply
        assert all(len(encode_frame(f)) <= MAX_FRAME_BYTES for f in frames)

        # A repeated message id replays the stored reply in the same parts.
        assert chat.say("connLong0001=", QUESTION, "m-long") == 200
        replayed = frames_at_moto("connLong0001=")[len(frames) :]
        assert replayed == parts
        assert llm.calls == 1
    finally:
        chat.close()
