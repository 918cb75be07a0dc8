"""An issuer's public keys (a JSON Web Key Set at ``AUTH_JWKS_URL``), fetched once and kept for the
container's life. A ``kid`` we do not know makes us fetch again (the issuer rotated its keys), but at
most once per ``refetch_interval``: a flood of made-up ``kid``s costs one fetch, not one per request.
A fetch is bounded in time and size; an endpoint that is down or slow fails closed."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from application.authentication import VerificationUnavailable

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024
FETCH_SECONDS = 2.0
REFETCH_INTERVAL = 30.0
RETRY_AFTER_FAILURE = 5.0  # a blip at the issuer shuts the door for seconds, not for the interval
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")

Fetch = Callable[[str, float], bytes]


class JwksUnavailable(VerificationUnavailable):
    """The key set could not be had in time: nobody is let in meanwhile."""


def fetch_bounded(url: str, seconds: float) -> bytes:
    """GET ``url`` within ``seconds`` in all, and at most ``MAX_JWKS_BYTES``. Socket timeouts bound
    each read, not the whole: a server trickling its headers a byte at a time would outlast them. So
    the request runs on a daemon thread and we stop waiting for it at the deadline."""
    outcome: list[bytes | BaseException] = []

    def get() -> None:
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=seconds) as response:  # https or loopback: check_url
                outcome.append(response.read(MAX_JWKS_BYTES + 1))
        except BaseException as error:  # handed to the caller
            outcome.append(error)

    worker = threading.Thread(target=get, name="jwks-fetch", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise JwksUnavailable("the key set endpoint did not answer in time")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise JwksUnavailable(f"the key set endpoint failed: {type(result).__name__}")
    if len(result) > MAX_JWKS_BYTES:
        raise JwksUnavailable("the key set is larger than we accept")
    return result


def check_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https" or (parsed.scheme == "http" and parsed.hostname in LOOPBACK_HOSTS):
        return url
    raise ValueError("AUTH_JWKS_URL must be an https:// URL (http:// only for a loopback address)")


class JwksKeys:
    """``key(kid)``: the JWK (a dict) of that id, or ``None`` when the issuer has no such key."""

    def __init__(
        self,
        url: str,
        fetch: Fetch = fetch_bounded,
        seconds: float = FETCH_SECONDS,
        refetch_interval: float = REFETCH_INTERVAL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = check_url(url)
        self._fetch = fetch
        self._seconds = seconds
        self._refetch_interval = refetch_interval
        self._monotonic = monotonic
        self._keys: dict[str, Mapping[str, Any]] = {}
        self._next_fetch_at: float | None = None  # None: never fetched
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> Mapping[str, Any] | None:
        found = self._keys.get(kid)
        if found is not None:
            return found
        # Wait for a fetch already under way, for no longer than it may take, then look again.
        if not self._lock.acquire(timeout=self._seconds + 1):
            raise JwksUnavailable("the key set is being fetched")
        try:
            found = self._keys.get(kid)
            if found is None and self._may_fetch():
                self._refresh()
                found = self._keys.get(kid)
            return found
        finally:
            self._lock.release()

    def _may_fetch(self) -> bool:
        return self._next_fetch_at is None or self._monotonic() >= self._next_fetch_at

    def _refresh(self) -> None:
        started = self._monotonic()
        # A failure waits too (a shorter while): a dead endpoint is not hammered by every request.
        self._next_fetch_at = started + min(RETRY_AFTER_FAILURE, self._refetch_interval)
        self.fetches += 1
        body = self._fetch(self._url, self._seconds)
        try:
            document = json.loads(body)
        except ValueError:
            raise JwksUnavailable("the key set is not JSON") from None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise JwksUnavailable("the key set has no keys")
        self._keys = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
        self._next_fetch_at = started + self._refetch_interval
        log.info("key set fetched: %d keys", len(self._keys))
