"""The model on Amazon Bedrock's Converse API: ``converse_stream`` for replies, ``converse`` for
whole answers (summaries).

Failures, in the application's words:

- Throttled, model not ready, model timeout, 5xx, read timeout, dropped connection: botocore retries
  the initial call once (standard mode), then this adapter retries the whole call with capped
  exponential backoff and full jitter (3 calls at most, none started 10 s after the first), but
  only while no delta has reached the caller, so a half-streamed reply is never replayed. Then
  ``ModelUnavailable``.
- The request refused (validation, access, unknown model, ...): our bug. The request's shape (roles,
  lengths, counts, never the text) is logged, then ``ModelFailed``.
- A stream that breaks after deltas were yielded (an exception event, a dropped connection, a stream
  that ends before ``messageStop``) raises after those deltas; the caller stores nothing.
"""

from __future__ import annotations

import copy
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from attrs import frozen
from botocore.config import Config
from botocore.eventstream import ParserError
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error

from adapters.bedrock_models import THINKING_DISABLED, UNKNOWN, traits_of
from application.errors import ModelFailed, ModelUnavailable
from application.ports import Delta, Prompt, ReplyEvent, Usage

log = logging.getLogger(__name__)

# Error codes as the HTTP error or the stream's exception event names them (first letter upper).
RETRYABLE_CODES = frozenset(
    {
        "ThrottlingException",
        "ModelNotReadyException",
        "ServiceUnavailableException",
        "InternalServerException",
        "ModelTimeoutException",
        "ModelStreamErrorException",
    }
)
# Busy, but not within one request's patience: no retry, still "unavailable" to the client.
UNAVAILABLE_CODES = RETRYABLE_CODES | {"ServiceQuotaExceededException"}
TRANSPORT_ERRORS = (BotoConnectionError, HTTPClientError, Urllib3Error, ParserError)

# The read timeout bounds the silence between two bytes. A stream's gaps are short, so its client
# gives up well before the message function's 30 s timeout: a stalled stream then ends in an
# "unavailable" frame and a freed message id, not in a killed invocation. botocore makes one attempt
# only: it would retry a read timeout, and two 20 s stalls outlive the function; the adapter's own
# retries (never after 10 s) decide instead. ``converse`` (summaries) sends nothing until the whole
# answer is written, so its client waits longer.
STREAM_CONFIG = Config(
    connect_timeout=5,
    read_timeout=20,
    retries={"mode": "standard", "total_max_attempts": 1},
    tcp_keepalive=True,
)
COMPLETE_CONFIG = STREAM_CONFIG.merge(Config(read_timeout=60))


def bedrock_runtime_client(
    session: Any | None = None, region: str | None = None, config: Config = STREAM_CONFIG
) -> Any:
    if session is None:
        import boto3

        session = boto3.session.Session()
    return session.client("bedrock-runtime", region_name=region, config=config)


@frozen
class RetryPolicy:
    attempts: int = 3  # whole calls, each of which botocore may already have retried once
    base_seconds: float = 0.25
    cap_seconds: float = 2.0
    window_seconds: float = 10.0  # no new attempt starts later than this after the first one

    def delay(self, retry: int, draw: Callable[[], float]) -> float:
        """Full jitter: uniform between 0 and the capped exponential step."""
        return draw() * min(self.cap_seconds, self.base_seconds * 2.0**retry)


class StreamIncomplete(Exception):
    """The stream ended without ``messageStop``: the reply is cut short."""


