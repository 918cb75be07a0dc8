"""What the adversarial suite tried and what it found, gathered across the session and written to
``artifacts/adversarial-report.json`` by ``conftest.pytest_sessionfinish`` (the numbers of the table
in BENCHMARKS.md). Counted before the assertions, so a failing run still reports what it lost."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from attrs import define, field

REPORT = Path(__file__).resolve().parents[2] / "artifacts" / "adversarial-report.json"
COMMAND = ".venv/bin/python -m pytest tests/adversarial"


@define
class Ledger:
    inputs: Counter[str] = field(factory=Counter)  # target -> inputs sent (frames, events, batches)
    examples: Counter[str] = field(factory=Counter)  # target -> hypothesis examples run
    samples: Counter[str] = field(factory=Counter)  # statistical samples (session ids)
    faults: list[dict[str, Any]] = field(factory=list)  # one row per fault scenario run
    started: float = field(factory=time.monotonic)
    _lock: threading.Lock = field(factory=threading.Lock)

    def input(self, target: str, count: int = 1) -> None:
        with self._lock:
            self.inputs[target] += count

    def example(self, target: str) -> None:
        with self._lock:
            self.examples[target] += 1

    def sample(self, name: str, count: int) -> None:
        with self._lock:
            self.samples[name] += count

    def fault(self, family: str, scenario: str, lost: int, duplicated: int, **details: Any) -> None:
        with self._lock:
            self.faults.append(
                {"family": family, "scenario": scenario, "lost": lost, "duplicated": duplicated, **details}
            )

    def lost_and_duplicated(self, lost: int, duplicated: int, target: str) -> None:
        """Losses found outside the fault scenarios (fuzzing, concurrency) count in the totals too."""
        if lost or duplicated:
            self.fault("invariant", target, lost, duplicated)

    @property
    def empty(self) -> bool:
        return not self.inputs and not self.faults and not self.samples

    def summary(self) -> dict[str, Any]:
        families = Counter(row["family"] for row in self.faults)
        return {
            "command": COMMAND,
            "duration_seconds": round(time.monotonic() - self.started, 1),
            "faults_tried": len(self.faults),
            "faults_by_family": dict(sorted(families.items())),
            "inputs_tried": sum(self.inputs.values()),
            "inputs_by_target": dict(sorted(self.inputs.items())),
            "hypothesis_examples": sum(self.examples.values()),
            "examples_by_target": dict(sorted(self.examples.items())),
            "samples": dict(sorted(self.samples.items())),
            "data_lost": sum(row["lost"] for row in self.faults),
            "data_duplicated": sum(row["duplicated"] for row in self.faults),
            "fault_runs": self.faults,
        }

    def write(self, path: Path = REPORT) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2, ensure_ascii=False) + "\n")
        return path


LEDGER = Ledger()
