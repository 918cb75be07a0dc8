"""``manga-assist``: the one command-line entry. Each subcommand lives in its own module, imported
only when it runs, so that ``manga-assist --help`` stays instant."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# name -> (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "entrypoints.local.serve",
        "run the whole system locally: WebSocket, Management API, chat page",
    ),
    "chat": ("entrypoints.local.terminal", "chat with a running server from the terminal"),
    "create-table": ("entrypoints.commands.create_table", "create the DynamoDB table (GSI, TTL, Streams)"),
    "capacity": ("entrypoints.commands.capacity", "DynamoDB capacity and monthly cost for a message rate"),
    "inspect": ("entrypoints.commands.inspect", "a session's timeline: states, turns, summaries, handoffs"),
    "redrive": ("entrypoints.commands.redrive", "move or replay failed writes from the dead-letter queue"),
    "token": ("entrypoints.commands.token", "mint a development token for a local `serve --auth jwt`"),
    "preflight": ("entrypoints.commands.preflight", "check an AWS account before deploying: model, quotas"),
    "usage": ("entrypoints.commands.usage", "model tokens per customer-day, percentiles, against the limits"),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="manga-assist", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    wanted = (list(argv) if argv is not None else sys.argv[1:])[:1]
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if wanted == [name]:
            module = importlib.import_module(module_name)
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.error(f"unknown command {args.command}")
    return int(args.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
