"""connection -> session: the GSI may lag a connect, so a miss is asked again; a hit is remembered."""

from __future__ import annotations

from typing import Any

from adapters.dynamodb.connections import ConnectionIndex
from adapters.dynamodb.errors import Backoff


class LaggingIndex:
    """Answers nothing for the first ``lag`` looks, as a GSI right after the write."""

    def __init__(self, lag: int, session_id: str | None = "s-1") -> None:
        self.lag = lag
        self.session_id = session_id
        self.looks = 0

    def session_id_of_connection(self, _connection_id: str) -> str | None:
        self.looks += 1
        return None if self.looks <= self.lag else self.session_id


def index(reads: Any, slept: list[float], capacity: int = 10) -> ConnectionIndex:
    return ConnectionIndex(reads, Backoff(attempts=3, base_seconds=0.05, sleep=slept.append), capacity)


def test_a_lagging_index_is_asked_again_and_the_answer_remembered() -> None:
    reads = LaggingIndex(lag=2)
    slept: list[float] = []
    lookups = index(reads, slept)
    assert lookups.lookup("conn-1") == "s-1"
    assert reads.looks == 3 and len(slept) == 2
    assert lookups.lookup("conn-1") == "s-1" and reads.looks == 3  # from memory


def test_a_connection_with_no_session_is_asked_a_bounded_number_of_times() -> None:
    reads = LaggingIndex(lag=99)
    slept: list[float] = []
    assert index(reads, slept).lookup("conn-1") is None
    assert reads.looks == 3


def test_what_this_process_moved_is_forgotten_and_the_oldest_entries_go_first() -> None:
    reads = LaggingIndex(lag=0)
    slept: list[float] = []
    lookups = index(reads, slept, capacity=2)
    lookups.remember("conn-1", "s-1")
    lookups.forget("conn-1")
    reads.session_id = None
    assert lookups.lookup("conn-1") is None
    lookups.remember("conn-a", "s-a")
    lookups.remember("conn-b", "s-b")
    lookups.remember("conn-c", "s-c")
    assert lookups.lookup("conn-a") is None  # evicted, and the index has nothing either
    assert lookups.lookup("conn-c") == "s-c"
