"""``manga-assist chat``: talk to a running server from the terminal; replies stream as they arrive.

Commands: ``/help``, ``/history``, ``/human [reason]``, ``/quit``; any other ``/word`` is refused
here, never sent to the bot. Each line waits for its answer before the next one is read, so that
``manga-assist chat < questions.txt`` works too: the server answers one message at a time per
session. A message refused for going too fast is sent again, with the same message id, once the
server's ``retry_after`` has passed; one refused for today's limit is not."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any, TextIO

import aiohttp
from yarl import URL

from application.frame_size import MAX_FRAME_BYTES, MAX_MESSAGE_BYTES, encode_frame, text_cost
from entrypoints.credentials import SUBPROTOCOL

DEFAULT_URL = "ws://127.0.0.1:8080/ws"
ANSWER_TIMEOUT = 120.0
RESEND_ATTEMPTS = 3  # a message refused for its rate, or while an earlier reply is still coming
BUSY_PAUSE = 2.0  # seconds before asking again when the session's previous reply is still coming
FINAL_TYPES = {"message", "error", "history", "session", "handoff"}
HELP = "Type a message and press Enter. /history: the conversation, /human: ask for a person, /quit: leave."
COMMANDS = {
    "/help": "this list",
    "/history": "the conversation so far",
    "/human [reason]": "ask for a person; they answer here",
    "/quit": "leave (Ctrl-D too)",
}
FULL_HELP = "\n".join(["Commands:", *(f"  {name:<16} {what}" for name, what in COMMANDS.items())])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the server's WebSocket (default {DEFAULT_URL})")
    parser.add_argument(
        "--token",
        help="your credential (`manga-assist token`, or a guest's resume token), sent as the subprotocol",
    )
    parser.add_argument(
        "--customer-id", help="who you are, where the server trusts the query string (serve --auth none)"
    )
    parser.add_argument("--session-id", help="resume this session")


def run(args: argparse.Namespace) -> int:
    customer_id = args.customer_id or f"terminal-{uuid.uuid4().hex[:12]}"
    try:
        return asyncio.run(
            converse(args.url, customer_id, args.session_id, _stdin_lines(), sys.stdout, token=args.token)
        )
    except KeyboardInterrupt:
        return 0


def socket_url(url: str, customer_id: str | None, session_id: str | None) -> URL:
    query = {k: v for k, v in {"customer_id": customer_id, "session_id": session_id}.items() if v}
    return URL(url).update_query(query)


class Printer:
    """Renders server frames; tells the input loop when the answer to its last line is complete."""

    def __init__(self, out: TextIO, customer_id: str | None, token: str | None = None) -> None:
        self.out = out
        self.customer_id = customer_id
        self.token = token
        self.answered = asyncio.Event()
        self.status = "active"  # the session's; "handoff" while a human agent has it
        self._streaming: str | None = None  # the reply being printed
        self.refusal: dict[str, Any] | None = None  # the error frame that answered the last line
        self._replaying = False  # printed from message frames, not chunks
        self._history_parts: dict[int, list[dict[str, Any]]] = {}  # a long history, until whole

    def frame(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "history" and "parts" in frame:
            whole = self._whole_history(frame)
            if whole is None:
                return  # more parts to come
            frame = whole
        if kind == "chunk":
            if self._streaming != frame.get("response_id"):
                self._end_stream()
                self._streaming = frame.get("response_id")
                self.out.write("MangaAssist> ")
            self.out.write(str(frame.get("delta", "")))
        elif kind == "message":
            # A long reply comes as several message frames (part/parts); the last one ends it.
            response_id = frame.get("response_id")
            if self._streaming != response_id:  # not streamed: a stored reply, or an agent's
                self._end_stream()
                agent = frame.get("agent_id")
                self.out.write(f"Agent {agent}> " if agent else "MangaAssist> ")
                self._streaming, self._replaying = response_id, True
            if self._replaying:
                self.out.write(str(frame.get("content", "")))
            if int(frame.get("part", 0)) + 1 < int(frame.get("parts", 1)):
                self.out.flush()
                return
            self._end_stream()
        else:
            self._end_stream()
            if kind in ("session", "handoff") and isinstance(frame.get("status"), str):
                self.status = frame["status"]
            self.out.write(self._describe(frame) + "\n")
        self.out.flush()
        if kind in FINAL_TYPES:
            self.refusal = frame if kind == "error" else None
            self.answered.set()

    def _whole_history(self, frame: dict[str, Any]) -> dict[str, Any] | None:
        """A history over 32 KB comes in parts; a turn cut across frames has ``continued`` entries."""
        self._history_parts[int(frame.get("part", 0))] = list(frame.get("turns") or [])
        if len(self._history_parts) < int(frame["parts"]):
            return None
        entries = [e for n in sorted(self._history_parts) for e in self._history_parts[n]]
        self._history_parts = {}
        turns, carried = [], ""
        for entry in entries:
            if entry.get("continued"):
                carried += str(entry.get("content", ""))
                continue
            turns.append({**entry, "content": carried + str(entry.get("content", ""))})
            carried = ""
        return {"type": "history", "turns": turns}

    def _end_stream(self) -> None:
        if self._streaming is not None:
            self.out.write("\n")
            self._streaming, self._replaying = None, False

    def _describe(self, frame: dict[str, Any]) -> str:
        kind = frame.get("type")
        if kind == "error":
            return _refusal(frame)
        if kind == "session":
            how = "resumed" if frame.get("resumed") else "new"
            if isinstance(frame.get("resume_token"), str):  # a guest: this is who they are next time
                self.token = frame["resume_token"]
            who = f"--token {self.token}" if self.token else f"--customer-id {self.customer_id}"
            return (
                f"* session {frame.get('session_id')} ({how}, {frame.get('status')}); resume it with "
                f"{who} --session-id {frame.get('session_id')}"
            )
        if kind == "history":
            turns = frame.get("turns") or []
            lines = [f"  [{t.get('created_at')}] {t.get('role')}: {t.get('content')}" for t in turns]
            return "* history:" + ("\n" + "\n".join(lines) if lines else " (empty)")
        if kind == "forwarded":
            return "* delivered to the agent"
        if kind == "handoff":
            return "* " + _handoff_notice(frame)
        return f"* {json.dumps(frame, ensure_ascii=False)}"


def _handoff_notice(frame: dict[str, Any]) -> str:
    """What changed in the handoff, as the chat page says it (the frame's ``transition``)."""
    agent = frame.get("agent_id")
    transition = frame.get("transition")
    if transition == "claimed":
        return f"{agent} joined the conversation"
    if transition == "transferred":
        return (
            f"{agent} takes over the conversation"
            if agent
            else "you're back in the queue for the next free agent"
        )
    if transition == "unclaimed":
        return str(frame.get("message") or "no agent is free yet; you are still in the queue")
    if transition == "released" or frame.get("status") != "handoff":
        return "the agent handed the conversation back to MangaAssist"
    return "you are being connected to a human agent; they will answer here"


def too_large(frame: dict[str, Any]) -> bool:
    """A frame API Gateway would close the connection for, or a message the server refuses."""
    message = frame.get("message")
    over = isinstance(message, str) and text_cost(message) > MAX_MESSAGE_BYTES
    return over or len(encode_frame(frame)) > MAX_FRAME_BYTES


def _refusal(frame: dict[str, Any]) -> str:
    if frame.get("code") != "rate_limited":
        return f"! {frame.get('code')}: {frame.get('message')}"
    wait = _wait_label(frame.get("retry_after"))
    if frame.get("limit") == "message_rate":
        return f"! You're sending messages too fast: sending it again in {wait}."
    return f"! Today's limit is reached; it resets at 00:00 UTC, in {wait}. Please come back then."


def _wait_label(seconds: Any) -> str:
    whole = max(1, int(seconds)) if isinstance(seconds, int | float) else 1
    if whole < 120:
        return f"{whole} s"
    hours, minutes = divmod(-(-whole // 60), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def resend_after(refusal: dict[str, Any] | None) -> float | None:
    """Seconds to wait before sending the same frame again; ``None`` when it should not be."""
    if refusal is None:
        return None
    if refusal.get("code") == "rate_limited" and refusal.get("limit") == "message_rate":
        wait = refusal.get("retry_after")
        return float(wait) if isinstance(wait, int | float) and 0 < wait <= ANSWER_TIMEOUT else None
    if refusal.get("code") == "conflict":
        return BUSY_PAUSE  # an earlier reply of this session is still being written
    return None


class LocalAnswer(str):
    """What a line gets from the client itself, without asking the server (help, a refusal)."""


def frame_for(line: str) -> dict[str, Any] | LocalAnswer | None:
    """The frame a line of input stands for; a local answer for ``/help`` or an unknown command;
    ``None`` for a line that sends nothing."""
    text = line.strip()
    if not text:
        return None
    command, _, rest = text.partition(" ")
    if command == "/history":
        return {"action": "history"}
    if command == "/human":
        return {
            "action": "handoff",
            "reason": rest.strip() or "The customer asked for a human from the terminal",
        }
    if command in ("/help", "/?"):
        return LocalAnswer(FULL_HELP)
    if command.startswith("/") and len(command) > 1 and not command.startswith("//"):
        return LocalAnswer(
            f"! unknown command {command}: /help lists them (start a message with // to send a /)"
        )
    if text.startswith("//"):
        text = text[1:]
    return {"action": "sendMessage", "message": text, "message_id": str(uuid.uuid4())}


async def converse(
    url: str,
    customer_id: str | None,
    session_id: str | None,
    lines: AsyncIterator[str],
    out: TextIO,
    token: str | None = None,
) -> int:
    printer = Printer(out, customer_id, token)
    # As a browser sends it: the token rides as the second subprotocol, never in the URL.
    protocols = (SUBPROTOCOL, token) if token else (SUBPROTOCOL,)
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(socket_url(url, customer_id, session_id), protocols=protocols) as ws,
        ):
            reader = asyncio.create_task(_read(ws, printer))
            await _ask(ws, printer, {"action": "session"})
            out.write(HELP + "\n")
            async for line in lines:
                if line.strip() in ("/quit", "/exit"):
                    break
                frame = frame_for(line)
                if isinstance(frame, LocalAnswer):
                    out.write(frame + "\n")
                elif frame is not None and not await _ask(ws, printer, frame):
                    out.write("! the server closed the connection\n")
                    return 1
            reader.cancel()
    except aiohttp.WSServerHandshakeError as error:
        out.write(f"! the server refused the connection ({error.status})\n")
        return 1
    except (aiohttp.ClientConnectorError, ConnectionRefusedError):
        out.write(f"! no server at {url}: is `manga-assist serve` running?\n")
        return 1
    except aiohttp.ClientError as error:
        out.write(f"! cannot reach {url}: {error}\n")
        return 1
    return 0


async def _ask(ws: aiohttp.ClientWebSocketResponse, printer: Printer, frame: dict[str, Any]) -> bool:
    if ws.closed:
        return False
    if too_large(frame):
        printer.out.write(f"! too long to send: keep a message under {MAX_MESSAGE_BYTES // 1024} KB\n")
        return True
    for _ in range(RESEND_ATTEMPTS + 1):
        printer.answered.clear()
        printer.refusal = None
        await ws.send_str(encode_frame(frame).decode())  # UTF-8 as is: \u escapes would triple its size
        if frame["action"] == "sendMessage" and printer.status == "handoff":
            # The agent answers when they answer (the reader prints it then): acknowledge it now.
            printer.out.write("* sent to the agent; their answer will appear here\n")
            printer.out.flush()
            return True
        try:
            await asyncio.wait_for(printer.answered.wait(), ANSWER_TIMEOUT)
        except TimeoutError:
            printer.out.write("! no answer yet; it may still arrive\n")
        wait = resend_after(printer.refusal) if frame["action"] == "sendMessage" else None
        if wait is None or ws.closed:
            break
        await asyncio.sleep(wait)  # the same frame, the same message_id: answered once however often sent
    return not ws.closed


async def _read(ws: aiohttp.ClientWebSocketResponse, printer: Printer) -> None:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.TEXT:
            try:
                printer.frame(json.loads(message.data))
            except ValueError:
                printer.out.write(f"* {message.data}\n")
    printer.answered.set()  # closed: nothing more will come


async def _stdin_lines() -> AsyncIterator[str]:
    """Lines of standard input, read by a daemon thread: a blocked read never holds up the exit."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, "")

    threading.Thread(target=read, name="stdin", daemon=True).start()
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            sys.stdout.write("you> ")
            sys.stdout.flush()
        line = await queue.get()
        if not line:
            return
        yield line
