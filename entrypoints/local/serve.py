"""``manga-assist serve``: the whole system in one process, with the handlers that are deployed."""

from __future__ import annotations

import argparse
import os
import socket
import sys

from aiohttp import web

from entrypoints.authorizer_container import build_authorizer_container, set_authorizer_container
from entrypoints.aws_access import NoAwsCredentials, require_credentials
from entrypoints.container import Container, build_container, set_container
from entrypoints.local import log_format
from entrypoints.local.app import make_app
from entrypoints.local.environment import (
    ServeOptions,
    apply,
    display_host,
    reaches_aws,
    server_environment,
)
from entrypoints.settings import ConfigurationError

SHUTDOWN_SECONDS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on; 0 picks a free one")
    parser.add_argument(
        "--store", choices=("memory", "dynamodb"), help="session store (default: SESSION_STORE, else memory)"
    )
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="a local stand-in of DynamoDB, its Streams and SQS, e.g. a moto server",
    )
    parser.add_argument("--llm", choices=("fake", "bedrock"), help="model (default: LLM_PROVIDER, else fake)")
    parser.add_argument("--workers", type=int, default=64, help="threads running handlers (default 64)")
    parser.add_argument(
        "--auth",
        choices=("jwt", "guest", "none"),
        help="who may connect: tokens only, guests too, or the query string's customer_id "
        "(default: AUTH_MODE, else guest)",
    )
    parser.add_argument(
        "--open-management-api",
        action="store_true",
        help="answer /@connections from any address (default: loopback callers only)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text: one readable line per event (default); json: the deployed functions' JSON lines",
    )
    parser.add_argument(
        "--verbose", action="store_true", help="debug lines, and the metrics (CloudWatch EMF) lines too"
    )


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=1024)


def prepare(container: Container) -> None:
    """Resolve the store and the model now, so that a misconfiguration shows at start, not at the
    first connection. (Building clients does no network I/O.)"""
    container.adapters.repository()
    container.adapters.llm()


def banner(options: ServeOptions, port: int) -> str:
    base = f"{display_host(options.host)}:{port}"
    return "\n".join(
        [
            f"MangaAssist is running ({options.store} store, {options.llm} model, {options.auth} auth)",
            f"  chat page       http://{base}/",
            f"  agent console   http://{base}/agent",
            f"  WebSocket       ws://{base}/ws",
            f"  Management API  http://{base}/@connections/{{connection_id}}",
            "Press Ctrl-C to stop.",
        ]
    )


def run(args: argparse.Namespace) -> int:
    log_format.configure(args.log_format, verbose=args.verbose)
    if not args.verbose:
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF blobs between the lines
    options = ServeOptions(
        host=args.host,
        port=args.port,
        store=args.store,
        endpoint_url=args.endpoint_url,
        llm=args.llm,
        workers=args.workers,
        auth=args.auth,
        open_management_api=args.open_management_api,
    ).resolved(os.environ)
    try:
        listener = listen(options.host, options.port)
    except OSError as error:
        print(f"cannot listen on {options.host}:{options.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    port = listener.getsockname()[1]
    apply(server_environment(options, port, os.environ))
    try:
        if reaches_aws(options):
            require_credentials()
        container = build_container(dict(os.environ))
        prepare(container)
        # The authorizer's configuration too, so that a token setup that cannot work says so now.
        authorizer = build_authorizer_container(dict(os.environ))
        authorizer.authenticate()
        set_authorizer_container(authorizer)
    except (ConfigurationError, NotImplementedError, ValueError, NoAwsCredentials) as error:
        print(f"cannot start: {error}", file=sys.stderr)
        listener.close()
        return 2
    set_container(container)
    region = container.config.region()
    app = make_app(options, port, region)
    print(banner(options, port), flush=True)
    try:
        web.run_app(app, sock=listener, print=None, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
    finally:
        set_container(None)
        set_authorizer_container(None)
    print("stopped", flush=True)
    return 0
