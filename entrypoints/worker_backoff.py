"""How a background worker (the local stream reader, the in-process workers) lives with a failure
that repeats on every poll: one line when it starts failing, then polls further and further apart
(doubling, up to a ceiling), and one line when it works again. A trace per poll tells nobody more."""

from __future__ import annotations

import logging


class Backoff:
    def __init__(self, name: str, log: logging.Logger, interval: float, ceiling: float = 30.0) -> None:
        self._name = name
        self._log = log
        self._interval = interval
        self._ceiling = ceiling
        self.wait = interval  # before the next poll
        self._failing = False

    def failed(self, error: BaseException) -> None:
        self.wait = min(self._ceiling, self.wait * 2)
        if not self._failing:
            self._log.warning(
                "%s: %s; retrying every %.0f s at most",
                self._name,
                _one_line(error),
                self._ceiling,
                exc_info=self._log.isEnabledFor(logging.DEBUG),
            )
        self._failing = True

    def succeeded(self) -> None:
        if self._failing:
            self._log.info("%s: working again", self._name)
        self.wait, self._failing = self._interval, False


def _one_line(error: BaseException) -> str:
    from entrypoints.commands.failures import explain

    return explain(error) or f"{type(error).__name__}: {error}"
