"""Property: whatever a client sends to ``$default``, it never causes a 5xx; a refusal is exactly one
error frame with the protocol's code and status, writes nothing and calls no model; an accepted
message is stored once and answered once; another customer's session is never touched nor shown."""

from __future__ import annotations

import json

from hypothesis import example, given
from hypothesis import strategies as st

from tests.adversarial.frame_checks import FuzzedSession, Neighbour
from tests.adversarial.profile import examples
from tests.adversarial.strategies import RawFrame, raw_frames
from tests.adversarial.systems import StrictChat

customers = st.sampled_from(["cust-fuzz", "cust-fuzz", None])  # None: an anonymous session
ASKED = RawFrame(
    json.dumps({"action": "sendMessage", "message": "Is Frieren vol. 3 in stock?", "message_id": "m-2"})
)
HANDOFF = RawFrame(json.dumps({"action": "handoff", "reason": "I want a human"}))


@examples(500)
@given(customer=customers, frames=st.lists(raw_frames, min_size=1, max_size=4))
@example(customer="cust-fuzz", frames=[RawFrame("[" * 100_000 + "]" * 100_000)])  # was a 500
@example(customer="cust-fuzz", frames=[ASKED, HANDOFF, ASKED])  # was "forwarded", not its stored reply
def test_any_frame_on_the_memory_store(
    memory: tuple[StrictChat, Neighbour], customer: str | None, frames: list[RawFrame]
) -> None:
    chat, neighbour = memory
    session = FuzzedSession(chat, neighbour, "$default frames (memory store)", customer).open()
    for frame in frames:
        session.send(frame)


@examples(40)
@given(frames=st.lists(raw_frames, min_size=1, max_size=3))
def test_any_frame_on_dynamodb(dynamodb: tuple[StrictChat, Neighbour], frames: list[RawFrame]) -> None:
    chat, neighbour = dynamodb
    session = FuzzedSession(chat, neighbour, "$default frames (DynamoDB on moto)").open()
    for frame in frames:
        session.send(frame)
