"""What the suite checks, whatever it threw at the system: the protocol's error codes and statuses,
what a session holds (turns per message id, ``turn_count``), and frames only production could send."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from attrs import frozen

from adapters.apigateway import FrameTooLarge
from application.frame_size import MAX_FRAME_BYTES, encode_frame
from application.ports import Frame, PendingWrite
from testing.notifier import RecordingNotifier

# docs/PROTOCOL.md §4: every error code and the status that goes with it.
STATUS_OF = {
    "bad_request": 400,
    "too_large": 413,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "unavailable": 503,
    "internal": 500,
}
CLIENT_STATUSES = frozenset({200, 400, 403, 404, 409, 413})  # what client input may ever cause
HISTORY_LIMIT = 1000


class EncodingNotifier(RecordingNotifier):
    """Records frames, but only those the production notifier could send: each is encoded as
    ``ApiGatewayNotifier`` does (UTF-8 JSON, at most 128 KB) and fails as it would."""

    def __init__(self) -> None:
        super().__init__()
        self.unsendable: list[tuple[str, str]] = []

    def push(self, connection_id: str, frame: Frame) -> None:
        try:
            data = encode_frame(frame)
        except UnicodeEncodeError:
            self.unsendable.append((connection_id, "not UTF-8"))
            raise
        if len(data) > MAX_FRAME_BYTES:
            self.unsendable.append((connection_id, f"{len(data)} bytes"))
            raise FrameTooLarge(f"{len(data)} bytes")
        super().push(connection_id, frame)


@frozen
class StoredTurn:
    turn_id: str
    role: str
    message_id: str | None
    content: str


@frozen
class Snapshot:
    """What one session holds, for before/after comparisons."""

    status: str | None
    turn_count: int
    turns: tuple[StoredTurn, ...]

    def roles(self) -> Counter[str]:
        return Counter(t.role for t in self.turns)


def snapshot(repo: Any, session_id: str) -> Snapshot:
    session = repo.get(session_id)
    turns = tuple(
        StoredTurn(t.turn_id, str(t.role), t.message_id, t.content)
        for t in repo.history(session_id, HISTORY_LIMIT)
    )
    if session is None:
        return Snapshot(None, 0, turns)
    return Snapshot(str(session.status), session.turn_count, turns)


def per_message(turns: Iterable[StoredTurn]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for turn in turns:
        if turn.message_id is not None:
            counts[turn.message_id][turn.role] += 1
    return counts


@frozen
class Tally:
    lost: int
    duplicated: int
    details: tuple[str, ...] = ()


def tally(
    turns: Sequence[StoredTurn],
    expected: Iterable[str],
    pending: Iterable[PendingWrite] = (),
    answered: bool = True,
) -> Tally:
    """Per expected message id: one user turn, and (``answered``) one assistant turn, stored or still
    waiting in the retry queue. Anything short is lost, anything over is duplicated."""
    counts = per_message(turns)
    queued = Counter(w.message_id for w in pending)
    lost = duplicated = 0
    details = []
    for message_id in expected:
        user = counts[message_id]["user"]
        assistant = counts[message_id]["assistant"]
        replies = assistant + (queued[message_id] if assistant == 0 else 0)
        wanted = (("user", user, 1), ("assistant", replies, 1 if answered else 0))
        for role, have, want in wanted:
            if have < want:
                lost += want - have
                details.append(f"{message_id}: {role} turn lost")
            elif have > want:
                duplicated += have - want
                details.append(f"{message_id}: {have} {role} turns")
    for message_id, roles in counts.items():  # ids nobody expected must not be stored twice either
        if message_id not in set(expected):
            extra = max(0, roles["user"] - 1) + max(0, roles["assistant"] - 1)
            duplicated += extra
            if extra:
                details.append(f"{message_id}: stored twice")
    return Tally(lost, duplicated, tuple(details))


def check_refusal(status: int, new_frames: Sequence[Mapping[str, Any]]) -> None:
    """A refused frame: exactly one frame, an error whose code goes with the status."""
    assert len(new_frames) == 1, f"a refusal pushed {len(new_frames)} frames: {new_frames}"
    [frame] = new_frames
    assert frame["type"] == "error", frame
    assert frame["code"] in STATUS_OF, frame
    assert STATUS_OF[frame["code"]] == status, (status, frame)
    assert set(frame) == {"type", "code", "message"} and isinstance(frame["message"], str)
