"""Turn mutmut's results into the mutation score per file (``make mutation``).

A surviving mutant is one of three things, and the report says which:
- *equivalent*: listed in ``equivalent.toml`` with the reason no behaviour can tell it apart;
- *text only*: it changes only the words of an exception or a log line (the error's class, and so its
  code, is untouched) — allowed to survive, shown apart, and still counted against the score;
- *a gap*: a behaviour no test guards. These are the ones to close.

The score is killed / (all - equivalent), timeouts counted as killed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).parent
KILLED = {"killed", "timeout"}
_STRING = re.compile(r"""(?:[rbfu]{0,2})("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_TEXT_CALL = re.compile(r"^\s*(raise\s+\w+\(|log(?:ger)?\.\w+\()")


def results(mutmut: str) -> dict[str, str]:
    out = subprocess.run([mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True)
    statuses: dict[str, str] = {}
    for line in out.stdout.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            statuses[name] = status.strip()
    return statuses


def source_file(mutant: str) -> str:
    module = mutant.split(".x\u01c1", 1)[0].rsplit(".x_", 1)[0]
    return module.replace(".", "/") + ".py"


def diff_lines(mutmut: str, mutant: str) -> tuple[list[str], list[str]]:
    out = subprocess.run([mutmut, "show", mutant], capture_output=True, text=True, check=False).stdout
    removed = [line[1:] for line in out.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in out.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return removed, added


def text_only(removed: Iterable[str], added: Iterable[str]) -> bool:
    """Only the words of a ``raise X("…")`` or a log call changed (a string, or a string made None)."""
    removed, added = list(removed), list(added)
    if not removed or len(removed) != len(added):
        return False
    for old, new in zip(removed, added, strict=True):
        if not _TEXT_CALL.match(old):
            return False
        blank_old = _STRING.sub("S", old)
        blank_new = _STRING.sub("S", new).replace("None", "S")
        if blank_old != blank_new:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")))
    parser.add_argument("--out", default="artifacts/mutation.md")
    parser.add_argument("--min-score", type=float, default=0.0, help="exit 1 below this score (percent)")
    args = parser.parse_args(argv)

    equivalent: dict[str, str] = tomllib.loads((HERE / "equivalent.toml").read_text())["equivalent"]
    per_file: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for mutant, status in sorted(results(args.mutmut).items()):
        bucket = per_file[source_file(mutant)]
        if status in KILLED:
            bucket["killed"].append(mutant)
        elif mutant in equivalent:
            bucket["equivalent"].append(mutant)
        elif status == "survived" and text_only(*diff_lines(args.mutmut, mutant)):
            bucket["text only"].append(mutant)
        else:
            bucket[status].append(mutant)

    lines = [
        "| file | mutants | killed | equivalent | text only | gaps | score |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    total_killed = total_counted = 0
    for path, bucket in sorted(per_file.items()):
        count = sum(len(v) for v in bucket.values())
        killed, eq, text = len(bucket["killed"]), len(bucket["equivalent"]), len(bucket["text only"])
        gaps = count - killed - eq - text
        counted = count - eq
        total_killed, total_counted = total_killed + killed, total_counted + counted
        score = 100.0 * killed / counted if counted else 100.0
        lines.append(f"| `{path}` | {count} | {killed} | {eq} | {text} | {gaps} | {score:.1f}% |")
    total = 100.0 * total_killed / total_counted if total_counted else 100.0
    lines.append(f"| **all** | | {total_killed} | | | | **{total:.1f}%** |")
    lines.append("")
    for _path, bucket in sorted(per_file.items()):
        for kind, names in sorted(bucket.items()):
            if kind == "killed":
                continue
            for name in names:
                reason = f": {equivalent[name]}" if name in equivalent else ""
                lines.append(f"- {kind}: `{name}`{reason}")
    report = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(report)
    print(report)
    return 1 if total < args.min_score else 0


if __name__ == "__main__":
    sys.exit(main())
