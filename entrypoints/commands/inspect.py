"""``manga-assist inspect SESSION_ID``: a session's timeline, from DynamoDB at an endpoint or from the
memory store of a running ``manga-assist serve`` (``--server``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
from typing import Any

from application.timeline import SessionTimeline
from domain.errors import SessionNotFound
from entrypoints.aws_access import reaching_aws
from entrypoints.commands import local_server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("session_id")
    parser.add_argument("--json", action="store_true", help="print the timeline as JSON, for tools")
    parser.add_argument("--content", action="store_true", help="include the words of every turn (private!)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--server", metavar="URL", help="a running `manga-assist serve`, e.g. http://127.0.0.1:8080"
    )
    where.add_argument("--endpoint-url", metavar="URL", help="DynamoDB endpoint (implies --store dynamodb)")
    parser.add_argument("--table", help="table name (default: SESSION_TABLE or manga-assist-sessions)")


def run(args: argparse.Namespace) -> int:
    try:
        timeline = _from_server(args) if args.server else _from_store(args)
    except SessionNotFound:
        print(f"no session {args.session_id}", file=sys.stderr)
        return 1
    print(json.dumps(timeline, indent=2) if args.json else render(timeline))
    return 0


def _from_server(args: argparse.Namespace) -> dict[str, Any]:
    query = urllib.parse.urlencode({"content": "1" if args.content else "0"})
    path = f"/admin/sessions/{urllib.parse.quote(args.session_id)}?{query}"
    try:
        return local_server.call(args.server, path, timeout=10)  # type: ignore[no-any-return]
    except local_server.NotFound:
        raise SessionNotFound(args.session_id) from None


def _from_store(args: argparse.Namespace) -> dict[str, Any]:
    from entrypoints.commands.failures import CommandFailure
    from entrypoints.container import build_container

    overrides = {"SESSION_STORE": "dynamodb"} if args.endpoint_url else {}
    if args.table:
        overrides["SESSION_TABLE"] = args.table
    if {**os.environ, **overrides}.get("SESSION_STORE", "memory") == "memory":
        raise CommandFailure(
            "the memory store lives in its server: use --server URL, or --endpoint-url for DynamoDB"
        )
    with reaching_aws(args.endpoint_url):
        container = build_container({**os.environ, **overrides})
        use_case: SessionTimeline = container.use_cases.session_timeline()
        return use_case(args.session_id, with_content=args.content).as_dict()


def render(timeline: dict[str, Any]) -> str:
    head = timeline["session"]
    lines = [f"session {head['session_id']}"]
    if head.get("exists"):
        lines.append(
            f"  customer {head['customer_id'] or '(anonymous)'}  status {head['status']}"
            f"  connection {head['connection_id'] or '-'}  agent {head['agent_id'] or '-'}"
        )
        drift = "" if head["turn_count"] == head["turns_stored"] else f"  (!! {head['turns_stored']} stored)"
        lines.append(
            f"  turns {head['turn_count']}{drift}  created {head['created_at']}  updated {head['updated_at']}"
        )
        lines.append(f"  expires {head['expires_at']}{'  (EXPIRED)' if head['expired'] else ''}")
    else:
        lines.append("  META is gone (expired or deleted); what remains:")
    lines.append("")
    for entry in timeline["timeline"]:
        lines.append(f"  {entry['at']}  {entry['kind']:<10} {_describe(entry)}")
    if timeline["unanswered_message_ids"]:
        lines.append("")
        lines.append("  !! no reply stored for: " + ", ".join(timeline["unanswered_message_ids"]))
        lines.append(
            "     (a failed model call, a reply still in the retry queue, or one in its DLQ: see redrive)"
        )
    return "\n".join(lines)


def _describe(entry: dict[str, Any]) -> str:
    kind = entry["kind"]
    if kind == "turn":
        text = f"{entry['role']:<9} {entry['chars']:>6} chars {entry['tokens']:>6} tokens"
        if entry.get("message_id"):
            text += f"  message {entry['message_id']}"
        if entry.get("agent_id"):
            text += f"  agent {entry['agent_id']}"
        if "content" in entry:
            text += f"\n{'':>38}{entry['content'][:200]!r}"
        return text
    if kind == "summary":
        return f"covers the first {entry['covers_turns']} turns (through {entry['last_turn_id']})"
    if kind == "handoff":
        return f"to agent {entry['agent_id']}: {entry['reason']}"
    if kind == "unanswered":
        lease = entry.get("being_answered_until")
        return f"message {entry['message_id']} has no reply" + (
            f" (being answered until {lease})" if lease else ""
        )
    if kind == "opened":
        return f"by {entry.get('customer_id') or '(anonymous)'}"
    return json.dumps(entry)
