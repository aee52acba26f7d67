"""A webhook target on loopback for the end-to-end run and the benchmark: answers every POST with 200.

`python test/e2e/receiver.py PORT_FILE` binds 127.0.0.1 on an ephemeral port, writes the port to PORT_FILE and
serves until terminated; it counts the calls it received at GET /count.
"""
from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Receiver(BaseHTTPRequestHandler):
    calls = 0
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with Receiver.lock:
            Receiver.calls += 1
        self._reply(b'{"received": true}')

    def do_GET(self) -> None:  # noqa: N802
        self._reply(f'{{"count": {Receiver.calls}}}'.encode())

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        """Quiet: the benchmark sends a thousand calls a minute."""


def main(port_file: str) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Path(port_file).write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
