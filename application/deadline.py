"""A reply's deadline. API Gateway gives up on an integration after 29 s and Lambda ends the function
at its timeout, mid-write if need be: a reply must stop streaming early enough to be stored.

The model's stream is read on a worker thread, so that the deadline holds even while the stream is
silent (a stalled connection waits for its read timeout, longer than what is left); past it the
reply stops (``DeadlineReached``) and the worker lets the stream go at its next event."""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Iterator

from attrs import frozen

from application.ports import Clock, ReplyEvent

# Added to what the model wrote when it was cut short: the customer sees that it stops there.
CUT_SHORT_MARK = "\n\n[This reply was cut short. Ask me to go on.]"


class DeadlineReached(Exception):
    """No time is left to read more of the reply and still store it."""


@frozen
class Deadline:
    at: float  # in the seconds of ``Clock.monotonic()``

    @classmethod
    def within(cls, clock: Clock, seconds: float) -> Deadline:
        return cls(clock.monotonic() + seconds)

    def remaining(self, clock: Clock) -> float:
        return self.at - clock.monotonic()


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
            yield item
    finally:
        stop.set()


@frozen
class _Failure:
    error: BaseException
