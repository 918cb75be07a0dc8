"""The adversarial suite's figures: fault scenarios and generated inputs tried, data lost and duplicated.

The suite is tests (``tests/adversarial``, part of ``make test``); this runs it with pytest in a
process of its own and reads the report it writes (``artifacts/adversarial-report.json``). ``--quick``
runs two of its files with a handful of examples each: the report must still come out whole."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence

from bench.figures import ROOT, Figures, Row

REPORT = ROOT / "artifacts" / "adversarial-report.json"
QUICK = ("--quick",)
QUICK_FILES = ("tests/adversarial/test_faults_http_push.py", "tests/adversarial/test_fuzz_frames.py")


def report(argv: Sequence[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.adversarial", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="two files, a few examples each")
    args = parser.parse_args(argv)
    started = time.time()
    env = {**os.environ, "ADVERSARIAL_PROFILE": "quick" if args.quick else "ci"}
    targets = list(QUICK_FILES) if args.quick else ["tests/adversarial"]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *targets]
    done = subprocess.run(command, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the adversarial suite failed (pytest exit {done.returncode})")
    if not REPORT.exists() or REPORT.stat().st_mtime < started:
        raise RuntimeError(f"the suite wrote no report at {REPORT}")
    found = json.loads(REPORT.read_text())
    figures = {
        "faults_tried": found["faults_tried"],
        "hypothesis_examples": found["hypothesis_examples"],
        "inputs_tried": found["inputs_tried"],
        "data_lost": found["data_lost"],
        "data_duplicated": found["data_duplicated"],
        "seconds": found["duration_seconds"],
    }
    print(json.dumps(figures))
    if figures["data_lost"] or figures["data_duplicated"]:
        raise RuntimeError(f"data lost {figures['data_lost']}, duplicated {figures['data_duplicated']}")
    return figures


def rows(figures: Figures) -> list[Row]:
    return [
        (
            "adversarial suite: faults and inputs tried",
            f"{figures['faults_tried']:,.0f} fault scenarios, "
            f"{figures['hypothesis_examples']:,.0f} generated examples "
            f"({figures['inputs_tried']:,.0f} frames and events): "
            f"**{figures['data_lost']:.0f} lost, {figures['data_duplicated']:.0f} duplicated**",
            "goal 0 / 0",
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    report(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
