"""Time to first chunk: what streaming buys the user over the original wait for the whole reply.

The real ``message`` handler answers ``sendMessage`` frames with the fake model paced like a real
one (300 ms to the first token, then 50 tokens/s, 200 tokens), and pushes with the real
``ApiGatewayNotifier`` and boto3 client over HTTP to a local stand-in of the Management API
(``testing/management_api_standin.py``) that timestamps each POST on arrival. Per reply: the time
from the frame entering the handler to the first ``chunk`` arriving, to the ``message`` frame
arriving (the whole reply: all the original design ever showed its user), and the
``post_to_connection`` calls made.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import statistics
import time
from typing import Any

import boto3
from attrs import frozen
from dependency_injector import providers

from adapters.fake_llm import FakeLanguageModel
from bench.figures import TIMES, Figures, Row
from entrypoints import connect, message
from entrypoints.container import build_container, set_container
from testing.management_api_standin import ManagementApiStandIn

FIRST_TOKEN_MS = 300
TOKENS_PER_SECOND = 50
REPLY_TOKENS = 200
GOAL_RATIO = 0.1


@frozen
class Reply:
    first_chunk_ms: float
    whole_reply_ms: float
    handler_ms: float
    posts: int
    chunks: int
    chars: int

    @property
    def ratio(self) -> float:
        return self.first_chunk_ms / self.whole_reply_ms


def event(route: str, connection_id: str, **fields: Any) -> dict[str, Any]:
    context = {
        "routeKey": route,
        "connectionId": connection_id,
        "domainName": "bench.local",
        "stage": "prod",
        "requestId": f"req-{time.monotonic_ns()}",
        "messageId": f"msg-{time.monotonic_ns()}",
    }
    return {"requestContext": context, **fields}


def one_reply(standin: ManagementApiStandIn, number: int) -> Reply:
    connection_id = f"benchTtft{number:04d}="
    assert (
        connect.handler(event("$connect", connection_id, queryStringParameters={"customer_id": "c1"}), None)[
            "statusCode"
        ]
        == 200
    )
    body = json.dumps(
        {
            "action": "sendMessage",
            "message": "Can you recommend manga like Frieren?",
            "message_id": f"m-{number}",
        }
    )
    already = len(standin.posts)
    start = time.perf_counter()
    assert message.handler(event("$default", connection_id, body=body), None)["statusCode"] == 200
    handler_done = time.perf_counter()
    posts = [(p.at, p.frame) for p in standin.posts[already:] if p.connection_id == connection_id]
    chunks = [(at, frame) for at, frame in posts if frame["type"] == "chunk"]
    [(whole_at, whole)] = [(at, frame) for at, frame in posts if frame["type"] == "message"]
    return Reply(
        first_chunk_ms=(chunks[0][0] - start) * 1000,
        whole_reply_ms=(whole_at - start) * 1000,
        handler_ms=(handler_done - start) * 1000,
        posts=len(posts),
        chunks=len(chunks),
        chars=len(whole["content"]),
    )


def run(replies: int, first_token_ms: float, tokens_per_second: float) -> list[Reply]:
    with ManagementApiStandIn() as standin:
        container = build_container({"WEBSOCKET_CALLBACK_URL": standin.url + "/prod"})
        model = FakeLanguageModel(
            first_token_ms=first_token_ms, tokens_per_second=tokens_per_second, reply_words=REPLY_TOKENS
        )
        container.adapters.llm.override(providers.Object(model))
        session = boto3.session.Session(
            aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
        )
        container.adapters.boto_session.override(providers.Object(session))
        set_container(container)
        try:
            one_reply(standin, 0)  # warm-up: the boto3 client is made on the first push
            return [one_reply(standin, n) for n in range(1, replies + 1)]
        finally:
            set_container(None)


QUICK = ("--replies", "1", "--first-token-ms", "10", "--tokens-per-second", "2000")


def report(argv: list[str]) -> Figures:
    parser = argparse.ArgumentParser(prog="python -m bench.ttft", description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=7, help="replies measured after one warm-up")
    parser.add_argument("--first-token-ms", type=float, default=FIRST_TOKEN_MS)
    parser.add_argument("--tokens-per-second", type=float, default=TOKENS_PER_SECOND)
    args = parser.parse_args(argv)
    with contextlib.redirect_stdout(io.StringIO()):  # the handlers' metrics (EMF) print to stdout
        replies = run(args.replies, args.first_token_ms, args.tokens_per_second)

    def median(values: list[float]) -> float:
        return statistics.median(values)

    first = median([r.first_chunk_ms for r in replies])
    whole = median([r.whole_reply_ms for r in replies])
    ratio = median([r.ratio for r in replies])
    posts = median([r.posts for r in replies])
    chars = median([r.chars for r in replies])
    expected_posts = max(whole / 100, chars / 200) + 1
    print(
        f"{len(replies)} replies of {REPLY_TOKENS} tokens (~{chars:.0f} characters), model paced at "
        f"{args.first_token_ms:g} ms to the first token and {args.tokens_per_second:g} tokens/s; medians:"
    )
    print("| measure | value |\n|---|---|")
    print(f"| frame in -> first chunk arrives | {first:.0f} ms |")
    print(f"| frame in -> whole reply (`message` frame) arrives | {whole:.0f} ms |")
    print(f"| handler returns | {median([r.handler_ms for r in replies]):.0f} ms |")
    print(f"| **first chunk / whole reply** | **{ratio:.3f}** (goal <= {GOAL_RATIO}) |")
    chunks = median([r.chunks for r in replies])
    print(
        f"| post_to_connection calls per reply | {posts:.0f} ({chunks:.0f} chunks + 1 message); "
        f"one per 100 ms or 200 characters + 1 would be {expected_posts:.0f} |"
    )
    print(
        "per reply (first chunk ms, whole ms, posts): "
        + ", ".join(f"({r.first_chunk_ms:.0f}, {r.whole_reply_ms:.0f}, {r.posts})" for r in replies)
    )
    return {
        "first_chunk_ms": first,
        "whole_reply_ms": whole,
        "ratio": ratio,
        "posts": posts,
        "deltas": REPLY_TOKENS,
        "first_token_ms": args.first_token_ms,
        "tokens_per_second": args.tokens_per_second,
    }


def rows(figures: Figures) -> list[Row]:
    model = (
        f"{figures['first_token_ms']:g} ms + {figures['tokens_per_second']:g} tok/s model, "
        f"{figures['deltas']:g} tokens"
    )
    return [
        (
            f"time to first chunk ({model})",
            f"{figures['first_chunk_ms']:,.0f} ms",
            f"whole reply {figures['whole_reply_ms']:,.0f} ms: **{figures['ratio']:.3f}{TIMES}** "
            f"(goal ≤ {GOAL_RATIO})",
        ),
        (
            f"pushes per {figures['deltas']:g}-token reply",
            f"{figures['posts']:.0f}",
            f"{figures['deltas']:g} deltas",
        ),
    ]


def main(argv: list[str]) -> int:
    report(argv)
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
