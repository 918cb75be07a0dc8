"""Who may reach the local server's operator endpoints.

``/admin/...`` reads private conversations and ``/@connections/...`` pushes into anyone's chat: a web
page the developer happens to visit must not reach them from the browser (a cross-origin request
carries the page's ``Origin``; a DNS-rebinding page reaches us under its own ``Host`` name), and
``/@connections`` answers loopback callers only unless ``serve --open-management-api`` says otherwise
(the handlers reach it on the loopback address)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from entrypoints.local.apigw_events import STAGE
from entrypoints.local.environment import ServeOptions

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Any  # aiohttp's own Middleware type is not public
# The Management API answers under the stage too (/local/@connections/...), as a deployed one does.
MANAGEMENT_API_PREFIXES = ("/@connections/", f"/{STAGE}/@connections/")
OPERATOR_PREFIXES = ("/admin/", *MANAGEMENT_API_PREFIXES)


def _forbidden(reason: str) -> web.Response:
    return web.json_response({"message": f"Forbidden: {reason}"}, status=403)


def is_loopback_address(address: str | None) -> bool:
    if not address:
        return False
    try:
        return ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _host_name(host: str) -> str:
    return (urlsplit(f"//{host}").hostname or "").lower()


def same_origin_only(options: ServeOptions) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(OPERATOR_PREFIXES):
            host = request.headers.get("Host", "")
            origin = request.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc.lower() != host.lower():
                return _forbidden("a cross-origin request")
            if not _our_host_name(_host_name(host), options.host):
                return _forbidden("a Host name that is not this server's")
        return await handler(request)

    return guard


def _our_host_name(name: str, bound: str) -> bool:
    """An address, ``localhost`` or the name we were told to listen on; a DNS-rebinding page comes
    under a name of its own."""
    if name in ("localhost", _host_name(bound)):
        return True
    try:
        ip_address(name)
    except ValueError:
        return False
    return True


def loopback_management_api(options: ServeOptions) -> Middleware:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if (
            request.path.startswith(MANAGEMENT_API_PREFIXES)
            and not options.open_management_api
            and not is_loopback_address(request.remote)
        ):
            return _forbidden("the Management API answers loopback callers only")
        return await handler(request)

    return guard
