"""A reply's deadline. API Gateway gives up on an integration after 29 s and Lambda ends the function
at its timeout, mid-write if need be: a reply must stop streaming early enough to be stored.

A ``Deadline`` has two moments: ``at``, when the reply stops reading the model (``until``), and
``end``, when the function may be ended (``at`` plus the margin in which the reply is stored and its
last frames pushed). The model's stream is read on a worker thread, so that ``at`` holds even while the
stream is silent (a stalled connection waits for its read timeout, longer than what is left); past it
the reply stops (``DeadlineReached``) and the worker lets the stream go at its next event. Pushes go
through ``BoundedNotifier``: none outlives ``end``; one that would is given up (``Unavailable``) and the
customer finds the stored reply on resume. The store itself is not bounded: see ``send_message``.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator

from attrs import frozen

from application.errors import Unavailable
from application.ports import Clock, Frame, Notifier, ReplyEvent

# Added to what the model wrote when it was cut short: the customer sees that it stops there.
CUT_SHORT_MARK = "\n\n[This reply was cut short. Ask me to go on.]"


class DeadlineReached(Exception):
    """No time is left to read more of the reply and still store it."""


@frozen
class Deadline:
    at: float  # in the seconds of ``Clock.monotonic()``: stop streaming
    end: float | None = None  # the same clock: the function may be ended; None: as ``at``

    @classmethod
    def within(cls, clock: Clock, seconds: float, margin: float = 0.0) -> Deadline:
        """Streaming stops in ``seconds``; the function may end ``margin`` seconds after that."""
        at = clock.monotonic() + seconds
        return cls(at, at + margin)

    def remaining(self, clock: Clock) -> float:
        return self.at - clock.monotonic()

    def passed(self, clock: Clock) -> bool:
        return clock.monotonic() > self.at

    def left_before_end(self, clock: Clock) -> float:
        return (self.at if self.end is None else self.end) - clock.monotonic()


def until(events: Iterator[ReplyEvent], deadline: Deadline | None, clock: Clock) -> Iterator[ReplyEvent]:
    """``events`` as they come, until ``deadline``: then ``DeadlineReached``. Without a deadline,
    ``events`` itself, on the caller's thread."""
    if deadline is None:
        yield from events
        return
    # What the stream gave, stamped with when it arrived; None: the stream ended.
    inbox: queue.Queue[tuple[float, ReplyEvent | _Failure | None]] = queue.Queue()
    stop = threading.Event()

    def pull() -> None:
        try:
            for event in events:
                if stop.is_set():
                    break
                inbox.put((clock.monotonic(), event))
        except BaseException as error:
            inbox.put((clock.monotonic(), _Failure(error)))
            return
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()  # the adapter closes its HTTP stream
        inbox.put((clock.monotonic(), None))

    # The worker runs in a copy of this context: the invocation's log keys follow it.
    worker = threading.Thread(target=contextvars.copy_context().run, args=(pull,), daemon=True)
    worker.start()
    try:
        while True:
            try:
                arrived, item = inbox.get_nowait()
            except queue.Empty:
                left = deadline.remaining(clock)
                try:
                    # Past the deadline, only what may have come in meanwhile; else wait until then.
                    arrived, item = inbox.get(timeout=left) if left > 0 else inbox.get_nowait()
                except queue.Empty:
                    if left > 0:
                        continue
                    raise DeadlineReached(f"the stream was silent {-left:.1f} s past the deadline") from None
            if arrived > deadline.at:  # what came after the deadline is not waited for either
                raise DeadlineReached(f"the reply's deadline passed {arrived - deadline.at:.1f} s before")
            if item is None:
                return
            if isinstance(item, _Failure):
                raise item.error
            if deadline.passed(clock):  # it came in time, but the caller spent what was left (pushes)
                raise DeadlineReached(
                    f"the reply's deadline passed {-deadline.remaining(clock):.1f} s before"
                )
            yield item
    finally:
        stop.set()


@frozen
class _Failure:
    error: BaseException


# Kept back from ``Deadline.end`` for what follows the last push: the handler's return, its logs.
END_RESERVE_SECONDS = 0.5
# How often a bounded push looks at the clock while it waits (a push that ends is seen at once).
_POLL_SECONDS = 0.05


class BoundedNotifier:
    """``notifier``, but no push outlives the deadline's ``end``: a push still running then is left to
    its worker thread (its frame may arrive late or never; the reply is stored by then and shown on
    resume) and ``Unavailable`` is raised, as after the Management API's own retries. A push started
    with no time left is not attempted. Without a deadline, ``notifier`` itself."""

    def __init__(self, notifier: Notifier, deadline: Deadline | None, clock: Clock) -> None:
        self._notifier = notifier
        self._deadline = deadline
        self._clock = clock

    def push(self, connection_id: str, frame: Frame) -> None:
        if self._deadline is None:
            self._notifier.push(connection_id, frame)
            return
        if self._left() <= 0:
            raise Unavailable("no time left before the function's end to push a frame")
        done = threading.Event()
        failure: list[BaseException] = []

        def push() -> None:
            try:
                self._notifier.push(connection_id, frame)
            except BaseException as error:  # handed to the caller, or dropped if it gave up waiting
                failure.append(error)
            finally:
                done.set()

        worker = threading.Thread(target=contextvars.copy_context().run, args=(push,), daemon=True)
        worker.start()
        while not done.wait(min(_POLL_SECONDS, max(self._left(), 0.0))):
            if self._left() <= 0:
                raise Unavailable("a push was still running at the function's end; left to finish")
        if failure:
            raise failure[0]

    def close(self, connection_id: str) -> None:
        self._notifier.close(connection_id)

    def _left(self) -> float:
        assert self._deadline is not None
        return self._deadline.left_before_end(self._clock) - END_RESERVE_SECONDS
