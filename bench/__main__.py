"""Runs every benchmark in one process tree, one after the other, and prints their reports."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["cold_start", "authorizer", "message_path", "ttft", "gateway"]


def main() -> int:
    wanted = sys.argv[1:] or BENCHMARKS
    failed = 0
    for name in wanted:
        print(f"\n=== bench.{name} ===", flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            print(f"skipped: {error}")
            continue
        failed += int(bool(module.main([])))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
