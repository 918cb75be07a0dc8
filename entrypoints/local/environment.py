"""The environment the local server gives the handlers (docs/PROTOCOL.md §13): the Management API
is this server, the store and model are chosen by flags, and AWS (or a local stand-in) is reached by
the rule of ``entrypoints.aws_access``."""

from __future__ import annotations

import os
from collections.abc import Mapping

from attrs import evolve, field, frozen

from entrypoints.aws_access import aws_environment, endpoint_from, has_credentials
from entrypoints.local.limits import GatewayLimits

__all__ = ["ServeOptions", "has_credentials", "reaches_aws", "server_environment"]


@frozen
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    store: str | None = None  # memory | dynamodb; None: SESSION_STORE, else memory
    endpoint_url: str | None = None  # a local stand-in of DynamoDB, its Streams and SQS (moto)
    llm: str | None = None  # fake | bedrock; None: LLM_PROVIDER, else fake
    workers: int = 64
    auth: str | None = None  # jwt | guest | none; None: AUTH_MODE, else guest
    open_management_api: bool = False  # answer /@connections from any address, not only loopback
    limits: GatewayLimits = field(factory=GatewayLimits)

    def resolved(self, env: Mapping[str, str]) -> ServeOptions:
        """Flags win; the environment (docs/PROTOCOL.md §13) fills what they leave out."""
        return evolve(
            self,
            store=(self.store or env.get("SESSION_STORE", "").strip().lower() or "memory"),
            llm=(self.llm or env.get("LLM_PROVIDER", "").strip().lower() or "fake"),
            auth=(self.auth or env.get("AUTH_MODE", "").strip().lower() or "guest"),
            endpoint_url=endpoint_from(self.endpoint_url, env),
        )


def display_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def callback_host(host: str) -> str:
    """Where the handlers reach this server: a wildcard address listens everywhere but is no
    destination, so they use the loopback address of its family."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)


def reaches_aws(options: ServeOptions) -> bool:
    """Whether some request would go to real AWS (and so needs the real credential chain)."""
    return options.llm == "bedrock" or (options.store == "dynamodb" and not options.endpoint_url)


def server_environment(options: ServeOptions, port: int, env: Mapping[str, str]) -> dict[str, str]:
    """The variables to set (never to remove) for a server listening on ``port``."""
    options = options.resolved(env)
    changes = {
        "WEBSOCKET_CALLBACK_URL": f"http://{display_host(callback_host(options.host))}:{port}",
        "SESSION_STORE": options.store or "memory",
        "LLM_PROVIDER": options.llm or "fake",
        "AUTH_MODE": options.auth or "guest",
    }
    endpoint = options.endpoint_url if options.store == "dynamodb" else None
    changes.update(aws_environment(endpoint, reaches_aws(options), env))
    return changes


def apply(changes: Mapping[str, str]) -> None:
    os.environ.update(changes)
