"""``manga-assist capacity [--messages-per-second N] [--avg-message-chars C]``: DynamoDB units and the
monthly on-demand bill for a message rate, measured on the real message path.

The measurement is a benchmark (moto, a recording notifier): it lives in ``bench/capacity.py`` with
the other benchmarks, and this command runs it from a clone of the repository with the dev extra."""

from __future__ import annotations

import argparse
import importlib.util
from types import ModuleType

HOW = "manga-assist capacity runs bench/capacity.py: use a clone of the repository with the dev extra"


def _benchmark() -> ModuleType:
    try:
        from bench import capacity
    except ModuleNotFoundError as missing:
        raise SystemExit(f"{HOW} (missing: {missing.name})") from missing
    if importlib.util.find_spec("moto") is None:  # the measurement runs on it, lazily
        raise SystemExit(f"{HOW} (missing: moto)")
    return capacity


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _benchmark().add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    return int(_benchmark().run(args))
