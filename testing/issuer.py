"""A stand-in identity provider: RSA and EC signing keys, their key set served over HTTP on a free
loopback port (as a Cognito user pool serves ``/.well-known/jwks.json``), and tokens minted with any
claims, header or key an attacker might choose. The server counts its fetches, and can be made to
hang, to show what a slow or dead key set endpoint does to the authorizer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any

from attrs import define, field
from joserfc import jwk, jwt

from testing.local_http import QuietHandler, Served

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test"
AUDIENCE = "client-app-1"
HS256_SECRET = "a-store-backend-shared-secret-of-32+bytes"


class _KeySetHandler(QuietHandler):
    owner: Issuer

    def do_GET(self) -> None:
        owner = self.owner
        with owner.lock:
            owner.fetches += 1
        if owner.hang.is_set():
            owner.released.wait(60)
            owner.answered_late.set()
            return
        body = json.dumps(owner.key_set()).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@define
class Issuer(Served):
    handler_class = _KeySetHandler
    rsa: jwk.RSAKey = field(factory=lambda: jwk.RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}))
    ec: jwk.ECKey = field(factory=lambda: jwk.ECKey.generate_key("P-256", parameters={"kid": "ec-1"}))
    fetches: int = 0
    lock: threading.Lock = field(factory=threading.Lock)
    hang: threading.Event = field(factory=threading.Event)
    released: threading.Event = field(factory=threading.Event)
    answered_late: threading.Event = field(factory=threading.Event)
    _server: Any = None

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        super().__exit__(*exc)

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/.well-known/jwks.json"

    def env(self, **extra: str) -> dict[str, str]:
        """The authorizer's configuration for this issuer."""
        return {
            "AUTH_MODE": "jwt",
            "AUTH_JWKS_URL": self.jwks_url,
            "AUTH_ISSUER": ISSUER,
            "AUTH_AUDIENCE": AUDIENCE,
            **extra,
        }

    def key_set(self) -> dict[str, Any]:
        return {
            "keys": [
                {**self.rsa.as_dict(private=False), "alg": "RS256", "use": "sig"},
                {**self.ec.as_dict(private=False), "alg": "ES256", "use": "sig"},
            ]
        }

    def token(
        self, subject: str | None = "cust-1", alg: str = "RS256", kid_of: str | None = None, **claims: Any
    ) -> str:
        now = int(time.time())
        body = {"sub": subject, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 3600, **claims}
        body = {k: v for k, v in body.items() if v is not None}
        if alg == "HS256":
            return sign_hs256(body, HS256_SECRET.encode())
        key = self.rsa if alg == "RS256" else self.ec
        return jwt.encode({"alg": alg, "kid": kid_of or key.kid}, body, key)

    def with_header(self, header: dict[str, Any], claims: dict[str, Any] | None = None) -> str:
        """A token signed with the RSA key under any header (an unknown ``kid``, say)."""
        now = int(time.time())
        body = claims or {"sub": "cust-1", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 3600}
        return jwt.encode({"alg": "RS256", **header}, body, self.rsa)

    def public_pem(self) -> bytes:
        pem = self.rsa.as_pem(private=False)
        return pem if isinstance(pem, bytes) else pem.encode()


def sign_hs256(claims: dict[str, Any], secret: bytes, header: dict[str, Any] | None = None) -> str:
    """HS256 with any bytes as the secret, a public key's PEM included (joserfc rightly refuses to
    make such a key, so the attacker's signature is made by hand)."""
    signing_input = f"{_b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', **(header or {})}).encode())}." + _b64(
        json.dumps(claims, separators=(",", ":")).encode()
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    """``alg: none``: a header, the claims, an empty signature."""
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(claims).encode())}."
