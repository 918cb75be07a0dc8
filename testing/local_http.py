"""A threaded HTTP server on 127.0.0.1 and a free port, for the stand-ins of AWS APIs."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LocalServer(ThreadingHTTPServer):
    """A thread per connection; a client hanging up (timeouts, dropped streams) is not an error."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalServer:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Served:
    """``with StandIn() as api:`` serves ``handler_class`` on a free port, its handlers reaching the
    stand-in as ``self.owner``. Subclasses are attrs classes with a ``_server`` field."""

    handler_class: type[BaseHTTPRequestHandler]
    _server: LocalServer | None

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url

    def __enter__(self) -> Any:
        handler = type("Handler", (self.handler_class,), {"owner": self})
        self._server = LocalServer(handler).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.stop()
