"""The authorizer's cold start and warm verification.

Cold: a fresh interpreter imports ``entrypoints.authorizer`` and answers one REQUEST event whose
RS256 token must be checked against a key set it fetches from a local HTTP server (as from Cognito's
``/.well-known/jwks.json``), timed from spawn to exit. Beside it, in the same run and alternated: a
bare Python process (``python -c pass``), the floor every Lambda pays. Warm: in one process, after
that first verification, the handler's time per call (key set cached), median of many.

Both run in the runtime-only virtualenv of ``bench.cold_start`` (what the Lambda package ships).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.cold_start import runtime_python, timed
from bench.figures import Figures, Row

ISSUER = "https://issuer.example/pool"

EVENT = """
import json, os, sys
event = {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:1:abc/prod/$connect",
         "headers": {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]},
         "requestContext": {"connectionId": "BFHPhfCWIAMCKlQ=", "requestId": "r1", "routeKey": "$connect"}}
"""
COLD = (
    EVENT
    + """
from entrypoints import authorizer
assert authorizer.handler(event, None)["context"]["customer_id"] == "cust-bench"
"""
)
WARM = (
    EVENT
    + """
import time
t0 = time.perf_counter()
from entrypoints import authorizer
assert authorizer.handler(event, None)["context"]["customer_id"] == "cust-bench"
first = (time.perf_counter() - t0) * 1000
times = []
for _ in range(int(os.environ["BENCH_CALLS"])):
    t = time.perf_counter()
    authorizer.handler(event, None)
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(json.dumps({"first_ms": first, "warm_median_ms": times[len(times) // 2]}))
"""
)
# Lambda freezes a sandbox after the answer and never waits for an interpreter's teardown (here
# ~200 ms of collecting what the imports built): the time to the answer is what a handshake waits.
ANSWERED = COLD + "\nos._exit(0)\n"
BARE = "pass"


def key_set_server(body: bytes) -> tuple[ThreadingHTTPServer, list[int]]:
    fetches: list[int] = []

    class KeySet(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fetches.append(1)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeySet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, fetches


QUICK = ("--rounds", "1", "--calls", "10", "--python", sys.executable)


def report(argv: list[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="bench.authorizer")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=2000, help="warm calls in one process")
    parser.add_argument("--python", help="interpreter to use (default: a runtime-only venv)")
    args = parser.parse_args(argv)
    from joserfc import jwk, jwt

    key = jwk.RSAKey.generate_key(2048, parameters={"kid": "bench-1"})
    now = int(time.time())
    token = jwt.encode(
        {"alg": "RS256", "kid": "bench-1"}, {"sub": "cust-bench", "iss": ISSUER, "exp": now + 3600}, key
    )
    body = json.dumps({"keys": [{**key.as_dict(private=False), "alg": "RS256", "use": "sig"}]}).encode()
    python = Path(args.python) if args.python else runtime_python()
    server, fetches = key_set_server(body)
    try:
        host, port = server.server_address[:2]
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "AUTH_MODE": "jwt",
            "AUTH_JWKS_URL": f"http://{host!s}:{port}/.well-known/jwks.json",
            "AUTH_ISSUER": ISSUER,
            "BENCH_TOKEN": token,
            "BENCH_CALLS": str(args.calls),
        }
        for code in (COLD, BARE):  # warm the page cache and .pyc files
            timed(python, code, env)
        cold, answered, bare = [], [], []
        for _ in range(args.rounds):
            cold.append(timed(python, COLD, env))
            answered.append(timed(python, ANSWERED, env))
            bare.append(timed(python, BARE, env))
        warm_runs = [
            json.loads(
                subprocess.run(
                    [str(python), "-c", WARM], env=env, check=True, cwd="/", capture_output=True, text=True
                ).stdout
            )
            for _ in range(3)
        ]
    finally:
        server.shutdown()
    result = {
        "rounds": args.rounds,
        "cold_median_ms": round(statistics.median(cold), 1),
        "cold_to_answer_median_ms": round(statistics.median(answered), 1),
        "bare_python_median_ms": round(statistics.median(bare), 1),
        "cold_minus_bare_ms": round(statistics.median(cold) - statistics.median(bare), 1),
        "first_verify_in_process_ms": round(statistics.median(r["first_ms"] for r in warm_runs), 1),
        "warm_verify_median_ms": round(statistics.median(r["warm_median_ms"] for r in warm_runs), 3),
        "key_set_fetches": len(fetches),
        "processes": 2 + 3 * args.rounds + len(warm_runs),
    }
    print("| process | median ms |\n|---|---|")
    print(
        f"| authorizer: fresh process, import, fetch the key set, verify RS256 | {result['cold_median_ms']} |"
    )
    print(f"| the same, to the answer (no interpreter teardown) | {result['cold_to_answer_median_ms']} |")
    print(f"| bare Python (`python -c pass`) | {result['bare_python_median_ms']} |")
    print(f"| import + first verify, inside the process | {result['first_verify_in_process_ms']} |")
    print(f"| warm verify (key set cached), per call | {result['warm_verify_median_ms']} |")
    print(json.dumps(result))
    if result["key_set_fetches"] != 1 + 2 * args.rounds + len(warm_runs):  # one per verifying process
        raise RuntimeError(f"the key set was fetched {result['key_set_fetches']} times")
    return result


def rows(figures: Figures) -> list[Row]:
    return [
        (
            "authorizer: fresh process to a verified RS256 token (key set fetched from a local server)",
            f"{figures['cold_to_answer_median_ms']:.0f} ms",
            f"bare `python -c pass` {figures['bare_python_median_ms']:.0f} ms, same run; warm verify "
            f"**{figures['warm_verify_median_ms']:.3f} ms**",
        )
    ]


def main(argv: list[str]) -> int:
    report(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
