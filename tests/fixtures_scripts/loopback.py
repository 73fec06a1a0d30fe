"""A tiny HTTP server on 127.0.0.1 that serves scripted replies to the data-script tests (no internet).

    with LoopbackServer() as server:
        server.route("/a.jpg", Reply(body=b"..."))                  # same reply every time
        server.route("/b.jpg", Reply(status=421), Reply(body=b"x"))  # 421 first, then success
        server.route("/c.jpg", Reply(body=data, drop_after=100))     # connection dies after 100 bytes
        server.route("/d.jpg", Reply(delay=1.0), Reply(body=b"x"))   # slow first answer (client timeout)
        server.route("/post.json", lambda query: Reply(body=...))   # computed from the query string
        requests.get(server.url("/a.jpg"))
        server.requests  # [(path, query, headers), ...] in arrival order

Replies with ``ranges=True`` answer a ``Range: bytes=N-`` request with 206 and the rest of the body.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = dataclasses.field(default_factory=dict)
    drop_after: int | None = None  # send this many body bytes, then close the connection
    ranges: bool = False
    delay: float = 0.0  # seconds to wait before answering (to make a client time out)


class LoopbackServer:
    def __init__(self):
        self.routes: dict[str, list | Callable] = {}
        self.requests: list[tuple[str, dict, dict]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, *replies) -> None:
        """Serve ``replies`` in turn at ``path`` (the last one repeats), or one callable(query)->Reply."""
        self.routes[path] = replies[0] if len(replies) == 1 and callable(replies[0]) else list(replies)

    def hits(self, path: str) -> int:
        return sum(1 for p, _, _ in self.requests if p == path)

    def _next_reply(self, path: str, query: dict) -> Reply:
        with self._lock:
            target = self.routes.get(path)
            if target is None:
                return Reply(status=404, body=b"not found")
            if callable(target):
                return target(query)
            return target.pop(0) if len(target) > 1 else target[0]

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _handler_for(server: LoopbackServer):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with server._lock:
                server.requests.append((parts.path, query, dict(self.headers)))
            reply = server._next_reply(parts.path, query)
            time.sleep(reply.delay)
            status, body, headers = reply.status, reply.body, dict(reply.headers)
            wanted = self.headers.get("Range", "")
            if reply.ranges and wanted.startswith("bytes=") and status == 200:
                start = int(wanted[len("bytes="):].split("-")[0])
                if start >= len(body):
                    status, body = 416, b""
                    headers["Content-Range"] = f"bytes */{len(reply.body)}"
                else:
                    status, body = 206, body[start:]
                    headers["Content-Range"] = f"bytes {start}-{len(reply.body) - 1}/{len(reply.body)}"
            self.close_connection = True
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body if reply.drop_after is None else body[:reply.drop_after])
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client hung up (timed out, or stopped reading)
                pass

        def log_message(self, *args):  # keep test output clean
            pass

    return Handler