class BedrockLanguageModel:
    def __init__(
        self,
        model_id: str,
        max_tokens: int = 1024,
        temperature: float = 0.3,
        client: Any | None = None,
        client_factory: Callable[[Config], Any] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        draw: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``client`` serves both operations; else ``client_factory(config)`` makes, on first use,
        one client per operation (``STREAM_CONFIG``, ``COMPLETE_CONFIG``). What the model accepts
        comes from ``bedrock_models``: ``temperature`` is sent only to a model that takes one, and
        ``max_tokens`` never above the model's own limit."""
        self._model_id = model_id
        self.traits = traits_of(model_id)
        if self.traits is UNKNOWN:
            log.warning(
                "model %s is not in adapters/bedrock_models.py: no temperature sent, at most %d tokens",
                model_id,
                UNKNOWN.max_output_tokens,
            )
        self._max_tokens = min(max_tokens, self.traits.max_output_tokens)
        self._temperature = temperature
        self._clients: dict[int, Any] = {}
        self._given = client
        self._factory = client_factory or (lambda config: bedrock_runtime_client(config=config))
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._draw = draw
        self._monotonic = monotonic
        self._lock = threading.Lock()

    def stream_reply(self, prompt: Prompt) -> Iterator[ReplyEvent]:
        request = self.request(prompt)
        yielded = 0
        began = self._monotonic()
        for attempt in range(1, self._retry.attempts + 1):
            try:
                stream = self._client(STREAM_CONFIG).converse_stream(**request)["stream"]
                try:
                    usage: Usage | None = None
                    complete = False
                    for event in stream:
                        text = _delta_text(event)
                        if text:
                            yielded += 1
                            yield Delta(text)
                        elif "messageStop" in event:
                            complete = True
                            _note_stop(event["messageStop"].get("stopReason"))
                        elif "metadata" in event:
                            usage = _usage(event["metadata"].get("usage"))
                    if not complete:
                        raise StreamIncomplete("the stream ended before messageStop")
                finally:
                    stream.close()
                if usage is not None:
                    yield usage
                return
            except (ClientError, BotoCoreError, Urllib3Error, ParserError, StreamIncomplete) as error:
                failure, retryable = self._translate(error, request, yielded)
                if yielded or not retryable or not self._may_retry(attempt, began):
                    raise failure from error
                self._back_off(attempt, error)

    def complete(self, prompt: Prompt) -> tuple[str, Usage]:
        request = self.request(prompt)
        began = self._monotonic()
        for attempt in range(1, self._retry.attempts + 1):
            try:
                response = self._client(COMPLETE_CONFIG).converse(**request)
            except (ClientError, BotoCoreError, Urllib3Error) as error:
                failure, retryable = self._translate(error, request, 0)
                if not retryable or not self._may_retry(attempt, began):
                    raise failure from error
                self._back_off(attempt, error)
                continue
            blocks = response.get("output", {}).get("message", {}).get("content", [])
            # A ``reasoningContent`` block (the model's thinking) has no ``text`` of its own: left out.
            text = "".join(block.get("text", "") for block in blocks)
            _note_stop(response.get("stopReason"))
            return text, _usage(response.get("usage")) or Usage(None, None)
        raise AssertionError("unreachable: the last attempt raises or returns")

    def request(self, prompt: Prompt) -> dict[str, Any]:
        """The Converse request for ``prompt`` (the same for both operations)."""
        request: dict[str, Any] = {
            "modelId": self._model_id,
            "messages": [
                {"role": str(message.role), "content": [{"text": message.text}]}
                for message in prompt.messages
            ],
            "inferenceConfig": {"maxTokens": self._max_tokens},
        }
        if self.traits.temperature_allowed:
            request["inferenceConfig"]["temperature"] = self._temperature
        if self.traits.disable_thinking:  # its thinking would spend maxTokens on text nobody sees
            request["additionalModelRequestFields"] = copy.deepcopy(THINKING_DISABLED)
        system = [{"text": text} for text in prompt.system if text]
        if system:
            request["system"] = system
        return request

    def _client(self, config: Config) -> Any:
        if self._given is not None:
            return self._given
        with self._lock:
            made = self._clients.get(id(config))
            if made is None:
                made = self._clients[id(config)] = self._factory(config)
            return made

    def _may_retry(self, attempt: int, began: float) -> bool:
        return attempt < self._retry.attempts and self._monotonic() - began < self._retry.window_seconds

    def _translate(
        self, error: Exception, request: Mapping[str, Any], yielded: int
    ) -> tuple[Exception, bool]:
        """The application's error for ``error``, and whether calling again may help."""
        if isinstance(error, ClientError):
            code = _code(error)
            if code in UNAVAILABLE_CODES:
                return ModelUnavailable(f"bedrock: {code}"), code in RETRYABLE_CODES
            log.error(
                "bedrock refused the request: %s",
                code,
                extra={
                    "error_code": code,
                    "request_shape": request_shape(request),
                    "deltas_yielded": yielded,
                },
            )
            return ModelFailed(f"bedrock: {code}"), False
        if isinstance(error, (*TRANSPORT_ERRORS, StreamIncomplete)):
            return ModelUnavailable(f"bedrock: {type(error).__name__}"), True
        log.error(
            "bedrock call failed: %s", type(error).__name__, extra={"request_shape": request_shape(request)}
        )
        return ModelFailed(f"bedrock: {type(error).__name__}"), False

    def _back_off(self, attempt: int, error: Exception) -> None:
        delay = self._retry.delay(attempt - 1, self._draw)
        log.warning(
            "bedrock call failed; retrying",
            extra={"attempt": attempt, "error": _code(error), "delay_ms": round(delay * 1000)},
        )
        self._sleep(delay)


def request_shape(request: Mapping[str, Any]) -> dict[str, Any]:
    """What a request looked like, for the logs: roles, sizes and settings, never the text."""
    return {
        "model_id": request.get("modelId"),
        "system_chars": [len(block.get("text", "")) for block in request.get("system", [])],
        "messages": [
            {
                "role": message.get("role"),
                "blocks": len(message.get("content", [])),
                "chars": sum(len(block.get("text", "")) for block in message.get("content", [])),
            }
            for message in request.get("messages", [])
        ],
        "inference": dict(request.get("inferenceConfig", {})),
        "additional": request.get("additionalModelRequestFields", {}),
    }


def _code(error: Exception) -> str:
    if isinstance(error, ClientError):
        code = str(error.response.get("Error", {}).get("Code") or "")
        return code[:1].upper() + code[1:]  # stream exception events spell it throttlingException
    return type(error).__name__


def _delta_text(event: Mapping[str, Any]) -> str | None:
    """The reply's text in a ``contentBlockDelta``. A ``reasoningContent`` delta (the model thinking:
    text, signature or redacted bytes) is none of it: never pushed, never stored. Its tokens are in
    the stream's ``metadata.usage.outputTokens`` all the same, so they count against every limit."""
    block = event.get("contentBlockDelta")
    if block is None:
        return None
    text = block.get("delta", {}).get("text")
    return text if isinstance(text, str) else None


def _usage(raw: Mapping[str, Any] | None) -> Usage | None:
    if not raw:
        return None
    return Usage(input_tokens=raw.get("inputTokens"), output_tokens=raw.get("outputTokens"))


def _note_stop(reason: str | None) -> None:
    if reason == "max_tokens":
        log.warning("the reply hit the max tokens limit and ends abruptly")
