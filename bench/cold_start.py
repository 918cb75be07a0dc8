"""Cold start: what our layers add to a fresh Lambda process.

Ours: a fresh interpreter imports the WebSocket handlers, connects (memory store) and answers one
``session`` frame, pushing it with the real boto3 Management API client to a local stand-in.
Baseline: a fresh interpreter imports boto3 and posts one frame with a bare
``apigatewaymanagementapi`` client to the same stand-in. The two alternate, in one run.

Both run in a virtualenv holding only the runtime dependencies of requirements.lock (what the Lambda
package ships): the development venv also holds moto, Flask and pydantic, which some libraries
import opportunistically and which would not be in Lambda.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.figures import TIMES, Figures, Row
from testing.management_api_standin import ManagementApiStandIn

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_VENV = ROOT / ".venv-bench-runtime"

OURS = """
import json, sys
from entrypoints import connect, message
ctx = {"connectionId": "BFHPhfCWIAMCKlQ=", "domainName": "x", "stage": "prod", "requestId": "r1"}
assert connect.handler({"requestContext": {**ctx, "routeKey": "$connect"},
                        "queryStringParameters": {"customer_id": "cust-1"}}, None)["statusCode"] == 200
out = message.handler({"requestContext": {**ctx, "routeKey": "$default", "messageId": "m1"},
                       "body": json.dumps({"action": "session"})}, None)
assert out["statusCode"] == 200, out
"""

BASELINE = """
import json, os
import boto3
client = boto3.client("apigatewaymanagementapi", endpoint_url=os.environ["WEBSOCKET_CALLBACK_URL"])
client.post_to_connection(ConnectionId="BFHPhfCWIAMCKlQ=",
                          Data=json.dumps({"type": "session", "session_id": "x"}).encode())
"""


def runtime_python() -> Path:
    python = RUNTIME_VENV / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if not python.exists():
        print(f"building {RUNTIME_VENV.name} (runtime dependencies only)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(RUNTIME_VENV)], check=True)
        subprocess.run([*pip, "-r", str(ROOT / "requirements.lock")], check=True)
    # The code under test, as Lambda gets it: installed, not a link to the work tree.
    subprocess.run([*pip, "--no-deps", "--force-reinstall", str(ROOT)], check=True, capture_output=True)
    return python


def timed(python: Path, code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(python), "-c", code], env=env, check=True, cwd="/", capture_output=True)
    return (time.perf_counter() - start) * 1000


QUICK = ("--rounds", "1", "--python", sys.executable)  # the development venv: no runtime venv to build
GOAL_RATIO = 1.2


def report(argv: list[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--python", help="interpreter to use (default: a runtime-only venv)")
    args = parser.parse_args(argv)
    python = Path(args.python) if args.python else runtime_python()
    with ManagementApiStandIn() as standin:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "WEBSOCKET_CALLBACK_URL": standin.url,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        for code in (OURS, BASELINE):  # warm the page cache and .pyc files
            timed(python, code, env)
        ours, baseline = [], []
        for _ in range(args.rounds):
            ours.append(timed(python, OURS, env))
            baseline.append(timed(python, BASELINE, env))
        frames = len(standin.posts)
    if frames != 2 * (args.rounds + 1):
        raise RuntimeError(f"{2 * (args.rounds + 1)} processes pushed a frame each, but {frames} arrived")
    result = {
        "rounds": args.rounds,
        "ours_median_ms": round(statistics.median(ours), 1),
        "baseline_median_ms": round(statistics.median(baseline), 1),
        "ratio": round(statistics.median(ours) / statistics.median(baseline), 3),
    }
    print(f"| process (median of {args.rounds}) | ms |\n|---|---|")
    print(f"| ours: import handlers, $connect, answer `session` | {result['ours_median_ms']} |")
    print(f"| baseline: import boto3, post one frame | {result['baseline_median_ms']} |")
    print(f"ratio {result['ratio']} (goal <= {GOAL_RATIO}) over {args.rounds} alternated rounds")
    print(json.dumps(result))
    return result


def rows(figures: Figures) -> list[Row]:
    return [
        (
            "cold start: fresh process to one frame pushed",
            f"{figures['ours_median_ms']:.0f} ms",
            f"bare boto3 push {figures['baseline_median_ms']:.0f} ms: **{figures['ratio']:.2f}{TIMES}** "
            f"(goal ≤ {GOAL_RATIO})",
        )
    ]


def main(argv: list[str]) -> int:
    report(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
