"""What every benchmark hands the runner (``python -m bench``): its figures, and its summary rows."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

Figures = dict[str, float]  # name -> a measured number
Row = tuple[str, str, str]  # what, ours, the baseline measured in the same run
TIMES = "\u00d7"  # a ratio, as BENCHMARKS.md writes it
# Per-customer limits on, far above what any benchmark sends: their checks run (as deployed), never refuse.
LIMITS_NEVER_HIT = {"CUSTOMER_MESSAGES_PER_MINUTE": str(10**9), "CUSTOMER_DAILY_TOKENS": str(10**12)}


def measured_at() -> str:
    """Today's date and the commit measured (``+`` when the work tree had changes), and what
    ``BENCH_NOTE`` says about the run (the machine's load, say)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = "+" if git("status", "--porcelain", "--untracked-files=no") else ""
    note = os.environ.get("BENCH_NOTE", "").strip()
    return f"{datetime.now(UTC):%Y-%m-%d}, {commit}{dirty}" + (f" ({note})" if note else "")
