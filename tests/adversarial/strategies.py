"""Hypothesis strategies for what a client can put in a WebSocket frame: JSON-ish bodies, fields of
every wrong type, nasty Unicode (lone surrogates, NUL, RTL overrides, emoji), huge and deeply nested
bodies, binary frames. Session ids are named by markers (``OWN``, ``OTHER``, ``UNKNOWN``) that the
test replaces with real ids once it has them."""

from __future__ import annotations

import base64
import json
from typing import Any

from attrs import frozen
from hypothesis import strategies as st

OWN = "@@own-session@@"
OTHER = "@@other-customers-session@@"
UNKNOWN = "@@unknown-session@@"
MARKERS = (OWN, OTHER, UNKNOWN)

NASTY = (
    "",
    " ",
    "\t\n ",
    "\x00",
    "a\x00b",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b",  # zero width space
    "\ud800",  # lone high surrogate
    "\udfff",  # lone low surrogate
    "\ud83d",  # half an emoji
    "😀",
    "👩‍👩‍👧‍👦",
    "\U0010ffff",
    "\ufeff",
    "Z̤͔ͧ̑̓",
    "مرحبا",
    "漫画の在庫はありますか",
    "null",
    "sendMessage",
    "SESSION#x",
    "META",
    "TURN#",
    "MSG#../../",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "<script>alert(1)</script>",
)

characters = st.one_of(
    st.characters(exclude_categories=()),
    st.characters(categories=["Cs"]),  # lone surrogates: valid in JSON as "\ud800", not in UTF-8
    st.sampled_from(["\x00", "\u202e", "😀", "\ufeff", " ", "\n"]),
)
text = st.one_of(st.text(characters, max_size=40), st.sampled_from(NASTY))
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)


def _long(length: int, unit: str = "a") -> str:
    return (unit * length)[:length]


messages = st.one_of(
    st.sampled_from(["Is Frieren vol. 3 in stock?", "where is my order?", "refund please"]),
    text,
    st.sampled_from(
        [
            _long(16000),  # the limit exactly
            _long(16001),  # one over: 413
            " " * 30000 + "hi" + " " * 30000,  # long, but short once trimmed
            _long(16000, "😀"),  # 16,000 characters of 4 bytes each
            _long(17000, "漫"),
        ]
    ),
    json_values,
)
message_ids = st.one_of(
    st.uuids().map(str),
    st.text(characters, min_size=0, max_size=130),
    st.sampled_from([_long(128), _long(129), "m-1", "m-1", " ", "MSG#x", "\ud800"]),
    json_values,
)
session_ids = st.one_of(st.sampled_from(MARKERS), st.sampled_from(MARKERS), text, json_values)
limits = st.one_of(st.integers(-3, 105), st.integers(), st.sampled_from([1, 100, 101, 0, True]), json_values)
actions = st.one_of(
    st.sampled_from(["sendMessage", "sendMessage", "history", "session", "handoff"]),
    st.sampled_from(["SendMessage", "sendmessage", " sendMessage", "$default", "__proto__"]),
    json_values,
)
frame_objects = st.fixed_dictionaries(
    {},
    optional={
        "action": actions,
        "message": messages,
        "message_id": message_ids,
        "session_id": session_ids,
        "limit": limits,
        "reason": st.one_of(text, st.sampled_from([_long(500), _long(501)]), json_values),
        "extra": json_values,
    },
)
valid_frames = st.one_of(
    st.builds(
        lambda m, mid: {"action": "sendMessage", "message": m, "message_id": mid},
        st.sampled_from(["Is Frieren vol. 3 in stock?", "where is my order?"]),
        st.one_of(st.uuids().map(str), st.sampled_from(["m-1", "m-2"])),  # repeats: idempotency
    ),
    st.builds(lambda m: {"message": m, "session_id": OWN}, st.sampled_from(["hello", "price of Berserk?"])),
    st.builds(lambda n: {"action": "history", "limit": n}, st.integers(1, 100)),
    st.just({"action": "session"}),
    st.just({"action": "handoff", "reason": "I want a human"}),
)
# Well-formed frames naming a session: this connection's, another customer's, or nobody's.
naming_frames = st.builds(
    lambda frame, marker: {**frame, "session_id": marker}, valid_frames, st.sampled_from(MARKERS)
)


@frozen
class RawFrame:
    """One WebSocket frame as API Gateway hands it to ``$default``."""

    body: Any  # a str, or None for a frame without a body
    is_base64: bool = False


def _json_frame(value: Any, ascii_only: bool) -> RawFrame:
    return RawFrame(json.dumps(value, ensure_ascii=ascii_only))


def _deep(depth: int, opener: str) -> RawFrame:
    closer = {"[": "]", '{"a":': "}"}[opener]
    return RawFrame(opener * depth + "1" + closer * depth)


raw_frames = st.one_of(
    st.builds(_json_frame, valid_frames, st.booleans()),
    st.builds(_json_frame, naming_frames, st.booleans()),
    st.builds(_json_frame, frame_objects, st.booleans()),
    st.builds(_json_frame, frame_objects, st.booleans()),
    st.builds(_json_frame, json_values, st.just(True)),
    st.builds(RawFrame, st.text(characters, max_size=60)),
    st.builds(RawFrame, st.sampled_from(["", "{", "[]", "null", '{"action":}', "{'a':1}", "NaN", "1e999"])),
    st.builds(lambda raw: RawFrame(base64.b64encode(raw).decode(), True), st.binary(max_size=64)),
    st.builds(
        lambda frame: RawFrame(base64.b64encode(json.dumps(frame).encode()).decode(), True), valid_frames
    ),
    st.just(RawFrame(None)),
    st.builds(_deep, st.sampled_from([100, 1_000, 10_000, 100_000]), st.sampled_from(["[", '{"a":'])),
    st.builds(
        lambda size: RawFrame(json.dumps({"action": "sendMessage", "message": "x" * size})),
        st.sampled_from([200_000, 262_130, 262_200, 400_000]),
    ),
    st.just(RawFrame("1" * 5000)),  # an integer of 5,000 digits
)


def materialize(frame: RawFrame, ids: dict[str, str]) -> RawFrame:
    """Replace the session markers by the real ids (they travel inside the JSON text)."""
    if not isinstance(frame.body, str) or frame.is_base64:
        return frame
    body = frame.body
    for marker, real in ids.items():
        body = body.replace(marker, real)
    return RawFrame(body, frame.is_base64)
