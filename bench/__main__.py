"""``python -m bench [--quick] [NAME ...]``: every benchmark of BENCHMARKS.md, one after the other, then
the summary table's rows as measured, with the date and commit they were measured at.

A benchmark is a module with ``report(argv) -> Figures`` (it measures, prints its details and returns
the figures of its summary rows), ``rows(figures)`` (those rows, as BENCHMARKS.md's summary shows them)
and ``QUICK`` (the arguments of one or two rounds). ``--quick`` runs every benchmark that way, in a few
seconds each, and checks that each completed and reported every figure: CI runs it so that a benchmark
cannot rot unseen. No timing is ever asserted; a benchmark fails only if it crashes or finds something
structurally wrong (a message taking more DynamoDB calls than the design makes, a lost frame)."""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import traceback

from bench.figures import Figures, Row, measured_at

BENCHMARKS = (
    "cold_start",
    "authorizer",
    "message_path",
    "ttft",
    "gateway",
    "capacity",
    "limits",
    "package_size",
    "adversarial",
)


def missing_figures(figures: Figures) -> list[str]:
    return [
        name
        for name, value in figures.items()
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value)
    ]


def run_one(name: str, quick: bool) -> list[Row] | None:
    print(f"\n=== bench.{name}{' (quick)' if quick else ''} ===", flush=True)
    module = importlib.import_module(f"bench.{name}")
    try:
        figures: Figures = module.report(list(module.QUICK) if quick else [])
    except Exception:
        traceback.print_exc()
        print(f"bench.{name} FAILED: it did not complete")
        return None
    if not figures or missing_figures(figures):
        print(f"bench.{name} FAILED: figures missing or not numbers: {missing_figures(figures) or 'none'}")
        return None
    rows: list[Row] = module.rows(figures)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one or two rounds of each: does it still run?")
    parser.add_argument("names", nargs="*", metavar="NAME", help="some of: " + ", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
    when = measured_at()
    results = {name: run_one(name, args.quick) for name in args.names or BENCHMARKS}
    print(
        f"\n=== summary ({'quick: the figures exist, their values mean nothing' if args.quick else when}) ==="
    )
    print("| what | ours | baseline, same run | measured |\n|---|---|---|---|")
    for name, rows in results.items():
        for what, ours, baseline in rows or [(f"bench.{name}", "FAILED", "")]:
            print(f"| {what} | {ours} | {baseline} | {when} |")
    failed = [name for name, rows in results.items() if rows is None]
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
