"""The authorizer's configuration: what it refuses to start with, and the algorithm allow-list it
derives (which configuration can narrow, never widen)."""

from __future__ import annotations

import pytest

from entrypoints.credentials import credential, selected_subprotocol
from entrypoints.settings import ConfigurationError, load_authorizer_settings

JWKS = {"AUTH_JWKS_URL": "https://issuer.example/jwks.json", "AUTH_ISSUER": "https://issuer.example"}


@pytest.mark.parametrize(
    ("env", "algorithms"),
    [
        (JWKS, ("RS256", "ES256")),
        ({"AUTH_HS256_SECRET": "s"}, ("HS256",)),
        ({**JWKS, "AUTH_HS256_SECRET_ARN": "arn:aws:secretsmanager:x"}, ("RS256", "ES256", "HS256")),
        ({**JWKS, "AUTH_ALGORITHMS": "ES256"}, ("ES256",)),
        ({"AUTH_MODE": "guest"}, ()),
    ],
)
def test_the_allow_list_follows_the_configured_keys(env: dict[str, str], algorithms: tuple[str, ...]) -> None:
    assert load_authorizer_settings({"AUTH_MODE": "jwt", **env})["algorithms"] == algorithms


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        ({"AUTH_MODE": "jwt"}, "needs AUTH_JWKS_URL"),
        ({"AUTH_MODE": "jwt", "AUTH_JWKS_URL": "https://x/jwks.json"}, "needs AUTH_ISSUER"),
        ({**JWKS, "AUTH_MODE": "jwt", "AUTH_ALGORITHMS": "HS256"}, "no configured key allows"),
        ({**JWKS, "AUTH_MODE": "jwt", "AUTH_ALGORITHMS": "none"}, "no configured key allows"),
        ({"AUTH_MODE": "jwt", "AUTH_HS256_SECRET": "a", "AUTH_HS256_SECRET_ARN": "b"}, "not both"),
        ({"AUTH_MODE": "sometimes"}, "AUTH_MODE must be one of"),
    ],
)
def test_a_configuration_that_cannot_work_is_refused(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigurationError, match=complaint):
        load_authorizer_settings(env)


def test_a_credential_is_found_in_each_place_and_the_first_wins() -> None:
    def event(headers: dict[str, str], query: dict[str, str] | None = None) -> dict[str, object]:
        return {"headers": headers, "queryStringParameters": query}

    assert credential(event({"authorization": "Bearer a.b.c"})) == "a.b.c"
    assert credential(event({"Sec-WebSocket-Protocol": "manga-assist, x.y.z"})) == "x.y.z"
    assert credential(event({}, {"token": "q.r.s"})) == "q.r.s"
    assert credential(event({"Authorization": "Bearer a.b.c"}, {"token": "q.r.s"})) == "a.b.c"
    assert credential(event({"Authorization": "Basic dXNlcjpwYXNz"})) is None
    assert credential(event({"Sec-WebSocket-Protocol": "other, x.y.z"})) is None
    assert credential(event({"Sec-WebSocket-Protocol": "manga-assist"})) is None
    assert selected_subprotocol(event({"sec-websocket-protocol": "manga-assist, x.y.z"})) == "manga-assist"
    assert selected_subprotocol(event({"Sec-WebSocket-Protocol": "chat"})) is None
