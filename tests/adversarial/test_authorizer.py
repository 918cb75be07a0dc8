"""The authorizer under attack. Every credential an attacker might try is refused — 401 for no or a
bad credential, 403 for one that verifies but may not connect — through the Lambda handler (as API
Gateway calls it) and through ``manga-assist serve`` (a real WebSocket handshake), with ``$connect``
never reached, so nothing is written and no model is called. The key set is served over HTTP by a
stand-in issuer (testing/issuer.py)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
from dependency_injector import providers
from yarl import URL

from adapters.jwks import REFETCH_INTERVAL, RETRY_AFTER_FAILURE, JwksKeys
from entrypoints import authorizer, connect
from entrypoints.authorizer_container import build_authorizer_container, set_authorizer_container
from entrypoints.local.environment import ServeOptions
from testing.harness import Chat, connect_event
from testing.issuer import AUDIENCE, HS256_SECRET, ISSUER, Issuer, sign_hs256, unsigned
from tests.local.server_thread import ServerThread

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/$connect"
Make = Callable[[Issuer], str]


def _tampered(issuer: Issuer) -> str:
    header, _, signature = issuer.token().split(".")
    forged = issuer.token(subject="cust-victim").split(".")[1]
    return f"{header}.{forged}.{signature}"


def _confused(issuer: Issuer) -> str:
    """The classic: HS256 'signed' with the issuer's public key, which anyone can download."""
    now = int(time.time())
    claims = {"sub": "cust-1", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 3600}
    return sign_hs256(claims, issuer.public_pem(), {"kid": issuer.rsa.kid})


NOW = int(time.time())
# (id, credential, status): every way in that must stay shut.
REFUSED: list[tuple[str, Make, int]] = [
    ("tampered-signature", _tampered, 401),
    ("expired", lambda i: i.token(exp=int(time.time()) - 120), 401),
    ("not-yet-valid", lambda i: i.token(nbf=int(time.time()) + 300), 401),
    ("issued-in-the-future", lambda i: i.token(iat=int(time.time()) + 300), 401),
    ("no-expiry", lambda i: i.token(exp=None), 401),
    ("wrong-issuer", lambda i: i.token(iss="https://evil.example"), 401),
    ("wrong-audience", lambda i: i.token(aud="another-app"), 401),
    ("wrong-client-id", lambda i: i.token(aud=None, client_id="another-app"), 401),
    (
        "alg-none",
        lambda _i: unsigned({"sub": "cust-1", "iss": ISSUER, "aud": AUDIENCE, "exp": NOW + 999}),
        401,
    ),
    ("hs256-with-the-public-key", _confused, 401),
    ("unknown-kid", lambda i: i.with_header({"kid": "rotated-away"}), 401),
    ("no-kid", lambda i: i.with_header({}), 401),
    ("es256-naming-the-rsa-key", lambda i: i.token(alg="ES256", kid_of="rsa-1"), 401),
    ("encrypted-form", lambda _i: "a.b.c.d.e", 401),
    ("garbage", lambda _i: "not a token at all", 401),
    ("100-kb-token", lambda i: i.token(padding="x" * 100_000), 401),
    ("subject-not-printable", lambda i: i.token(subject="cust-\x07\u202e"), 403),
    ("subject-a-guest-id", lambda i: i.token(subject="guest:someone-else"), 403),
    ("no-subject", lambda i: i.token(subject=None), 401),
]
REFUSED_CASES = [pytest.param(make, status, id=case) for case, make, status in REFUSED]


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    with Issuer() as served:
        yield served


@pytest.fixture
def configure() -> Iterator[Callable[..., Any]]:
    def install(**env: str) -> Any:
        container = build_authorizer_container(env)
        set_authorizer_container(container)
        return container

    yield install
    set_authorizer_container(None)


def authorize(credential: str | None, carrier: str = "header", **query: str) -> tuple[int, dict[str, Any]]:
    """Call the handler as API Gateway does: (200, policy) for an Allow, else API Gateway's answer."""
    event = authorizer_event(credential, carrier, **query)
    try:
        decision = authorizer.handler(event, None)
    except Exception as error:
        if str(error) != "Unauthorized":  # API Gateway's 401 is this exact message; anything else is a bug
            raise
        return 401, {}
    effect = decision["policyDocument"]["Statement"][0]["Effect"]
    assert decision["policyDocument"]["Statement"][0]["Resource"] == METHOD_ARN
    return (200 if effect == "Allow" else 403), decision


