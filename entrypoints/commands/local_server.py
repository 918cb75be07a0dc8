"""Calls to a running ``manga-assist serve``'s operator endpoints (``/admin/...``), with its
failures told plainly: no server there, or an answer that is not the one expected."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from entrypoints.commands.failures import CommandFailure


class NotFound(Exception):
    pass


def call(server: str, path: str, body: bytes | None = None, timeout: float = 60) -> Any:
    """The JSON answer of ``server`` + ``path`` (a POST when there is a body)."""
    url = f"{server.rstrip('/')}{path}"
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise NotFound(path) from None
        raise CommandFailure(f"{url} answered {error.code}: {_message(error)}") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
        raise CommandFailure(f"no server at {server}: is `manga-assist serve` running?") from error
    except ValueError:
        raise CommandFailure(f"{url} did not answer JSON: is that a `manga-assist serve`?") from None


def _message(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("message", error.reason))
    except (ValueError, AttributeError):
        return str(error.reason)
