"""What every benchmark hands the runner (``python -m bench``): its figures, and its summary rows."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

Figures = dict[str, float]  # name -> a measured number
Row = tuple[str, str, str]  # what, ours, the baseline measured in the same run
TIMES = "\u00d7"  # a ratio, as BENCHMARKS.md writes it
