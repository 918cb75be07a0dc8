"""A conservative token estimator, calibrated by the usage numbers the model returns."""

from __future__ import annotations

import math
import threading
from collections import deque

# Claude's tokenizers average about 3.5-4 characters of English per token and about one token per
# CJK character (3 UTF-8 bytes); a third of the UTF-8 size over-counts both.
BYTES_PER_TOKEN = 3.0
SAFETY_MARGIN = 1.1
WINDOW = 50


class CalibratedTokenCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ratios: deque[float] = deque(maxlen=WINDOW)
        self.factor = 1.0

    def count(self, text: str) -> int:
        return max(1, math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN * self.factor))

    def observe(self, estimated: int, actual: int) -> None:
        """Move the factor to the worst ratio seen lately, plus a margin: never below what the model
        really counted, and tighter than the raw estimate when the raw estimate runs high."""
        if estimated <= 0 or actual <= 0:
            return
        with self._lock:
            raw = estimated / self.factor
            self._ratios.append(actual / raw)
            self.factor = min(3.0, max(0.5, max(self._ratios) * SAFETY_MARGIN))
