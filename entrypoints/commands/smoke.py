"""``manga-assist smoke URL [--token T] [--agent-token T]``: a scripted conversation against any
deployment — a local ``serve`` or a real ``wss://`` stage — that checks what a customer relies on and
reports each step with its time:

connect, the ``session`` frame, a streamed reply (time to the first chunk and to the whole reply), the
same ``message_id`` sent again (the stored reply, no second answer), the history (one user and one
assistant turn for it), and, with an agent's credential, a handoff round trip (the customer asks for
a person, the agent claims the session and answers, then gives it back to the bot).

Credentials travel in the ``Authorization`` header, never in the URL. Without ``--token`` the
connection names a throwaway customer id in the query (what a server with ``AUTH_MODE=none`` reads;
``guest`` ignores it). The frames are those of docs/PROTOCOL.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

import aiohttp
from attrs import define, field
from yarl import URL

QUESTION = "Is volume 3 of Frieren in stock?"
HANDOFF_QUESTION = "Can a person check my order, please?"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "url",
        help="the WebSocket, e.g. ws://127.0.0.1:8080/ws or wss://API.execute-api.REGION.amazonaws.com/STAGE",
    )
    parser.add_argument("--token", help="a customer's credential (a JWT), sent as Authorization: Bearer")
    parser.add_argument("--agent-token", help="an agent's credential: runs the handoff round trip too")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds each step may take (default 30)")


def run(args: argparse.Namespace) -> int:
    report = asyncio.run(smoke(args.url, args.token, args.agent_token, args.timeout, sys.stdout))
    return 0 if report.passed else 1


class StepFailed(Exception):
    pass


@define
class Report:
    out: TextIO
    counts: dict[str, int] = field(factory=lambda: {"ok": 0, "FAIL": 0, "skip": 0})

    @property
    def passed(self) -> bool:
        return self.counts["FAIL"] == 0 and self.counts["ok"] > 0

    def line(self, outcome: str, step: str, detail: str) -> None:
        self.counts[outcome] += 1
        self.out.write(f"  {outcome:<5} {step:<13} {detail}\n")
        self.out.flush()

    def close(self) -> None:
        c = self.counts
        self.out.write(f"smoke: {c['ok']} steps ok, {c['FAIL']} failed, {c['skip']} skipped\n")


class Line:
    """One WebSocket connection: frames as they come, waited for by type, within a bound."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                try:
                    self.frames.put_nowait(json.loads(message.data))
                except ValueError:
                    self.frames.put_nowait({"type": "?", "raw": message.data})

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def until(self, *types: str) -> list[dict[str, Any]]:
        """Frames up to the first of ``types``; an error frame ends the wait as a failure."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + self.timeout
        while True:
            left = deadline - time.monotonic()
            try:
                frame = await asyncio.wait_for(self.frames.get(), max(left, 0.001))
            except TimeoutError:
                raise StepFailed(f"no {'/'.join(types)} frame within {self.timeout:.0f} s") from None
            seen.append(frame)
            if frame.get("type") in types:
                return seen
            if frame.get("type") == "error" or ("message" in frame and "type" not in frame):
                raise StepFailed(f"the server answered {json.dumps(frame)}")

    async def close(self) -> None:
        self._reader.cancel()
        await self.ws.close()


async def smoke(url: str, token: str | None, agent_token: str | None, timeout: float, out: TextIO) -> Report:
    report = Report(out)
    out.write(f"smoke {url}\n")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=timeout)) as http:
        customer = await _step(report, "connect", lambda: _connect(http, url, token, timeout, customer=True))
        if customer is None:
            report.close()
            return report
        try:
            await _conversation(report, http, customer, url, agent_token, timeout)
        finally:
            await customer.close()
    report.close()
    return report


async def _conversation(
    report: Report,
    http: aiohttp.ClientSession,
    customer: Line,
    url: str,
    agent_token: str | None,
    timeout: float,
) -> None:
    async def session() -> str:
        await customer.send({"action": "session"})
        [*_, frame] = await customer.until("session")
        how = "resumed" if frame.get("resumed") else "new"
        return f"session {frame['session_id']} ({how}, {frame['status']})"

    if await _step(report, "session", session) is None:
        return
    message_id = f"smoke-{uuid.uuid4().hex[:12]}"
    reply: dict[str, Any] = {}

    async def streaming() -> str:
        started = time.monotonic()
        await customer.send({"action": "sendMessage", "message": QUESTION, "message_id": message_id})
        first_chunk = None
        chunks: list[dict[str, Any]] = []
        while True:
            [*_, frame] = await customer.until("chunk", "message")
            if frame["type"] == "chunk":
                first_chunk = first_chunk or time.monotonic() - started
                chunks.append(frame)
                continue
            break
        whole = time.monotonic() - started
        reply.update(frame)
        if frame.get("reply_to") != message_id:
            raise StepFailed(f"the reply answers {frame.get('reply_to')!r}, not {message_id!r}")
        if not chunks:
            raise StepFailed(f"the reply came whole, not streamed ({_ms(whole)})")
        if "".join(c.get("delta", "") for c in chunks) != frame.get("content"):
            raise StepFailed("the chunks do not add up to the reply")
        return (
            f"first chunk {_ms(first_chunk or whole)}, whole reply {_ms(whole)} "
            f"({len(chunks)} chunks, {len(frame.get('content', ''))} chars)"
        )

    if await _step(report, "streaming", streaming) is None:
        return

    async def repeated() -> str:
        started = time.monotonic()
        await customer.send({"action": "sendMessage", "message": QUESTION, "message_id": message_id})
        frames = await customer.until("message")
        if any(f.get("type") == "chunk" for f in frames):
            raise StepFailed("the repeated message id was answered again")
        if frames[-1].get("content") != reply.get("content"):
            raise StepFailed("the repeated message id got a different reply")
        return f"the stored reply in {_ms(time.monotonic() - started)}, no second answer"

    await _step(report, "repeated id", repeated)

    async def history() -> str:
        started = time.monotonic()
        await customer.send({"action": "history", "limit": 100})
        [*_, frame] = await customer.until("history")
        turns = [(t.get("role"), t.get("content")) for t in frame.get("turns", [])]
        mine = [t for t in turns if t == ("user", QUESTION) or t == ("assistant", reply.get("content"))]
        if mine != [("user", QUESTION), ("assistant", reply.get("content"))]:
            raise StepFailed(f"expected one user and one assistant turn for the message, got {mine}")
        return f"{len(turns)} turns, oldest first, in {_ms(time.monotonic() - started)}"

    await _step(report, "history", history)
    if not agent_token:
        report.line("skip", "handoff", "no --agent-token: the agent's side needs an agent's credential")
        return
    await _step(report, "handoff", lambda: _handoff(http, customer, url, agent_token, timeout))


async def _handoff(
    http: aiohttp.ClientSession, customer: Line, url: str, agent_token: str, timeout: float
) -> str:
    """Customer asks for a person; the agent claims, answers, gives the session back to the bot."""
    started = time.monotonic()
    await customer.send({"action": "session"})
    [*_, current] = await customer.until("session")
    session_id = current["session_id"]
    await customer.send({"action": "handoff", "reason": "smoke test"})
    await customer.until("handoff")
    agent = await _connect(http, url, agent_token, timeout, customer=False)
    try:
        await agent.send({"action": "agent.claim", "session_id": session_id})
        await agent.until("claimed")
        await customer.send(
            {"action": "sendMessage", "message": HANDOFF_QUESTION, "message_id": str(uuid.uuid4())}
        )
        await customer.until("forwarded")
        [*_, forwarded] = await agent.until("customer_message")
        if forwarded.get("content") != HANDOFF_QUESTION:
            raise StepFailed("the agent did not get the customer's message")
        replied = time.monotonic()
        await agent.send(
            {
                "action": "agent.reply",
                "session_id": session_id,
                "message": "Checking now.",
                "reply_id": str(uuid.uuid4()),
            }
        )
        [*_, answer] = await customer.until("message")
        if not answer.get("agent_id"):
            raise StepFailed("the agent's reply reached the customer unlabelled")
        agent_reply = time.monotonic() - replied
        await agent.send({"action": "agent.release", "session_id": session_id})
        await customer.until("handoff")
    finally:
        await agent.close()
    total = _ms(time.monotonic() - started)
    return f"claimed, answered ({_ms(agent_reply)} to reach the customer), released; {total}"


async def _connect(
    http: aiohttp.ClientSession, url: str, token: str | None, timeout: float, customer: bool
) -> Line:
    target = URL(url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if not token and customer:
        target = target.update_query({"customer_id": f"smoke-{uuid.uuid4().hex[:12]}"})
    try:
        ws = await http.ws_connect(target, headers=headers, timeout=aiohttp.ClientWSTimeout(ws_receive=None))
    except aiohttp.WSServerHandshakeError as error:
        raise StepFailed(f"the handshake was refused with {error.status}") from None
    except (aiohttp.ClientError, OSError) as error:
        raise StepFailed(
            f"no server at {url} ({_reason(error)}): is `manga-assist serve` running, or the stage deployed?"
        ) from None
    return Line(ws, timeout)


async def _step(report: Report, name: str, action: Callable[[], Awaitable[Any]]) -> Any:
    started = time.monotonic()
    try:
        result = await action()
    except StepFailed as failure:
        report.line("FAIL", name, str(failure))
        return None
    except (aiohttp.ClientError, ConnectionError) as error:
        report.line("FAIL", name, f"the connection failed: {_reason(error)}")
        return None
    detail = result if isinstance(result, str) else _ms(time.monotonic() - started)
    report.line("ok", name, detail)
    return result


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _reason(error: BaseException) -> str:
    return str(getattr(error, "os_error", None) or error) or type(error).__name__
