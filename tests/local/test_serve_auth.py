"""``manga-assist serve`` behind its authorizer: a token from ``manga-assist token`` lets a customer or
an agent in, ``manga-assist chat`` keeps a guest's resume token and comes back to the same session,
and the operator endpoints answer neither other origins nor other machines."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from entrypoints import disconnect, message
from entrypoints.cli import main
from entrypoints.commands.token import mint
from entrypoints.local.environment import ServeOptions
from entrypoints.local.guards import loopback_management_api, same_origin_only
from entrypoints.local.terminal import converse
from tests.local.server_thread import ServerThread

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
SECRET = "local-serve-shared-secret-0123456789"


async def typed(*lines: str) -> AsyncIterator[str]:
    for line in lines:
        yield line + "\n"


def test_the_token_command_mints_what_serve_accepts(
    start_server: Callable[..., ServerThread], connects: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_server(ServeOptions(host="127.0.0.1", port=0, auth="jwt"), AUTH_HS256_SECRET=SECRET)
    monkeypatch.setenv("AUTH_HS256_SECRET", SECRET)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["token", "--agent", "agent-7"]) == 0
    agent = printed.getvalue().strip()
    customer = mint({"AUTH_HS256_SECRET": SECRET}, "cust-42", agent=False, minutes=5)
    for token in (agent, customer):
        out = io.StringIO()
        assert asyncio.run(converse(server.ws_url, None, None, typed("/quit"), out, token=token)) == 0
    contexts = [e["requestContext"]["authorizer"] for e in connects]
    assert [(c["customer_id"], c["role"]) for c in contexts] == [
        ("agent-7", "agent"),
        ("cust-42", "customer"),
    ]

    out = io.StringIO()
    assert asyncio.run(converse(server.ws_url, "cust-42", None, typed(), out)) == 1
    assert "refused the connection (401)" in out.getvalue(), "jwt mode: no token, no connection"
    forged = mint(
        {"AUTH_HS256_SECRET": "someone-else-s-secret-0123456789"}, "cust-42", agent=False, minutes=5
    )
    out = io.StringIO()
    assert asyncio.run(converse(server.ws_url, None, None, typed(), out, token=forged)) == 1
    assert len(connects) == 2, "refused handshakes never reach $connect"


def test_later_events_of_a_connection_carry_what_the_authorizer_said(
    start_server: Callable[..., ServerThread], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As API Gateway does: principalId and the context reach $default and $disconnect too."""
    seen: list[dict[str, Any]] = []
    for module in (message, disconnect):

        def recorded(event: dict[str, Any], context: Any, real: Handler = module.handler) -> dict[str, Any]:
            seen.append(event)
            return real(event, context)

        monkeypatch.setattr(module, "handler", recorded)
    server = start_server(ServeOptions(host="127.0.0.1", port=0, auth="jwt"), AUTH_HS256_SECRET=SECRET)
    token = mint({"AUTH_HS256_SECRET": SECRET}, "agent-3", agent=True, minutes=5)
    assert asyncio.run(converse(server.ws_url, None, None, typed("/quit"), io.StringIO(), token=token)) == 0
    server.stop()  # waits for the $disconnect
    routes = {e["requestContext"]["routeKey"]: e["requestContext"].get("authorizer") for e in seen}
    assert set(routes) == {"$default", "$disconnect"}
    for context in routes.values():
        assert context is not None
        assert (context["principalId"], context["customer_id"], context["role"]) == (
            "agent-3",
            "agent-3",
            "agent",
        )


def test_the_token_command_needs_the_shared_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_HS256_SECRET", raising=False)
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors):
        assert main(["token"]) == 2
    assert "AUTH_HS256_SECRET" in errors.getvalue()


def test_a_guest_in_the_terminal_comes_back_with_its_resume_token(
    start_server: Callable[..., ServerThread],
) -> None:
    server = start_server(ServeOptions(host="127.0.0.1", port=0, auth="guest"))
    first = io.StringIO()
    asyncio.run(converse(server.ws_url, "cust-i-chose", None, typed("hello"), first))
    hint = re.search(r"\* session (\S+) \(new, active\); resume it with --token (\S+) ", first.getvalue())
    assert hint, first.getvalue()
    session_id, token = hint.groups()

    again = io.StringIO()
    asyncio.run(converse(server.ws_url, None, session_id, typed("/history"), again, token=token))
    assert f"* session {session_id} (resumed, " in again.getvalue()
    assert "user: hello" in again.getvalue()

    stranger = io.StringIO()  # the id alone, without the guest's token, resumes nothing
    asyncio.run(converse(server.ws_url, "cust-i-chose", session_id, typed("/history"), stranger))
    assert f"* session {session_id} " not in stranger.getvalue()
    assert "user: hello" not in stranger.getvalue()


def test_operator_endpoints_refuse_other_origins_and_host_names(server: ServerThread) -> None:
    async def status(path: str, **headers: str) -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.get(server.http_url + path, headers=headers) as answer,
        ):
            return answer.status

    async def scenario() -> dict[str, int]:
        path = "/admin/sessions/no-such-session"
        connection = "/@connections/no-such-connection"
        signed = {
            "Authorization": "AWS4-HMAC-SHA256 Credential=local/20261201/us-east-1/execute-api/aws4_request"
        }
        own = server.http_url
        return {
            "same origin": await status(path, Origin=own),
            "no origin": await status(path),
            "other origin": await status(path, Origin="http://evil.example"),
            "rebinding": await status(path, Host=f"evil.example:{server.port}"),
            "connections, other origin": await status(connection, Origin="http://evil.example", **signed),
            "connections, same origin": await status(connection, Origin=own, **signed),
        }

    assert asyncio.run(scenario()) == {
        "same origin": 404,
        "no origin": 404,
        "other origin": 403,
        "rebinding": 403,
        "connections, other origin": 403,
        "connections, same origin": 410,
    }


@pytest.mark.parametrize(
    ("peer", "open_api", "allowed"),
    [("127.0.0.1", False, True), ("::1", False, True), ("10.0.0.5", False, False), ("10.0.0.5", True, True)],
)
def test_the_management_api_answers_loopback_callers_unless_opened(
    peer: str, open_api: bool, allowed: bool
) -> None:
    guard = loopback_management_api(ServeOptions(host="0.0.0.0", open_management_api=open_api))

    class Transport:
        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return (peer, 5555) if name == "peername" else default

    request = make_mocked_request("POST", "/@connections/abc", transport=Transport())

    async def reached(_: web.Request) -> web.StreamResponse:
        return web.Response(status=200)

    answer = asyncio.run(guard(request, reached))
    assert (answer.status == 200) is allowed
    same = same_origin_only(ServeOptions(host="0.0.0.0"))
    foreign = make_mocked_request("GET", "/admin/sessions/x", headers={"Host": "evil.example"})
    assert asyncio.run(same(foreign, reached)).status == 403
