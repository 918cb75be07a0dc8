"""``python -m bench``: a benchmark that crashes or leaves a figure out fails the run; timings never do."""

from __future__ import annotations

import sys
from types import ModuleType

import pytest

import bench.__main__ as runner
from bench.figures import Figures, Row


def benchmark(monkeypatch: pytest.MonkeyPatch, name: str, figures: Figures | Exception) -> None:
    module = ModuleType(f"bench.{name}")

    def report(argv: list[str]) -> Figures:
        assert argv == ["--one-round"]
        if isinstance(figures, Exception):
            raise figures
        return figures

    def rows(found: Figures) -> list[Row]:
        return [(name, f"{found['ms']} ms", "—")]

    module.QUICK = ("--one-round",)  # type: ignore[attr-defined]
    module.report = report  # type: ignore[attr-defined]
    module.rows = rows  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)


def test_a_benchmark_that_completes_gives_its_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    benchmark(monkeypatch, "steady", {"ms": 12.5})
    assert runner.run_one("steady", quick=True) == [("steady", "12.5 ms", "—")]


@pytest.mark.parametrize(
    "figures",
    [RuntimeError("crashed"), {}, {"ms": float("nan")}, {"ms": None}, {"ms": True}],
    ids=["crash", "no figures", "nan", "none", "bool"],
)
def test_a_benchmark_that_crashes_or_reports_nothing_fails(
    monkeypatch: pytest.MonkeyPatch, figures: Figures | Exception
) -> None:
    benchmark(monkeypatch, "broken", figures)
    assert runner.run_one("broken", quick=True) is None


def test_the_run_fails_when_one_benchmark_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    benchmark(monkeypatch, "steady", {"ms": 1.0})
    benchmark(monkeypatch, "broken", RuntimeError("crashed"))
    monkeypatch.setattr(runner, "BENCHMARKS", ("steady", "broken"))
    assert runner.main(["--quick", "steady"]) == 0
    assert runner.main(["--quick"]) == 1
