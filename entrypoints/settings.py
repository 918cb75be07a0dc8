"""Configuration from the environment (docs/PROTOCOL.md §13), checked once, with clear errors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from adapters.bedrock_models import DEFAULT_MODEL_ID

AUTH_MODES = ("none", "guest", "jwt")


class ConfigurationError(ValueError):
    pass


def _int(env: Mapping[str, str], name: str, default: int, low: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if value < low:
        raise ConfigurationError(f"{name} must be at least {low}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None
    if value < 0:
        raise ConfigurationError(f"{name} must not be negative")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise ConfigurationError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    return {
        "session_store": _choice(env, "SESSION_STORE", "memory", ("memory", "dynamodb")),
        "session_table": env.get("SESSION_TABLE", "").strip() or "manga-assist-sessions",
        "llm_provider": _choice(env, "LLM_PROVIDER", "fake", ("fake", "bedrock")),
        "model_id": env.get("MODEL_ID", "").strip() or DEFAULT_MODEL_ID,
        "websocket_callback_url": env.get("WEBSOCKET_CALLBACK_URL", "").strip() or None,
        "retry_queue_url": env.get("RETRY_QUEUE_URL", "").strip() or None,
        "region": (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1").strip(),
        "max_context_turns": _int(env, "MAX_CONTEXT_TURNS", 20, low=1),
        "max_context_tokens": _int(env, "MAX_CONTEXT_TOKENS", 4000, low=200),
        "summary_every_turns": _int(env, "SUMMARY_EVERY_TURNS", 10, low=2),
        "max_message_chars": _int(env, "MAX_MESSAGE_CHARS", 16000, low=1),
        "session_ttl_seconds": _int(env, "SESSION_TTL_SECONDS", 86400, low=60),
        "handoff_unclaimed_seconds": _int(env, "HANDOFF_UNCLAIMED_SECONDS", 120, low=1),
        "fake_llm_first_token_ms": _float(env, "FAKE_LLM_FIRST_TOKEN_MS", 0.0),
        "fake_llm_tokens_per_second": _float(env, "FAKE_LLM_TOKENS_PER_SECOND", 0.0),
        "system_prompt": env.get("SYSTEM_PROMPT", "").strip() or None,
        "llm_max_tokens": _int(env, "LLM_MAX_TOKENS", 1024, low=1),
        "llm_temperature": _float(env, "LLM_TEMPERATURE", 0.3),
        # Who may connect (docs/PROTOCOL.md §8): $connect trusts the query string only with "none";
        # the message function signs guests' resume tokens with the guest secret.
        "auth_mode": _choice(env, "AUTH_MODE", "none", AUTH_MODES),
        "auth_guest_secret": env.get("AUTH_GUEST_SECRET", "").strip() or None,
        "customer_messages_per_minute": _int(env, "CUSTOMER_MESSAGES_PER_MINUTE", 20),
        "customer_daily_tokens": _int(env, "CUSTOMER_DAILY_TOKENS", 200_000),
        "daily_tokens": _int(env, "DAILY_TOKENS", 0),
    }


def load_authorizer_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The authorizer's own configuration: only its function reads it."""
    env = os.environ if env is None else env
    settings = {
        "auth_mode": _choice(env, "AUTH_MODE", "none", AUTH_MODES),
        "jwks_url": env.get("AUTH_JWKS_URL", "").strip() or None,
        "issuer": env.get("AUTH_ISSUER", "").strip() or None,
        "audience": env.get("AUTH_AUDIENCE", "").strip() or None,
        "hs256_secret": env.get("AUTH_HS256_SECRET", "").strip() or None,
        "hs256_secret_arn": env.get("AUTH_HS256_SECRET_ARN", "").strip() or None,
        "algorithms": _algorithms(env),
        "agent_group": env.get("AUTH_AGENT_GROUP", "").strip() or "support-agents",
        "guest_secret": env.get("AUTH_GUEST_SECRET", "").strip() or None,
        "region": (env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1").strip(),
    }
    has_secret = settings["hs256_secret"] or settings["hs256_secret_arn"]
    if settings["auth_mode"] == "jwt" and not (settings["jwks_url"] or has_secret):
        raise ConfigurationError(
            "AUTH_MODE=jwt needs AUTH_JWKS_URL (with AUTH_ISSUER) or AUTH_HS256_SECRET(_ARN)"
        )
    if settings["jwks_url"] and not settings["issuer"]:
        raise ConfigurationError("AUTH_JWKS_URL needs AUTH_ISSUER: keys alone do not say who issued a token")
    if settings["hs256_secret"] and settings["hs256_secret_arn"]:
        raise ConfigurationError("set AUTH_HS256_SECRET or AUTH_HS256_SECRET_ARN, not both")
    return settings


def _algorithms(env: Mapping[str, str]) -> tuple[str, ...]:
    """AUTH_ALGORITHMS narrows what the configured keys allow: RS256 and ES256 with a key set,
    HS256 with a shared secret. It can never add one (nor ``none``)."""
    configured: list[str] = []
    if env.get("AUTH_JWKS_URL", "").strip():
        configured += ["RS256", "ES256"]
    if env.get("AUTH_HS256_SECRET", "").strip() or env.get("AUTH_HS256_SECRET_ARN", "").strip():
        configured.append("HS256")
    raw = env.get("AUTH_ALGORITHMS", "").strip()
    if not raw:
        return tuple(configured)
    wanted = [a.strip() for a in raw.split(",") if a.strip()]
    refused = [a for a in wanted if a not in configured]
    if refused:
        raise ConfigurationError(
            f"AUTH_ALGORITHMS names {', '.join(refused)}, which no configured key allows "
            f"(allowed: {', '.join(configured) or 'none configured'})"
        )
    return tuple(wanted)
