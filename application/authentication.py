"""Who is connecting: a credential in, an identity (customer id and role) out, or a refusal.

The rules of the three modes live here; checking a signature is an adapter's business (ports below).
- ``jwt``: a credential is required and must verify.
- ``guest``: no credential makes a new guest whose id the server chooses; a guest pass (the
  ``resume_token`` of a guest's ``session`` frame) brings that guest back; any other credential must
  verify as in ``jwt``, when a verifier is configured.
- ``none`` (local development and tests): a credential must verify as in ``jwt``. A connection
  without one is never sent here: the local server lets it through to ``$connect``, which reads the
  query string in this mode only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from attrs import frozen

from domain.errors import DomainError

AUTH_MODES = ("jwt", "guest", "none")
GUEST_PREFIX = "guest:"
MAX_SUBJECT_CHARS = 256
CUSTOMER = "customer"
AGENT = "agent"


class Unauthenticated(DomainError):
    """No credential, or one that does not verify (API Gateway's 401). The message names the reason
    for the log; it never holds the credential."""


class VerificationUnavailable(Unauthenticated):
    """What verifies credentials (the issuer's key set, the shared secret) could not be reached in
    time: still a refusal, and an operator must hear of it."""


class NotPermitted(DomainError):
    """A credential that verifies but whose holder may not connect (API Gateway's 403)."""


@frozen
class Identity:
    customer_id: str
    role: str = CUSTOMER


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Mapping[str, Any]:
        """The claims of a token whose signature, algorithm, times, issuer and audience all check.
        Raises ``Unauthenticated`` otherwise, in bounded time."""
        ...


class GuestPasses(Protocol):
    def new_guest_id(self) -> str: ...

    def issue(self, guest_id: str) -> str:
        """A signed pass naming ``guest_id``: the ``resume_token`` of its ``session`` frame."""
        ...

    def is_pass(self, token: str) -> bool:
        """Whether ``token`` claims to be one of ours (it still has to verify)."""
        ...

    def holder(self, token: str) -> str:
        """The guest id of a pass that verifies; raises ``Unauthenticated`` otherwise."""
        ...


class Authenticate:
    def __init__(
        self, mode: str, verifier: TokenVerifier | None, guests: GuestPasses, agent_group: str
    ) -> None:
        if mode not in AUTH_MODES:
            raise ValueError(f"unknown authentication mode {mode!r}")
        self._mode = mode
        self._verifier = verifier
        self._guests = guests
        self._agent_group = agent_group

    def __call__(self, credential: str | None) -> Identity:
        if not credential:
            if self._mode == "guest":
                return Identity(self._guests.new_guest_id())
            raise Unauthenticated("no credential")
        if self._mode == "guest" and self._guests.is_pass(credential):
            return Identity(self._guests.holder(credential))
        if self._verifier is None:
            raise Unauthenticated("a token was sent but no token verification is configured")
        return self._identity(self._verifier.verify(credential))

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("the token has no subject")
        if len(subject) > MAX_SUBJECT_CHARS or not subject.isprintable() or not _encodable(subject):
            raise NotPermitted("the token's subject is not a printable id of at most 256 characters")
        if subject.startswith(GUEST_PREFIX):
            raise NotPermitted("a token's subject may not take a guest's id")
        return Identity(subject, AGENT if self._agent_group in _groups(claims) else CUSTOMER)


def _groups(claims: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    for name in ("cognito:groups", "groups"):
        value = claims.get(name)
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, list):
            found.update(v for v in value if isinstance(v, str))
    return found


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
