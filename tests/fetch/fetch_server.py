"""A local HTTP server (127.0.0.1, random port) that plays each source's layout, and no internet.

Test modules of tests/fetch import the fixtures (``fake_server`` as ``server``, ``pgml_cache`` as
``cache``) and the autouse guard ``no_internet`` from here (a second ``conftest.py`` would shadow
tests/conftest.py's helpers).

``server.add(path, Reply(...), Reply(...))`` queues replies for one path (the last one repeats);
a reply can drop the connection after some bytes, honour ``Range`` (206) or ignore it, send slowly, or
be any status with any headers. ``server.requests`` records (method, path, headers, body) of each
request. During these tests every connection to a non-loopback address raises, so a source whose base
URL was not pointed at the server fails instead of reaching the internet.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: close the connection after sending this many body bytes (Content-Length stays the full size)
    drop_after: int | None = None
    #: answer a Range request with 206 and the rest of the body
    ranges: bool = True
    #: seconds to sleep between 1 kB chunks
    slow: float = 0.0


class FakeServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def file(self, path: str, body: bytes, **headers: str) -> str:
        """Serve ``body`` at ``path`` (Range-capable); return its sha256."""
        self.add(path, Reply(body=body, headers=headers))
        return hashlib.sha256(body).hexdigest()

    def gets(self, path: str | None = None) -> list[tuple[str, str, dict[str, str], bytes]]:
        return [r for r in self.requests if r[0] == "GET" and (path is None or r[1] == path)]

    def _next(self, path: str) -> Reply | None:
        with self._lock:
            queue = self.routes.get(path)
            if not queue:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _serve(self, head_only: bool = False) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(length) if length else b""
                server.requests.append((self.command, self.path, dict(self.headers), body_in))
                reply = server._next(self.path)
                if reply is None:
                    reply = Reply(status=404, body=b"not found\n", headers={"Content-Type": "text/plain"})
                body, status = reply.body, reply.status
                headers = {"Content-Type": "application/octet-stream", **reply.headers}
                rng = self.headers.get("Range")
                if rng and reply.ranges and status == 200 and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0])
                    headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                    body, status = body[start:], 206
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                if reply.drop_after is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if head_only:
                    return
                out = body if reply.drop_after is None else body[: reply.drop_after]
                for i in range(0, len(out), 1024):
                    self.wfile.write(out[i:i + 1024])
                    self.wfile.flush()
                    if reply.slow:
                        time.sleep(reply.slow)
                if reply.drop_after is not None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def do_HEAD(self) -> None:
                self._serve(head_only=True)

        return Handler

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that does not go to the loopback interface."""
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in LOOPBACK:
            raise ConnectionRefusedError(f"tests may not reach the internet ({host})")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", _loopback_only(socket.getaddrinfo))


def _loopback_only(real):
    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK and host is not None:
            raise socket.gaierror(f"tests may not resolve {host}")
        return real(host, *args, **kwargs)

    return getaddrinfo


@pytest.fixture(name="server")
def fake_server():
    srv = FakeServer()
    yield srv
    srv.close()


@pytest.fixture(name="cache")
def pgml_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PGML_CACHE for the test."""
    root = tmp_path / "cache"
    monkeypatch.setenv("PGML_CACHE", str(root))
    return root


#: fast network settings for tests: tiny backoff, no rate limit
FAST = ["--backoff", "0.01", "--rate", "0", "--retries", "3", "--read-timeout", "5", "--connect-timeout", "2"]
