"""A local stand-in for Bedrock's Converse and ConverseStream HTTP API, for the real boto3 client.

ConverseStream answers in the AWS event-stream binary framing, so that botocore's own decoder and
parser run: each message is a prelude (total length, headers length, CRC32 of those 8 bytes),
headers (``:message-type``, ``:event-type`` or ``:exception-type``, ``:content-type``), a JSON
payload, and a CRC32 of everything before it. Tests script what each request gets, in order.

Two behaviours of newer models are played whatever the script says: a model named in
``refuses_temperature`` answers a request carrying ``inferenceConfig.temperature`` with Bedrock's 400
``ValidationException`` (as Claude Haiku 5.5 and the 4.7-and-later models do), and a ``Stream`` with
``reasoning`` first streams a ``reasoningContent`` block (the model thinking: text, then its signature)
before the reply's text block.

A model named in ``thinks_unless_disabled`` thinks before an unscripted answer unless the request
carries ``additionalModelRequestFields.thinking.type: "disabled"``: its thinking costs
``thinking_tokens`` of the request's ``maxTokens`` first, and when that spends them all the answer has
no text (``stopReason: max_tokens``), as a real adaptive model's does.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import unquote

from attrs import define, evolve, field, frozen

from testing.local_http import LocalServer, QuietHandler, Served

STRING_HEADER = 7


def event_stream_message(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(
        struct.pack("B", len(name))
        + name.encode()
        + struct.pack("!BH", STRING_HEADER, len(value))
        + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack("!I", zlib.crc32(message))


def event(event_type: str, body: dict[str, Any]) -> bytes:
    headers = {":message-type": "event", ":event-type": event_type, ":content-type": "application/json"}
    return event_stream_message(headers, json.dumps(body).encode())


def exception_event(exception_type: str, message: str) -> bytes:
    headers = {
        ":message-type": "exception",
        ":exception-type": exception_type,
        ":content-type": "application/json",
    }
    return event_stream_message(headers, json.dumps({"message": message}).encode())


@frozen
class Stream:
    """A 200 ConverseStream answer: the deltas, then messageStop and metadata, unless it breaks."""

    deltas: Sequence[str] = ("Hello", " from", " the", " stand-in.")
    reasoning: Sequence[str] = ()  # thinking deltas, in a block of their own before the text
    input_tokens: int = 42
    output_tokens: int = 4
    stop_reason: str = "end_turn"
    exception_after: int | None = None  # send ``exception_type`` after this many deltas, then end
    exception_type: str = "modelStreamErrorException"
    drop_after: int | None = None  # close the connection mid-body after this many deltas
    stall_seconds: float = 0.0  # silence before the first event (read timeouts)
    finished: bool = True  # False: the body ends cleanly after the deltas, without messageStop

    def messages(self) -> Iterator[bytes | None]:
        """Event-stream messages; ``None`` means: drop the connection here."""
        yield event("messageStart", {"role": "assistant"})
        text_block = 0
        if self.reasoning:
            for thought in self.reasoning:
                delta = {"reasoningContent": {"text": thought}}
                yield event("contentBlockDelta", {"contentBlockIndex": 0, "delta": delta})
            signature = {"reasoningContent": {"signature": "c3RhbmQtaW4gc2lnbmF0dXJl"}}
            yield event("contentBlockDelta", {"contentBlockIndex": 0, "delta": signature})
            yield event("contentBlockStop", {"contentBlockIndex": 0})
            text_block = 1
        for index, text in enumerate(self.deltas):
            if index == self.exception_after:
                yield exception_event(self.exception_type, "the stand-in broke the stream")
                return
            if index == self.drop_after:
                yield None
                return
            yield event("contentBlockDelta", {"contentBlockIndex": text_block, "delta": {"text": text}})
        if self.exception_after is not None and self.exception_after >= len(self.deltas):
            yield exception_event(self.exception_type, "the stand-in broke the stream")
            return
        if self.drop_after is not None:
            yield None
            return
        if not self.finished:
            return
        yield event("contentBlockStop", {"contentBlockIndex": text_block})
        yield event("messageStop", {"stopReason": self.stop_reason})
        usage = {
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens,
        }
        yield event("metadata", {"usage": usage, "metrics": {"latencyMs": 12}})


@frozen
class Completion:
    """A 200 Converse answer."""

    text: str = "A whole reply."
    input_tokens: int = 42
    output_tokens: int = 3
    reasoning: str = ""  # a reasoningContent block before the text
    stop_reason: str = "end_turn"

    def body(self) -> dict[str, Any]:
        content: list[dict[str, Any]] = [{"text": self.text}]
        if self.reasoning:
            thought = {"reasoningText": {"text": self.reasoning, "signature": "c3RhbmQtaW4="}}
            content.insert(0, {"reasoningContent": thought})
        return {
            "output": {"message": {"role": "assistant", "content": content}},
            "stopReason": self.stop_reason,
            "usage": {
                "inputTokens": self.input_tokens,
                "outputTokens": self.output_tokens,
                "totalTokens": self.input_tokens + self.output_tokens,
            },
            "metrics": {"latencyMs": 12},
        }


@frozen
class ErrorReply:
    """An HTTP error before any stream, as Bedrock sends it (the code in ``x-amzn-ErrorType``)."""

    status: int = 429
    code: str = "ThrottlingException"
    message: str = "Too many requests, please wait before trying again."


Script = Stream | Completion | ErrorReply

# What Bedrock answers a model that takes no sampling parameters, before any stream.
TEMPERATURE_REFUSED = ErrorReply(
    400,
    "ValidationException",
    "The model returned the following errors: `temperature` is deprecated for this model.",
)


@frozen
class Received:
    operation: str  # "converse" or "converse-stream"
    model_id: str
    body: dict[str, Any]


@define
class BedrockStandIn(Served):
    """``with BedrockStandIn() as bedrock:`` serves on 127.0.0.1 at ``bedrock.url``. Unscripted
    requests get the default ``Stream()`` or ``Completion()``."""

    script_queue: deque[Script] = field(factory=deque)
    received: list[Received] = field(factory=list)
    refuses_temperature: frozenset[str] = frozenset()  # model ids that answer a temperature with 400
    thinks_unless_disabled: frozenset[str] = frozenset()  # model ids that think unless told not to
    thinking_tokens: int = 2_000  # what their thinking costs of maxTokens
    _server: LocalServer | None = None
    _lock: threading.Lock = field(factory=threading.Lock)

    def script(self, *answers: Script) -> None:
        with self._lock:
            self.script_queue.extend(answers)

    def next_answer(self, operation: str, model_id: str, body: dict[str, Any]) -> Script:
        with self._lock:
            self.received.append(Received(operation, model_id, body))
            if model_id in self.refuses_temperature and "temperature" in body.get("inferenceConfig", {}):
                return TEMPERATURE_REFUSED
            if self.script_queue:
                return self.script_queue.popleft()
        answer: Script = Stream() if operation == "converse-stream" else Completion()
        if model_id in self.thinks_unless_disabled and not _thinking_disabled(body):
            return self._thinking_first(answer, int(body.get("inferenceConfig", {}).get("maxTokens", 0)))
        return answer

    def _thinking_first(self, answer: Script, max_tokens: int) -> Script:
        thought = "Let me think about what the customer is asking."
        if isinstance(answer, Stream):
            if self.thinking_tokens >= max_tokens:
                return Stream(
                    reasoning=(thought,), deltas=(), output_tokens=max_tokens, stop_reason="max_tokens"
                )
            return evolve(
                answer, reasoning=(thought,), output_tokens=answer.output_tokens + self.thinking_tokens
            )
        if isinstance(answer, Completion):
            if self.thinking_tokens >= max_tokens:
                return Completion(
                    text="", reasoning=thought, output_tokens=max_tokens, stop_reason="max_tokens"
                )
            return evolve(
                answer, reasoning=thought, output_tokens=answer.output_tokens + self.thinking_tokens
            )
        return answer


def _thinking_disabled(body: dict[str, Any]) -> bool:
    thinking = (body.get("additionalModelRequestFields") or {}).get("thinking") or {}
    return isinstance(thinking, dict) and thinking.get("type") == "disabled"


class _Handler(QuietHandler):
    owner: BedrockStandIn

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        parts = self.path.split("/")  # /model/{modelId}/converse[-stream]
        operation, model_id = parts[-1], unquote(parts[-2])
        answer = self.owner.next_answer(operation, model_id, body)
        try:
            self._answer(answer)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a read timeout): nothing to tell it

    def _answer(self, answer: Script) -> None:
        if isinstance(answer, ErrorReply):
            self._json(answer.status, {"message": answer.message}, {"x-amzn-ErrorType": answer.code})
        elif isinstance(answer, Completion):
            self._json(200, answer.body())
        else:
            self._stream(answer)

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", "standin-request")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, stream: Stream) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", "standin-request")
        self.end_headers()
        self.wfile.flush()
        if stream.stall_seconds:
            time.sleep(stream.stall_seconds)
        for message in stream.messages():
            if message is None:  # a dropped connection: no terminating chunk
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(b"%x\r\n%s\r\n" % (len(message), message))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


BedrockStandIn.handler_class = _Handler
