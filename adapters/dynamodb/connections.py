"""connection id -> session id: the GSI, with an in-process LRU in front of it.

The index is eventually consistent, so a lookup right after ``$connect`` may miss: a miss is asked
again a few times with a short backoff. A hit is remembered, and that is safe: a connection's
session is the one its own ``$connect`` opened or resumed, and it never becomes another one. It can
only stop being attached (resumed elsewhere, disconnected, closed) — which looks to the caller like
an index that lags, and every caller checks ownership against the session itself. This process's
own moves (``replace``) forget the old connection at once, so within a process nothing lags.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from adapters.dynamodb.errors import Backoff
from adapters.dynamodb.reads import TableReads

# In AWS, $connect and $default run in different functions, so the client's first frame always asks
# the index, often within a second of the connect: wait up to ~1.5 s (at least ~0.8 s) for it.
LOOKUP_BACKOFF = Backoff(attempts=7, base_seconds=0.05, cap_seconds=0.4, floor=0.5)
CACHE_SIZE = 4096


class ConnectionIndex:
    def __init__(
        self, reads: TableReads, backoff: Backoff = LOOKUP_BACKOFF, capacity: int = CACHE_SIZE
    ) -> None:
        self._reads = reads
        self._backoff = backoff
        self._capacity = capacity
        self._lock = threading.Lock()
        self._known: OrderedDict[str, str] = OrderedDict()

    def lookup(self, connection_id: str) -> str | None:
        with self._lock:
            found = self._known.get(connection_id)
            if found is not None:
                self._known.move_to_end(connection_id)
                return found
        for attempt in range(self._backoff.attempts):
            if attempt:
                self._backoff.pause(attempt - 1)
            found = self._reads.session_id_of_connection(connection_id)
            if found is not None:
                self.remember(connection_id, found)
                return found
        return None

    def remember(self, connection_id: str, session_id: str) -> None:
        with self._lock:
            self._known[connection_id] = session_id
            self._known.move_to_end(connection_id)
            while len(self._known) > self._capacity:
                self._known.popitem(last=False)

    def forget(self, connection_id: str) -> None:
        with self._lock:
            self._known.pop(connection_id, None)
