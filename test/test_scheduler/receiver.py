"""A real HTTP receiver on 127.0.0.1 that records every request and behaves by path (tests and the benchmark).

Paths: /ok (200), /status/<code>, /hang/<seconds> (answers after that long), /big (10 MB body), /redirect-away
(307 to another host), /redirect-here (307 to /ok on itself), /github/... (GitHub's dispatch API: 204, or 404
with GitHub's JSON error when the workflow is named "missing.yml").
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop_event: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def received(self, prefix: str = "") -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(prefix)]

    def wait_for(self, count: int, prefix: str = "", timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(prefix)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return self.received(prefix)

    def stop(self) -> None:
        self.stop_event.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(receiver_ref: list[Receiver]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            return

        def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        def do_POST(self) -> None:
            arrived = time.time()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            receiver = receiver_ref[0]
            with receiver.lock:
                receiver.requests.append(Received(self.path, dict(self.headers.items()), body, arrived))
            path = self.path
            if path.startswith("/hang/"):
                receiver.stop_event.wait(float(path.split("/")[2]))
                self._reply(200, b"late")
            elif path.startswith("/status/"):
                code = int(path.split("/")[2])
                self._reply(code, f"answer {code}".encode())
            elif path == "/big":
                self._send_big()
            elif path == "/redirect-away":
                self._reply(307, headers={"Location": "http://example.invalid/steal"})
            elif path == "/redirect-here":
                self._reply(307, headers={"Location": "/ok"})
            elif path.startswith("/github/"):
                if path.split("/")[-2] == "missing.yml":
                    self._reply(404, json.dumps({"message": "Not Found",
                                                 "documentation_url": "https://docs.github.com"}).encode(),
                                {"Content-Type": "application/json"})
                else:
                    self._reply(204)
            else:
                self._reply(200, b'{"received": true}', {"Content-Type": "application/json"})

        def _send_big(self) -> None:
            size = 10 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # listen() backlog: many simultaneous connects must not be reset


def start_receiver() -> Receiver:
    ref: list[Receiver] = []
    server = _Server(("127.0.0.1", 0), _handler(ref))
    receiver = Receiver(server)
    ref.append(receiver)
    threading.Thread(target=server.serve_forever, name="test-receiver", daemon=True).start()
    return receiver
