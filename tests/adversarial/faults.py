"""Fault injectors for the message path: a store whose calls fail before or after they take effect,
a notifier that fails (or kills the process) at its n-th push, and the death of the process itself."""

from __future__ import annotations

from typing import Any

from application.ports import Frame
from testing.fakes import FlakyRepository
from tests.adversarial.oracle import EncodingNotifier


class ProcessDied(BaseException):
    """Nothing after it runs in the invocation: not ``Exception``, so no handler catches it."""


class AmbiguousRepository(FlakyRepository):
    """``FlakyRepository`` whose failures can also come *after* the call took effect: the write is
    stored but its answer is lost (a timeout after DynamoDB committed), and the caller sees an error."""

    def __init__(self, inner: object) -> None:
        super().__init__(inner)
        self._after: dict[str, list[BaseException]] = {}

    def fail_after(self, method: str, times: int, error: BaseException) -> None:
        self._after.setdefault(method, []).extend([error] * times)

    def pending(self) -> int:
        """Failures armed but not fired yet."""
        return sum(len(v) for v in self._failures.values()) + sum(len(v) for v in self._after.values())

    def __getattr__(self, name: str) -> Any:
        target = super().__getattr__(name)
        after = self._after.get(name)
        if not callable(target) or after is None:
            return target

        def call(*args: object, **kwargs: object) -> object:
            result = target(*args, **kwargs)
            if after:
                raise after.pop(0)
            return result

        return call


class FailingNotifier(EncodingNotifier):
    """Accepts ``accept`` pushes to a connection (of frames of ``kind``, if given), then raises
    ``error`` on the next one."""

    def __init__(self) -> None:
        super().__init__()
        self._plans: dict[str, tuple[int, str | None, BaseException]] = {}
        self.fired = 0

    def fail_after(
        self, connection_id: str, accept: int, error: BaseException, kind: str | None = None
    ) -> None:
        self._plans[connection_id] = (accept, kind, error)

    def push(self, connection_id: str, frame: Frame) -> None:
        plan = self._plans.get(connection_id)
        if plan is not None and plan[1] in (None, frame.get("type")):
            accept, kind, error = plan
            if accept <= 0:
                del self._plans[connection_id]
                self.fired += 1
                raise error
            self._plans[connection_id] = (accept - 1, kind, error)
        super().push(connection_id, frame)
