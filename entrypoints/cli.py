"""``manga-assist``: the one command-line entry. Each subcommand lives in its own module, imported
only when it runs, so that ``manga-assist --help`` stays instant. An expected failure ends in one
line on stderr (``entrypoints.commands.failures``), never a traceback."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

DESCRIPTION = """\
MangaAssist's conversation backend, from the command line: run the whole system on this machine,
talk to it, check a deployment end to end, and look after its table and queues."""

EPILOG = """\
getting started (no AWS account needed):
  manga-assist serve                  the chat page at http://127.0.0.1:8080/
  manga-assist chat                   talk to it from this terminal (in another one)
  manga-assist smoke ws://127.0.0.1:8080/ws
                                      a scripted conversation that checks a server, local or deployed

`manga-assist COMMAND --help` tells a command's options. The protocol: docs/PROTOCOL.md."""

# name -> (module with add_arguments(parser) and run(args) -> int, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "entrypoints.local.serve",
        "run the whole system locally: WebSocket, Management API, chat page",
    ),
    "chat": ("entrypoints.local.terminal", "chat with a running server from the terminal"),
    "smoke": (
        "entrypoints.commands.smoke",
        "check a server, local or deployed, with a scripted conversation",
    ),
    "create-table": ("entrypoints.commands.create_table", "create the DynamoDB table (GSI, TTL, Streams)"),
    "capacity": ("entrypoints.commands.capacity", "DynamoDB capacity and monthly cost for a message rate"),
    "inspect": ("entrypoints.commands.inspect", "a session's timeline: states, turns, summaries, handoffs"),
    "redrive": ("entrypoints.commands.redrive", "move or replay failed writes from the dead-letter queue"),
    "token": ("entrypoints.commands.token", "mint a development token for a local `serve --auth jwt`"),
    "preflight": ("entrypoints.commands.preflight", "check an AWS account before deploying: model, quotas"),
    "usage": ("entrypoints.commands.usage", "model tokens per customer-day, percentiles, against the limits"),
}


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manga-assist",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    wanted = list(argv)[:1]
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if wanted == [name]:
            module = importlib.import_module(module_name)
            module.add_arguments(command)
            command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(argv) if argv is not None else sys.argv[1:]
    args = parser_for(argv).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`manga-assist inspect --json | head`): nothing left to say to it.
        _silence_stdout()
        return 1
    except Exception as error:
        from entrypoints.commands.failures import explain

        reason = explain(error)
        if reason is None:
            raise
        print(f"manga-assist {args.command}: {reason}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    """Python flushes stdout once more at exit, into the same closed pipe: point it at /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


if __name__ == "__main__":
    raise SystemExit(main())