def authorizer_event(credential: str | None, carrier: str = "header", **query: str) -> dict[str, Any]:
    event = connect_event("connAuth01=")
    event.update(type="REQUEST", methodArn=METHOD_ARN, queryStringParameters=dict(query) or None)
    if credential is not None:
        if carrier == "header":
            event["headers"]["Authorization"] = f"Bearer {credential}"
        elif carrier == "subprotocol":
            event["headers"]["Sec-WebSocket-Protocol"] = f"manga-assist, {credential}"
        else:
            event["queryStringParameters"] = {**query, "token": credential}
    return event


# ------------------------------------------------------------------ through the Lambda handler


@pytest.mark.parametrize(("make", "status"), REFUSED_CASES)
@pytest.mark.parametrize("carrier", ["header", "subprotocol", "query"])
def test_the_handler_refuses(issuer: Issuer, configure: Any, make: Make, status: int, carrier: str) -> None:
    configure(**issuer.env(AUTH_HS256_SECRET=HS256_SECRET))
    assert authorize(make(issuer), carrier)[0] == status


def test_the_handler_lets_in_each_kind_of_good_token(issuer: Issuer, configure: Any) -> None:
    configure(**issuer.env(AUTH_HS256_SECRET=HS256_SECRET))
    for token in (issuer.token(), issuer.token(alg="ES256"), issuer.token(alg="HS256")):
        status, decision = authorize(token)
        assert status == 200 and decision["principalId"] == "cust-1"
        assert decision["context"] == {"customer_id": "cust-1", "role": "customer"}
    # Cognito's access tokens name their app in client_id, not aud.
    assert authorize(issuer.token(aud=None, client_id=AUDIENCE))[0] == 200
    # 60 s of leeway for clocks that disagree, and no more.
    assert authorize(issuer.token(exp=int(time.time()) - 30))[0] == 200
    assert authorize(issuer.token(nbf=int(time.time()) + 30))[0] == 200


def test_an_agent_is_whoever_the_agent_group_holds(issuer: Issuer, configure: Any) -> None:
    configure(**issuer.env())
    groups: dict[str, Any] = {"cognito:groups": ["support-agents"]}  # not a Python name: by **
    _, agent = authorize(issuer.token(subject="agent-7", **groups))
    assert agent["context"] == {"customer_id": "agent-7", "role": "agent"}
    _, other = authorize(issuer.token(subject="cust-9", groups=["vip", "support-agents-not"]))
    assert other["context"]["role"] == "customer"
    configure(**issuer.env(AUTH_AGENT_GROUP="helpdesk"))
    _, renamed = authorize(issuer.token(subject="agent-8", groups=["helpdesk"]))
    assert renamed["context"]["role"] == "agent"


def test_no_credential_is_refused_and_hs256_is_not_allowed_without_a_secret(
    issuer: Issuer, configure: Any
) -> None:
    configure(**issuer.env())
    assert authorize(None)[0] == 401
    assert authorize(issuer.token(alg="HS256"))[0] == 401, "HS256 is not configured: not allowed"
    assert authorize(_confused(issuer))[0] == 401
    configure(**issuer.env(AUTH_ALGORITHMS="ES256"))
    assert authorize(issuer.token(alg="RS256"))[0] == 401, "narrowed to ES256"
    assert authorize(issuer.token(alg="ES256"))[0] == 200


def test_an_unknown_kid_fetches_the_key_set_again_but_a_flood_does_not(
    issuer: Issuer, configure: Any
) -> None:
    container = configure(**issuer.env())
    clock = [1000.0]
    keys = JwksKeys(issuer.jwks_url, monotonic=lambda: clock[0])
    container.jwks_keys.override(providers.Object(keys))
    before = issuer.fetches
    assert authorize(issuer.token())[0] == 200
    assert issuer.fetches == before + 1, "the first verification fetches the key set"
    for _ in range(5):
        assert authorize(issuer.token())[0] == 200
    assert authorize(issuer.with_header({"kid": "rotated-in"}))[0] == 401
    assert issuer.fetches == before + 1, "kept for the container's life, and just fetched"
    clock[0] += REFETCH_INTERVAL
    assert authorize(issuer.with_header({"kid": "rotated-in"}))[0] == 401
    assert issuer.fetches == before + 2, "an unknown kid may mean a rotation: fetched once more"
    for _ in range(50):
        clock[0] += 0.1
        assert authorize(issuer.with_header({"kid": secrets.token_hex(8)}))[0] == 401
    assert issuer.fetches == before + 2, "a flood of made-up kids fetches nothing more"
    clock[0] += REFETCH_INTERVAL
    for _ in range(50):
        assert authorize(issuer.with_header({"kid": secrets.token_hex(8)}))[0] == 401
    assert issuer.fetches == before + 3, "at most one fetch per interval, however many kids"
    assert keys.fetches == 3


