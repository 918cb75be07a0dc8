"""Guests' passes: compact HS256 JSON Web Tokens, signed with ``AUTH_GUEST_SECRET`` by the standard
library alone, so that the message function (which issues them in ``session`` frames) never loads a
JOSE library. Their header names ``kid: manga-assist-guest``; only a pass with exactly this header,
a valid signature, our issuer and an ``exp`` still ahead names a guest."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from application.authentication import GUEST_PREFIX, Unauthenticated

if TYPE_CHECKING:  # the authorizer's cold start need not load every port's domain types
    from application.ports import Clock

GUEST_KID = "manga-assist-guest"
ISSUER = "manga-assist/guest"
HEADER = {"alg": "HS256", "typ": "JWT", "kid": GUEST_KID}
DEFAULT_LIFETIME = timedelta(days=30)
MAX_PASS_CHARS = 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_ENCODED_HEADER = _b64(json.dumps(HEADER, separators=(",", ":")).encode())


class SignedGuestPasses:
    def __init__(self, secret: bytes, clock: Clock, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
        if len(secret) < 16:
            raise ValueError("the guest secret must be at least 16 bytes")
        self._secret = secret
        self._clock = clock
        self._lifetime = lifetime

    def new_guest_id(self) -> str:
        return GUEST_PREFIX + secrets.token_urlsafe(16)

    def issue(self, guest_id: str) -> str:
        now = int(self._clock.now().timestamp())
        expires = now + int(self._lifetime.total_seconds())
        claims = {"iss": ISSUER, "sub": guest_id, "iat": now, "exp": expires}
        signing_input = f"{_ENCODED_HEADER}.{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
        return f"{signing_input}.{_b64(self._sign(signing_input))}"

    def is_pass(self, token: str) -> bool:
        return len(token) <= MAX_PASS_CHARS and token.startswith(_ENCODED_HEADER + ".")

    def holder(self, token: str) -> str:
        parts = token.split(".")
        if not self.is_pass(token) or len(parts) != 3:
            raise Unauthenticated("not a guest pass")
        try:
            signature = _unb64(parts[2])
            valid = hmac.compare_digest(signature, self._sign(f"{parts[0]}.{parts[1]}"))
            claims: Any = json.loads(_unb64(parts[1])) if valid else None
        except (ValueError, binascii.Error):
            raise Unauthenticated("a malformed guest pass") from None
        if not valid:
            raise Unauthenticated("a guest pass with a bad signature")
        if not isinstance(claims, dict) or claims.get("iss") != ISSUER:
            raise Unauthenticated("a guest pass of another issuer")
        expires, subject = claims.get("exp"), claims.get("sub")
        if not isinstance(expires, int) or expires <= self._clock.now().timestamp():
            raise Unauthenticated("an expired guest pass")
        if not isinstance(subject, str) or not subject.startswith(GUEST_PREFIX):
            raise Unauthenticated("a guest pass naming no guest")
        return subject

    def _sign(self, signing_input: str) -> bytes:
        return hmac.new(self._secret, signing_input.encode("ascii"), hashlib.sha256).digest()


# Drawn at import, so that every thread of the process sees the same one.
_PROCESS_SECRET = secrets.token_bytes(32)


def process_secret() -> bytes:
    """The default secret: random, one per process, shared by every handler in it (the local server
    runs the authorizer and the message handler side by side). Its passes die with the process; set
    AUTH_GUEST_SECRET wherever more than one process must read them (Lambda: every function that
    issues or reads them)."""
    return _PROCESS_SECRET
