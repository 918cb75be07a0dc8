"""``manga-assist serve``: the whole system in one process, with the handlers that are deployed."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys

from aiohttp import web

from entrypoints.authorizer_container import build_authorizer_container, set_authorizer_container
from entrypoints.container import Container, build_container, set_container
from entrypoints.lambda_logging import logger as lambda_logger
from entrypoints.local.app import make_app
from entrypoints.local.environment import ServeOptions, apply, display_host, server_environment
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
        help="DynamoDB endpoint, e.g. a moto server (sets AWS_ENDPOINT_URL_DYNAMODB)",
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


def configure_logging() -> None:
    """Standard loggers to stderr, as the Lambda runtime does; the handlers' Powertools logger
    already writes its JSON lines itself, so it is not printed twice."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(lambda record: record.name != lambda_logger.name)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("botocore").setLevel(logging.WARNING)
    # Every handler thread shares one Management API client, whose pool keeps 10 connections: past
    # 10 concurrent pushes urllib3 opens extra ones and warns as it drops them. Harmless here.
    logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


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
            f"  WebSocket       ws://{base}/ws",
            f"  Management API  http://{base}/@connections/{{connection_id}}",
            "Press Ctrl-C to stop.",
        ]
    )


def run(args: argparse.Namespace) -> int:
    configure_logging()
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
        container = build_container(dict(os.environ))
        prepare(container)
        # The authorizer's configuration too, so that a token setup that cannot work says so now.
        authorizer = build_authorizer_container(dict(os.environ))
        authorizer.authenticate()
        set_authorizer_container(authorizer)
    except (ConfigurationError, NotImplementedError, ValueError) as error:
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