def test_a_key_set_endpoint_that_hangs_fails_closed_without_waiting_for_it(
    issuer: Issuer, configure: Any
) -> None:
    configure(**issuer.env())
    issuer.hang.set()
    try:
        assert authorize(issuer.token())[0] == 401
        assert not issuer.answered_late.is_set(), "we stopped waiting while the endpoint still hung"
        assert authorize(issuer.token())[0] == 401, "and it is not asked again at once"
    finally:
        issuer.hang.clear()
        issuer.released.set()


def test_after_a_failed_fetch_the_door_opens_again_within_seconds(issuer: Issuer, configure: Any) -> None:
    container = configure(**issuer.env())
    clock = [1000.0]
    keys = JwksKeys(issuer.jwks_url, seconds=0.5, monotonic=lambda: clock[0])
    container.jwks_keys.override(providers.Object(keys))
    issuer.hang.set()
    try:
        assert authorize(issuer.token())[0] == 401
    finally:
        issuer.hang.clear()
    clock[0] += RETRY_AFTER_FAILURE - 1
    assert authorize(issuer.token())[0] == 401 and keys.fetches == 1, "not hammered meanwhile"
    clock[0] += 1
    assert authorize(issuer.token())[0] == 200 and keys.fetches == 2


def test_a_short_hs256_secret_is_refused_at_start_and_lets_nobody_in(configure: Any) -> None:
    container = configure(AUTH_MODE="jwt", AUTH_HS256_SECRET="too-short")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        container.authenticate()
    assert authorize(sign_hs256({"sub": "cust-1", "exp": NOW + 999}, b"too-short"))[0] == 401


def test_a_key_set_endpoint_that_is_down_fails_closed(configure: Any) -> None:
    configure(AUTH_MODE="jwt", AUTH_JWKS_URL="http://127.0.0.1:9/jwks.json", AUTH_ISSUER=ISSUER)
    with Issuer() as other:
        assert authorize(other.token())[0] == 401


@pytest.mark.usefixtures("configure")
def test_a_misconfigured_authorizer_refuses_everyone(issuer: Issuer) -> None:
    set_authorizer_container(None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AUTH_MODE", "jwt")  # and neither a key set nor a secret
        for name in ("AUTH_JWKS_URL", "AUTH_HS256_SECRET", "AUTH_HS256_SECRET_ARN"):
            patch.delenv(name, raising=False)
        assert authorize(issuer.token())[0] == 401
    set_authorizer_container(None)


def test_guests_get_an_id_of_the_server_s_choosing_and_forged_passes_are_refused(configure: Any) -> None:
    container = configure(AUTH_MODE="guest", AUTH_GUEST_SECRET="x" * 32)
    status, first = authorize(None, customer_id="cust-i-chose")
    assert status == 200 and first["principalId"].startswith("guest:")
    assert first["principalId"] != "guest:cust-i-chose"
    assert authorize(None)[1]["principalId"] != first["principalId"]
    good = container.guest_passes().issue(first["principalId"])
    assert authorize(good, "subprotocol")[1]["principalId"] == first["principalId"]
    other = build_authorizer_container({"AUTH_MODE": "guest", "AUTH_GUEST_SECRET": "y" * 32})
    forged = other.guest_passes().issue("guest:victim")
    assert authorize(forged, "subprotocol")[0] == 401
    head, _, signature = good.split(".")
    assert authorize(f"{head}.{forged.split('.')[1]}.{signature}")[0] == 401
    configure(AUTH_MODE="jwt", AUTH_HS256_SECRET=HS256_SECRET, AUTH_GUEST_SECRET="x" * 32)
    assert authorize(good)[0] == 401, "jwt mode has no guests"


# ------------------------------------------------------------------ $connect behind the authorizer


def test_connect_trusts_only_the_authorizer_outside_none_mode() -> None:
    for mode in ("jwt", "guest"):
        chat = Chat(env={"AUTH_MODE": mode})
        try:
            assert chat.connect("connNoAuth01=", "cust-i-chose") == 401, "no authorizer: fail closed"
            assert chat.repository.session_id_of_connection("connNoAuth01=") is None
            context = {"customer_id": "cust-real", "principalId": "cust-real", "role": "customer"}
            assert chat.connect("connAuth02=", "cust-i-chose", authorizer=context) == 200
            session = chat.repository.get(chat.session_of("connAuth02=")["session_id"])
            assert session.customer_id == "cust-real", "the query string's customer_id is ignored"
        finally:
            chat.close()


def test_a_valid_token_naming_another_customer_s_session_gets_a_new_one(
    issuer: Issuer, configure: Any
) -> None:
    configure(**issuer.env())
    chat = Chat(env={"AUTH_MODE": "jwt"})
    try:
        victim = _connect_as(issuer.token(subject="cust-victim"), "connVictim01=")
        assert victim is not None
        victim_session = chat.session_of("connVictim01=")["session_id"]
        chat.say("connVictim01=", "my address is 1 Secret Lane", "m-victim")
        attacker = _connect_as(issuer.token(subject="cust-attacker"), "connThief01=", victim_session)
        assert attacker is not None
        frame = chat.session_of("connThief01=")
        assert frame["session_id"] != victim_session and frame["resumed"] is False
        chat.send("connThief01=", {"action": "history", "limit": 50})
        assert chat.frames("connThief01=", "history")[-1]["turns"] == []
        assert chat.repository.get(victim_session).connection_id == "connVictim01="
    finally:
        chat.close()


def _connect_as(token: str, connection_id: str, session_id: str | None = None) -> int | None:
    status, decision = authorize(token, "subprotocol")
    if status != 200:
        return None
    context = {**decision["context"], "principalId": decision["principalId"]}
    event = connect_event(connection_id, None, session_id, authorizer=context)
    event["headers"]["Sec-WebSocket-Protocol"] = f"manga-assist, {token}"
    answer = connect.handler(event, None)
    assert answer["headers"] == {"Sec-WebSocket-Protocol": "manga-assist"}, "the browser needs it selected"
    return int(answer["statusCode"])


# ------------------------------------------------------------------ through manga-assist serve


@pytest.fixture
def jwt_server(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ServerThread, list[Any]]]:
    connects: list[Any] = []
    real: Callable[[dict[str, Any], Any], dict[str, Any]] = connect.handler

    def recorded(event: dict[str, Any], context: Any) -> dict[str, Any]:
        connects.append(event)
        return real(event, context)

    monkeypatch.setattr(connect, "handler", recorded)
    server = ServerThread(
        ServeOptions(host="127.0.0.1", port=0, auth="jwt"),
        monkeypatch,
        **issuer.env(AUTH_HS256_SECRET=HS256_SECRET),
    ).start()
    yield server, connects
    server.stop()


