"""Gateway throughput: N concurrent WebSocket clients x M messages against ``manga-assist serve``.

The server runs in its own process as a user runs it (memory store, fake model at zero latency, the
real handlers, every frame through the real boto3 Management API client and back over HTTP). Each
client connects, asks for its session, then waits for the start; in the timed part it sends M
``sendMessage`` frames one after the other, each as soon as the previous reply's final ``message``
frame arrived. Latency is send -> final ``message`` frame; throughput is all messages / wall time.
The clients share this process and its event loop, on the same 2 cores as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import aiohttp
from attrs import asdict, frozen

from application.errors import ConnectionGone
from bench.figures import LIMITS_NEVER_HIT, TIMES, Figures, Row
from entrypoints.aws_access import DUMMY_CREDENTIALS, has_credentials
from entrypoints.container import build_container

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "gateway.json"
REPLY_TIMEOUT = 30.0
ROUND_BUDGET = 25.0  # seconds: a round stops sending new messages after this, keeping the run bounded


@frozen
class Round:
    clients: int
    messages: int  # answered in the timed part
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def start_server(workers: int) -> tuple[subprocess.Popen[str], str]:
    # Each client is one customer sending 50 messages at once: the default rate (20 a minute) would
    # refuse most of them. The limits' checks still run, as deployed; their cost is bench.limits'.
    env = {
        **os.environ,
        **LIMITS_NEVER_HIT,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "FAKE_LLM_FIRST_TOKEN_MS": "0",
    }
    env["FAKE_LLM_TOKENS_PER_SECOND"] = "0"
    command = [sys.executable, "-m", "entrypoints.cli", "serve", "--host", "127.0.0.1", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        found = re.search(r"WebSocket\s+(ws://\S+)", line)
        if found:
            # Keep draining its output, so that a chatty server never blocks on a full pipe.
            threading.Thread(target=process.stdout.read, daemon=True).start()
            return process, found.group(1)
    raise RuntimeError("serve did not start:\n" + "".join(lines))


async def one_client(
    http: aiohttp.ClientSession, url: str, messages: int, start: asyncio.Barrier, deadline: list[float]
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    async with http.ws_connect(url, params={"customer_id": f"bench-{uuid.uuid4().hex[:12]}"}) as ws:
        await ws.send_str(json.dumps({"action": "session"}))
        await asyncio.wait_for(ws.receive(), REPLY_TIMEOUT)
        await start.wait()
        for n in range(messages):
            if time.perf_counter() > deadline[0]:
                break
            message_id = f"m-{n}"
            frame = {
                "action": "sendMessage",
                "message": "Is volume 3 of Frieren in stock?",
                "message_id": message_id,
            }
            started = time.perf_counter()
            await ws.send_str(json.dumps(frame))
            while True:
                reply = json.loads((await asyncio.wait_for(ws.receive(), REPLY_TIMEOUT)).data)
                if reply["type"] == "error":
                    errors += 1
                    break
                if reply["type"] == "message" and reply.get("reply_to") == message_id:
                    latencies.append(time.perf_counter() - started)
                    break
    return latencies, errors


async def measure(url: str, clients: int, messages: int) -> Round:
    start = asyncio.Barrier(clients + 1)  # every client connected and holding its session, and us
    deadline = [float("inf")]
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = [
            asyncio.create_task(one_client(http, url, messages, start, deadline)) for _ in range(clients)
        ]
        await asyncio.wait_for(start.wait(), REPLY_TIMEOUT)
        started = time.perf_counter()
        deadline[0] = started + ROUND_BUDGET
        results = await asyncio.gather(*tasks)
        seconds = time.perf_counter() - started
    latencies = [value for values, _ in results for value in values]
    return Round(
        clients=clients,
        messages=len(latencies),
        errors=sum(errors for _, errors in results),
        seconds=round(seconds, 2),
        per_second=round(len(latencies) / seconds, 1),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
    )


def push_round_trip_ms(ws_url: str, pushes: int = 300) -> float:
    """One ``post_to_connection`` through the production notifier, to an unknown connection (the
    server's 410 path: everything but the WebSocket write), one after another: what each frame of
    a reply costs in client and server CPU together."""
    http_url = ws_url.replace("ws://", "http://", 1).removesuffix("/ws")
    if not has_credentials(os.environ):
        os.environ.update(DUMMY_CREDENTIALS)  # this process only talks to 127.0.0.1
    notifier = build_container({}).adapters.notifier(endpoint=http_url)
    timings = []
    for _ in range(pushes):
        started = time.perf_counter()
        with contextlib.suppress(ConnectionGone):
            notifier.push("Unknown00000000=", {"type": "ping"})
        timings.append(time.perf_counter() - started)
    return round(statistics.median(timings[pushes // 10 :]) * 1000, 2)


QUICK = ("--clients", "2", "--messages", "2", "--workers", "4")
SUMMARY_CLIENTS = 10  # the summary row's round


def report(argv: Sequence[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway", description=__doc__)
    parser.add_argument(
        "--clients", default="1,10,50,100", help="comma-separated N values (default 1,10,50,100)"
    )
    parser.add_argument("--messages", type=int, default=50, help="messages per client (default 50)")
    parser.add_argument("--workers", type=int, default=64, help="serve --workers (default 64)")
    parser.add_argument("--url", help="measure a server already running at this ws:// URL instead")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.clients.split(",") if n.strip()]

    process, url = (None, args.url) if args.url else start_server(args.workers)
    try:
        asyncio.run(measure(url, min(4, max(counts)), min(10, args.messages)))  # warm-up: clients, caches
        rounds = [asyncio.run(measure(url, n, args.messages)) for n in counts]
        push_ms = push_round_trip_ms(url)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)

    header = ("clients", "messages", "errors", "seconds", "msg/s", "p50 ms", "p99 ms")
    print(" ".join(f"{name:>9}" for name in header))
    for r in rounds:
        values = (r.clients, r.messages, r.errors, r.seconds, r.per_second, r.p50_ms, r.p99_ms)
        print(" ".join(f"{value:>9}" for value in values))
    print(f"one Management API push (boto3 -> serve, median of 270): {push_ms} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = {"cpus": os.cpu_count(), "push_ms": push_ms, "rounds": [asdict(r) for r in rounds]}
    RESULTS.write_text(json.dumps(results, indent=2))
    failed = sum(r.errors for r in rounds)
    if failed:
        raise RuntimeError(f"{failed} messages were answered with an error frame")
    summary = min(rounds, key=lambda r: abs(r.clients - SUMMARY_CLIENTS))
    return {
        "clients": summary.clients,
        "messages": args.messages,
        "per_second": summary.per_second,
        "p50_ms": summary.p50_ms,
        "p99_ms": summary.p99_ms,
        "push_ms": push_ms,
    }


def rows(figures: Figures) -> list[Row]:
    return [
        (
            f"gateway, {figures['clients']:g} clients {TIMES} {figures['messages']:g} messages, "
            "zero-latency model",
            f"{figures['per_second']:.0f} msg/s, p50 {figures['p50_ms']:.0f} ms, "
            f"p99 {figures['p99_ms']:.0f} ms",
            "—",
        )
    ]


def main(argv: Sequence[str] | None = None) -> int:
    report(sys.argv[1:] if argv is None else argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
