"""The Lambda package's size: ``make package``'s tree and zip (our code and requirements.lock installed
as wheels for the functions' runtime), against Lambda's 250 MiB unzipped limit.

``--code-only`` builds it without the dependencies, which needs no package index: what the quick
mode checks (that the build still runs), not the figure of BENCHMARKS.md."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.figures import ROOT, Figures, Row
from deploy import package

QUICK = ("--code-only",)
MIB = 2**20


def report(argv: Sequence[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.package_size", description=__doc__)
    parser.add_argument("--code-only", action="store_true", help="without the dependencies (no index)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-package-") as build_dir:
        archive = package.build(
            Path(build_dir), ROOT / "requirements.lock", with_dependencies=not args.code_only
        )
        unzipped = package.tree_size(Path(build_dir) / "lambda")
        zipped = archive.stat().st_size
    print(
        f"{'code only' if args.code_only else 'code and dependencies'}, arm64, Python "
        f"{package.PYTHON_VERSION}: {zipped / MIB:.1f} MiB zipped, {unzipped / MIB:.1f} MiB unzipped"
    )
    return {
        "zipped_mib": round(zipped / MIB, 1),
        "unzipped_mib": round(unzipped / MIB, 1),
        "limit_mib": package.LAMBDA_UNZIPPED_LIMIT / MIB,
    }


def rows(figures: Figures) -> list[Row]:
    return [
        (
            f"Lambda package (arm64, Python {package.PYTHON_VERSION})",
            f"{figures['zipped_mib']:.1f} MiB zipped, {figures['unzipped_mib']:.1f} MiB unzipped",
            f"Lambda's limit {figures['limit_mib']:.0f} MiB unzipped",
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    report(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
