"""Configuration from the environment (CONTRACT §4), checked once, with clear errors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

DEFAULT_MODEL_ID = "anthropic.claude-3-5-haiku-20241022-v1:0"


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
        "fake_llm_first_token_ms": _float(env, "FAKE_LLM_FIRST_TOKEN_MS", 0.0),
        "fake_llm_tokens_per_second": _float(env, "FAKE_LLM_TOKENS_PER_SECOND", 0.0),
        "system_prompt": env.get("SYSTEM_PROMPT", "").strip() or None,
        "llm_max_tokens": _int(env, "LLM_MAX_TOKENS", 1024, low=1),
        "llm_temperature": _float(env, "LLM_TEMPERATURE", 0.3),
    }
