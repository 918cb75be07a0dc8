"""Local Management APIs for the real boto3 client: a stand-in that can misbehave (it accepts the
first posts, then says the client left with 410 ``GoneException``, or answers scripted errors) and
remembers every frame with its arrival time; and reading what moto's own server (testing.aws.moto_server),
where every post succeeds, kept."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote

from attrs import define, field, frozen
from moto.apigatewaymanagementapi.models import apigatewaymanagementapi_backends

from testing.local_http import LocalServer, QuietHandler, Served


@frozen
class Post:
    at: float  # time.perf_counter() on arrival
    connection_id: str
    frame: dict[str, Any]
    status: int


def _answers(items: Iterable[tuple[int, str]]) -> deque[tuple[int, str]]:
    return deque(items)


@define
class ManagementApiStandIn(Served):
    """``with ManagementApiStandIn(gone_after=3) as api:`` accepts three posts, then every post to
    any connection answers 410. ``errors`` are answered first, one per post: (status, error code)."""

    gone_after: int | None = None
    errors: deque[tuple[int, str]] = field(factory=deque, converter=_answers)
    posts: list[Post] = field(factory=list)
    deleted: list[str] = field(factory=list)
    _accepted: int = 0
    _server: LocalServer | None = None
    _lock: threading.Lock = field(factory=threading.Lock)

    def frames(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Frames accepted (answered 200), in arrival order."""
        return [p.frame for p in self.posts if p.status == 200 and kind in (None, p.frame.get("type"))]

    def answer(self, connection_id: str, body: bytes) -> tuple[int, str | None]:
        arrived = time.perf_counter()
        with self._lock:
            if self.errors:
                status, code = self.errors.popleft()
            elif self.gone_after is not None and self._accepted >= self.gone_after:
                status, code = 410, "GoneException"
            else:
                status, code = 200, None
                self._accepted += 1
            self.posts.append(Post(arrived, connection_id, json.loads(body), status))
        return status, code

    def delete(self, connection_id: str) -> tuple[int, str | None]:
        with self._lock:
            self.deleted.append(connection_id)
            return self.errors.popleft() if self.errors else (204, None)


class _Handler(QuietHandler):
    owner: ManagementApiStandIn

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, code = self.owner.answer(self._connection_id(), body)
        self._reply(status, code)

    def do_DELETE(self) -> None:
        status, code = self.owner.delete(self._connection_id())
        self._reply(status, code)

    def _connection_id(self) -> str:
        return unquote(self.path.rsplit("/@connections/", 1)[-1])

    def _reply(self, status: int, code: str | None) -> None:
        data = json.dumps({"message": code}).encode() if code else b""
        self.send_response(status)
        if code:
            self.send_header("x-amzn-ErrorType", code)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def frames_at_moto(connection_id: str, account: str = "123456789012", region: str = "us-east-1") -> list[Any]:
    """moto keeps a connection's posts as one byte string (under the id as the URL quotes it):
    split it back into frames."""
    connections = apigatewaymanagementapi_backends[account][region].connections
    data = connections[quote(connection_id, safe="")].data.decode()
    decoder, frames, at = json.JSONDecoder(), [], 0
    while at < len(data):
        frame, at = decoder.raw_decode(data, at)
        frames.append(frame)
    return frames


ManagementApiStandIn.handler_class = _Handler
