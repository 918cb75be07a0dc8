"""Wiring of the authorizer, its own function: its own small container, so that its cold start loads
neither the conversation's adapters nor boto3 (unless the HS256 secret is read by ARN), and so that
the message path never loads the JOSE library.

Built on first use (never at import), kept for the container's life: the key set and the secret are
cached with it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from dependency_injector import containers, providers

from adapters.guest_passes import SignedGuestPasses, process_secret
from adapters.system import SystemClock
from application.authentication import Authenticate
from entrypoints.settings import load_authorizer_settings


def guest_secret(configured: str | None) -> bytes:
    return configured.encode("utf-8") if configured else process_secret()


def _boto_session() -> Any:
    # Only a deployment that keeps its secret in Secrets Manager pays for boto3.
    from adapters.secrets_manager import aws_session

    return aws_session()


def _hs256_secret(value: str | None, arn: str | None, region: str, session: Any) -> bytes | None:
    if value:
        return value.encode("utf-8")
    if not arn:
        return None
    from adapters.secrets_manager import read_secret

    return read_secret(session(), arn, region)


def _jwks_keys(url: str | None) -> Any:
    if not url:
        return None
    from adapters.jwks import JwksKeys

    return JwksKeys(url)


def _verifier(algorithms: tuple[str, ...], keys: Any, secret: Any, **claims: Any) -> Any:
    if not algorithms:
        return None
    from adapters.jwt_verifier import JwtVerifier

    return JwtVerifier(algorithms, keys=keys(), secret=secret(), **claims)


class AuthorizerContainer(containers.DeclarativeContainer):
    config = providers.Configuration(strict=True)

    clock = providers.Singleton(SystemClock)
    guest_passes = providers.Singleton(
        SignedGuestPasses, secret=providers.Callable(guest_secret, config.guest_secret), clock=clock
    )
    boto_session = providers.Singleton(_boto_session)
    hs256_secret = providers.Singleton(
        _hs256_secret,
        value=config.hs256_secret,
        arn=config.hs256_secret_arn,
        region=config.region,
        session=boto_session.provider,
    )
    jwks_keys = providers.Singleton(_jwks_keys, url=config.jwks_url)
    verifier = providers.Singleton(
        _verifier,
        algorithms=config.algorithms,
        keys=jwks_keys.provider,
        secret=hs256_secret.provider,
        issuer=config.issuer,
        audience=config.audience,
    )
    authenticate = providers.Singleton(
        Authenticate,
        mode=config.auth_mode,
        verifier=verifier,
        guests=guest_passes,
        agent_group=config.agent_group,
    )


_lock = threading.Lock()
_container: AuthorizerContainer | None = None


def build_authorizer_container(env: Mapping[str, str] | None = None) -> AuthorizerContainer:
    container = AuthorizerContainer()
    container.config.from_dict(load_authorizer_settings(env))
    return container


def get_authorizer_container() -> AuthorizerContainer:
    global _container
    if _container is None:
        with _lock:
            if _container is None:
                _container = build_authorizer_container()
    return _container


def set_authorizer_container(container: AuthorizerContainer | None) -> None:
    """Install a container (tests, the local server); ``None`` makes the next call build a fresh one."""
    global _container
    with _lock:
        _container = container