async def handshake(url: str, credential: str | None, carrier: str, **query: str) -> tuple[int, Any]:
    headers: dict[str, str] = {}
    protocols: tuple[str, ...] = ()
    if credential is not None and carrier == "header":
        headers["Authorization"] = f"Bearer {credential}"
    elif credential is not None and carrier == "subprotocol":
        protocols = ("manga-assist", credential)
    elif credential is not None:
        query["token"] = credential
    async with aiohttp.ClientSession() as http:
        try:
            ws = await http.ws_connect(URL(url).update_query(query), headers=headers, protocols=protocols)
        except aiohttp.WSServerHandshakeError as refused:
            return refused.status, None
        except aiohttp.ClientResponseError as refused:  # a header too large for any server
            return refused.status, None
        await ws.send_json({"action": "session"})
        frame = await ws.receive_json(timeout=15)
        selected = ws.protocol
        await ws.close()
        return 101, (frame, selected)


@pytest.mark.parametrize(("make", "status"), REFUSED_CASES)
def test_serve_refuses_the_handshake(
    issuer: Issuer, jwt_server: tuple[ServerThread, list[Any]], make: Make, status: int
) -> None:
    server, connects = jwt_server
    token = make(issuer)
    carrier = "query" if len(token) > 4000 else "subprotocol"
    got, _ = asyncio.run(handshake(server.ws_url, token, carrier))
    if len(token) > 8000:  # past any server's header and request line limits: refused before us
        assert 400 <= got < 500
    else:
        assert got == status
    assert connects == [], "$connect ran: something may have been written"
    assert server.connection_ids() == []


def test_serve_lets_a_token_in_by_each_carrier_and_selects_the_subprotocol(
    issuer: Issuer, jwt_server: tuple[ServerThread, list[Any]]
) -> None:
    server, connects = jwt_server
    for carrier in ("header", "subprotocol", "query"):
        status, (frame, selected) = asyncio.run(
            handshake(server.ws_url, issuer.token(subject="cust-serve"), carrier, customer_id="cust-other")
        )
        assert status == 101 and frame["type"] == "session" and "resume_token" not in frame
        assert selected == ("manga-assist" if carrier == "subprotocol" else None)
    authorizers = [e["requestContext"]["authorizer"] for e in connects]
    assert {a["customer_id"] for a in authorizers} == {"cust-serve"}
    assert all(a["principalId"] == "cust-serve" and a["role"] == "customer" for a in authorizers)
    assert asyncio.run(handshake(server.ws_url, None, "header", customer_id="cust-1"))[0] == 401
