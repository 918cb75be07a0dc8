"""Verifying a JSON Web Token with joserfc: the signature against the issuer's public keys (RS256,
ES256) or a shared secret (HS256), the algorithm against the allow-list, then ``exp``/``nbf``/``iat``
(60 s leeway), ``iss`` and ``aud`` (or Cognito's ``client_id`` on access tokens).

The key is chosen here, from the header's ``alg`` and ``kid``, before the library sees the token: an
asymmetric algorithm only ever gets a key of its own type from the key set, HS256 only ever the
secret. ``none`` and every algorithm the configuration does not name are refused before any key is
looked at, so an attacker cannot make us verify an HMAC with a public key."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from joserfc import jwk, jwt
from joserfc.errors import JoseError

from adapters.jwks import JwksKeys
from application.authentication import Unauthenticated

LEEWAY_SECONDS = 60
# A Cognito ID token is ~1 KB, an access token with many groups a few KB: anything near API
# Gateway's header limit is no token of a real issuer, and is refused before it is parsed.
MAX_TOKEN_CHARS = 8 * 1024
MIN_SECRET_BYTES = 32
ASYMMETRIC = {"RS256": "RSA", "ES256": "EC"}
SYMMETRIC = ("HS256",)


class JwtVerifier:
    def __init__(
        self,
        algorithms: Collection[str],
        keys: JwksKeys | None = None,
        secret: bytes | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        unknown = set(algorithms) - set(ASYMMETRIC) - set(SYMMETRIC)
        if unknown or not algorithms:
            raise ValueError(f"algorithms must be some of RS256, ES256, HS256, not {sorted(unknown)}")
        if any(a in ASYMMETRIC for a in algorithms) and keys is None:
            raise ValueError("RS256/ES256 need a key set (AUTH_JWKS_URL)")
        if "HS256" in algorithms and not secret:
            raise ValueError("HS256 needs a shared secret (AUTH_HS256_SECRET or AUTH_HS256_SECRET_ARN)")
        if secret and len(secret) < MIN_SECRET_BYTES:  # RFC 7518 3.2: a key as long as the hash
            raise ValueError(f"the HS256 secret must be at least {MIN_SECRET_BYTES} bytes")
        self._algorithms = frozenset(algorithms)
        self._keys = keys
        self._secret = jwk.OctKey.import_key(secret) if secret else None
        self._issuer = issuer
        self._audience = audience
        self._now = now
        self._imported: dict[str, Any] = {}

    @property
    def algorithms(self) -> frozenset[str]:
        return self._algorithms

    def verify(self, token: str) -> Mapping[str, Any]:
        if len(token) > MAX_TOKEN_CHARS:
            raise Unauthenticated("the token is too long")
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise Unauthenticated(f"algorithm {str(alg)[:16]!r} is not allowed")
        key: Any = self._secret if alg in SYMMETRIC else self._public_key(alg, header.get("kid"))
        try:
            claims = dict(jwt.decode(token, key, algorithms=[alg]).claims)
        except JoseError as error:
            raise Unauthenticated(f"the token does not verify ({type(error).__name__})") from None
        except (ValueError, TypeError):
            raise Unauthenticated("the token is malformed") from None
        self._check_claims(claims)
        return claims

    def _public_key(self, alg: str, kid: Any) -> Any:
        assert self._keys is not None
        if not isinstance(kid, str) or not kid or len(kid) > 256:
            raise Unauthenticated("the token names no key (kid)")
        found = self._keys.key(kid)
        if found is None:
            raise Unauthenticated("the token's key (kid) is not in the key set")
        if found.get("kty") != ASYMMETRIC[alg] or found.get("alg", alg) != alg:
            raise Unauthenticated(f"the key named by the token is not a {alg} key")
        if found.get("use", "sig") != "sig":
            raise Unauthenticated("the key named by the token is not a signing key")
        cache_key = f"{alg}:{kid}:{json.dumps(found, sort_keys=True)}"
        if cache_key not in self._imported:
            try:
                self._imported[cache_key] = jwk.import_key(dict(found))
            except (JoseError, ValueError, TypeError):
                raise Unauthenticated("the key set holds a key we cannot read") from None
        return self._imported[cache_key]

    def _check_claims(self, claims: dict[str, Any]) -> None:
        options: dict[str, Any] = {"exp": {"essential": True}, "sub": {"essential": True}}
        if self._issuer:
            options["iss"] = {"essential": True, "value": self._issuer}
        registry = jwt.JWTClaimsRegistry(now=int(self._now()), leeway=LEEWAY_SECONDS, **options)
        try:
            registry.validate(claims)
        except JoseError as error:
            raise Unauthenticated(f"the token's claims do not hold ({error.error})") from None
        if self._audience and not _for_audience(claims, self._audience):
            raise Unauthenticated("the token is for another audience")


def _for_audience(claims: Mapping[str, Any], audience: str) -> bool:
    """An ID token names its client in ``aud``; a Cognito access token in ``client_id`` instead."""
    aud = claims.get("aud")
    if aud is not None:
        return aud == audience or (isinstance(aud, list) and audience in aud)
    return claims.get("client_id") == audience


def _header(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:  # a JWS in compact form; five parts would be an encrypted token (JWE)
        raise Unauthenticated("the credential is not a signed JSON Web Token")
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (ValueError, binascii.Error):
        raise Unauthenticated("the token's header is not JSON") from None
    if not isinstance(header, dict):
        raise Unauthenticated("the token's header is not a JSON object")
    if "crit" in header:  # no extension of ours is critical: RFC 7515 says refuse what we do not know
        raise Unauthenticated("the token needs extensions we do not support")
    return header
