"""``manga-assist redrive``: bring back the writes the turn writer gave up on.

- ``--dlq-url URL [--queue-url URL]``: move the dead-letter queue's messages back to the retry queue
  (default ``RETRY_QUEUE_URL``), for the turn writer to replay;
- ``--dlq-url URL --replay``: replay them here, directly through the turn writer's use case, and say
  what was stored, what was already there and what still fails (those stay in the DLQ);
- ``--server URL``: the same, for the in-process turn writer of a running ``manga-assist serve``."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from entrypoints.aws_access import reaching_aws
from entrypoints.commands import local_server
from entrypoints.commands.failures import CommandFailure


def add_arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--dlq-url", metavar="URL", help="the retry queue's dead-letter queue")
    where.add_argument("--server", metavar="URL", help="a running `manga-assist serve` (memory store)")
    parser.add_argument("--queue-url", metavar="URL", help="where to move them (default RETRY_QUEUE_URL)")
    parser.add_argument("--replay", action="store_true", help="replay here instead of moving them back")
    parser.add_argument("--max", type=int, default=1000, help="read at most this many (default 1000)")
    parser.add_argument("--endpoint-url", metavar="URL", help="AWS endpoint (moto, a local stack)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    report = _from_server(args.server) if args.server else _from_queue(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for outcome, items in report.items():
            print(f"{outcome}: {len(items)}")
            for item in items:
                print(f"  {item}")
    return 1 if report.get("failed") else 0


def _from_server(url: str) -> dict[str, list[str]]:
    return local_server.call(url, "/admin/redrive", body=b"{}")  # type: ignore[no-any-return]


def _from_queue(args: argparse.Namespace) -> dict[str, list[str]]:
    with reaching_aws(args.endpoint_url):
        return _drain_dead_letters(args)


def _drain_dead_letters(args: argparse.Namespace) -> dict[str, list[str]]:
    from adapters.sqs_dead_letters import SqsDeadLetters
    from entrypoints.container import build_container

    container = build_container(dict(os.environ))
    letters = SqsDeadLetters(container.adapters.sqs_client(), args.dlq_url)
    if args.replay:
        return _replay(container, letters, args.max)
    queue_url = args.queue_url or container.config.retry_queue_url()
    if not queue_url:
        raise CommandFailure("no --queue-url and no RETRY_QUEUE_URL: where should they go?")
    moved: list[str] = []
    for batch in letters.receive(args.max):
        moved.extend(letter.message_id for letter in letters.move_to(queue_url, batch))
    return {"moved": moved}


def _replay(container: Any, letters: Any, limit: int) -> dict[str, list[str]]:
    from adapters.retry_message import decode_pending_write
    from application.replay import Replayed
    from entrypoints.container import message_bus

    bus = message_bus(container)
    report: dict[str, list[str]] = {"stored": [], "already_stored": [], "session_gone": [], "failed": []}
    for batch in letters.receive(limit):
        done = []
        for letter in batch:
            try:
                write = decode_pending_write(letter.body)
                (outcome,) = bus.handle(write)
                assert isinstance(outcome, Replayed)
            except Exception as error:
                report["failed"].append(f"{letter.message_id}: {type(error).__name__}: {error}")
                continue
            done.append(letter)  # a write whose session is gone has nothing left to be stored in
            report[outcome.value].append(f"{write.session_id}/{write.message_id}")
        # Failed letters stay in the DLQ, invisible until their visibility timeout ends: releasing
        # them now would have this very loop read them again and again.
        letters.delete(done)
    return report
