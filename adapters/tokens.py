"""A conservative token estimator, calibrated by the usage numbers the model returns.

The raw estimate weighs text by script, so that one calibration factor fits every language:
Claude's tokenizers take about 3.5-4 characters of English a token, and about one token or more for
each CJK character or emoji. A third of the UTF-8 size over-counts English and the 2-byte scripts
(accented Latin, Cyrillic, Greek); for 3- and 4-byte characters (CJK, kana, emoji) it would count a
kanji as exactly one token, which is low often enough, so those weigh half their UTF-8 size.
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque

NARROW_BYTES_PER_TOKEN = 3.0  # ASCII and 2-byte UTF-8
WIDE_BYTES_PER_TOKEN = 2.0  # 3- and 4-byte UTF-8: 1.5 tokens a kanji, 2 an emoji
WIDE = re.compile("[\u0800-\U0010ffff]")
ASTRAL = re.compile("[\U00010000-\U0010ffff]")
SAFETY_MARGIN = 1.1
WINDOW = 50
MIN_FACTOR, MAX_FACTOR = 0.5, 3.0


def raw_estimate(text: str) -> float:
    """Tokens before calibration."""
    size = len(text.encode("utf-8", "surrogatepass"))  # a lone surrogate must not break counting
    if size == len(text):
        return size / NARROW_BYTES_PER_TOKEN
    wide_bytes = 3 * len(WIDE.findall(text)) + len(ASTRAL.findall(text))
    return (size - wide_bytes) / NARROW_BYTES_PER_TOKEN + wide_bytes / WIDE_BYTES_PER_TOKEN


class CalibratedTokenCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ratios: deque[float] = deque(maxlen=WINDOW)
        self.factor = 1.0

    def count(self, text: str) -> int:
        return max(1, math.ceil(raw_estimate(text) * self.factor))

    def observe(self, estimated: int, actual: int) -> None:
        """Move the factor to the worst ratio of the last ``WINDOW`` prompts, plus a margin: never
        below what the model really counted for them, and tighter than the raw estimate when the
        raw estimate runs high. An outlier keeps the factor up until it leaves the window."""
        if estimated <= 0 or actual <= 0:
            return
        with self._lock:
            raw = estimated / self.factor
            self._ratios.append(actual / raw)
            self.factor = min(MAX_FACTOR, max(MIN_FACTOR, max(self._ratios) * SAFETY_MARGIN))
