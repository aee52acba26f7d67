"""Calls prepared ahead of their fire time: connected early, sent exactly at the instant and never before, the answer
read the same way as any call; a connection that cannot be used falls back to an ordinary call. A raw TCP server
shows what crosses the wire and when."""
from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask

from src.models.base import utcnow
from src.scheduler import http_client
from src.scheduler.dispatch import get_dispatcher
from src.scheduler.job_executor import (CallContext, CallSettings, Target, call_target, finish_prepared, prepare_call,
                                        send_prepared)
from test.test_scheduler.conftest import executions_of, make_job

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
KEEP_ALIVE = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept"
CONTEXT = CallContext(trigger="scheduled", job_id="job-1", execution_id="exec-1")


@dataclass
class Connection:
    accepted: float
    first_bytes: float | None = None
    data: bytes = b""
    requests: int = 0
    closed_by_client: bool = False


@dataclass
class RawServer:
    """Accepts, records every connection's timing and bytes, and answers each request with `answer(index)`."""

    answer: Callable[[int], bytes | None]
    tls: ssl.SSLContext | None = None
    hang_up: bool = False  # close after each answer without saying so (an idle timeout)
    connections: list[Connection] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "/hook", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                record = Connection(accepted=time.time())
                self.connections.append(record)
                index = len(self.connections) - 1
            threading.Thread(target=self._serve, args=(client, record, index), daemon=True).start()

    def _serve(self, client: socket.socket, record: Connection, index: int) -> None:
        """Answer request after request on the connection until an answer says `Connection: close`."""
        try:
            if self.tls is not None:
                client = self.tls.wrap_socket(client, server_side=True)
            reply = self.answer(index)
            if reply is None:
                client.close()
                return
            pending = b""
            while True:
                while b"\r\n\r\n" not in pending:
                    chunk = client.recv(65536)
                    if not chunk:
                        record.closed_by_client = True
                        return
                    record.first_bytes = record.first_bytes or time.time()
                    record.data += chunk
                    pending += chunk
                head, _, pending = pending.partition(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), b"0"))
                while len(pending) < length:
                    pending += client.recv(65536)
                pending = pending[length:]
                record.requests += 1
                client.sendall(reply)
                if b"Connection: close" in reply or self.hang_up:
                    break
            if self.tls is None:
                client.shutdown(socket.SHUT_WR)  # ends a close-delimited answer; the client then closes too
            client.settimeout(5)
            while client.recv(65536):
                pass
            record.closed_by_client = True
        except TimeoutError:
            pass
        except OSError:
            record.closed_by_client = True
        finally:
            client.close()

    def requests(self) -> list[Connection]:
        with self.lock:
            return [c for c in self.connections if c.first_bytes is not None]

    def stop(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(answer: Callable[[int], bytes | None] = lambda _i: OK, tls: ssl.SSLContext | None = None,
              hang_up: bool = False) -> RawServer:
        servers.append(RawServer(answer, tls, hang_up))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def settings(**overrides: object) -> CallSettings:
    values: dict[str, object] = {"timeout": 2.0, "allow_private": True}
    values.update(overrides)
    return CallSettings(**values)  # type: ignore[arg-type]


def webhook(url: str) -> Target:
    return Target.from_fields(target_url=url, github_owner=None, github_repo=None, github_workflow_name=None,
                              metadata={"env": "prod"}, default_owner=None)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_a_prepared_call_is_connected_ahead_and_sends_nothing_until_told(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server()
    call = prepare_call(webhook(server.url()), CONTEXT, settings())
    assert call is not None
    assert wait_for(lambda: len(server.connections) == 1)
    time.sleep(0.3)
    assert server.requests() == []
    told = time.time()
    assert send_prepared(call)
    result = finish_prepared(call)
    assert result.ok and result.status_code == 200 and result.output == "ok"
    [request] = server.requests()
    assert request.first_bytes is not None and request.first_bytes >= told
    head = request.data.decode()
    assert head.startswith("POST /hook HTTP/1.1\r\n")
    assert "X-Cron-Execution-Id: exec-1" in head and head.endswith('{"env":"prod"}')
    assert wait_for(lambda: request.closed_by_client)


def test_a_connection_the_server_dropped_before_the_instant_is_not_used(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda index: None if index == 0 else OK)
    call = prepare_call(webhook(server.url()), CONTEXT, settings())
    assert call is not None
    assert wait_for(lambda: len(server.connections) == 1)
    time.sleep(0.1)  # the server has closed it
    assert send_prepared(call) is False
    assert server.requests() == []


def test_preparing_never_connects_to_a_refused_or_private_target(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server()
    assert prepare_call(webhook(server.url()), CONTEXT, settings(allow_private=False)) is None
    assert prepare_call(webhook(server.url().replace("127.0.0.1", "localhost")), CONTEXT,
                        settings(allow_private=False)) is None
    time.sleep(0.1)
    assert server.connections == []
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert prepare_call(webhook(f"http://127.0.0.1:{port}/x"), CONTEXT, settings()) is None


def test_chunked_and_close_delimited_answers_are_read_whole(raw_server: Callable[..., RawServer]) -> None:
    chunked = raw_server(lambda _i: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                    b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")
    until_close = raw_server(lambda _i: b"HTTP/1.1 202 Accepted\r\nConnection: close\r\n\r\nqueued")
    first = call_target(webhook(chunked.url()), CONTEXT, settings())
    assert first.ok and first.output == "abcdefg"
    second = call_target(webhook(until_close.url()), CONTEXT, settings())
    assert second.ok and second.status_code == 202 and second.output == "queued"


def test_a_garbage_answer_or_an_unsendable_url_is_a_clear_failure(raw_server: Callable[..., RawServer]) -> None:
    garbage = raw_server(lambda _i: b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    result = call_target(webhook(garbage.url()), CONTEXT, settings())
    assert not result.ok and result.error == "Connection error"
    assert result.message.startswith(f"The connection to 127.0.0.1:{garbage.port} broke before a complete answer")
    spaced = call_target(webhook(garbage.url("/a b")), CONTEXT, settings())
    assert not spaced.ok and spaced.error == "Invalid target"


def test_a_kept_connection_is_reused_and_one_the_server_closed_is_replaced(
        raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda _i: KEEP_ALIVE)
    for _ in range(3):
        result = call_target(webhook(server.url()), CONTEXT, settings())
        assert result.ok and result.output == "kept"
    assert [c.requests for c in server.connections] == [3]
    hanging_up = raw_server(lambda _i: KEEP_ALIVE, hang_up=True)
    for _ in range(2):
        assert call_target(webhook(hanging_up.url()), CONTEXT, settings()).ok
        time.sleep(0.1)  # the server hangs up while the connection sits in the pool
    assert [c.requests for c in hanging_up.connections] == [1, 1]
    assert wait_for(lambda: hanging_up.connections[0].closed_by_client)  # found closed, and closed


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


def test_https_is_verified_and_a_prepared_tls_call_survives_the_wait(
        raw_server: Callable[..., RawServer], certificate: tuple[Path, Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = certificate
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    server = raw_server(tls=server_tls)
    untrusted = call_target(webhook(server.url(scheme="https")), CONTEXT, settings())
    assert not untrusted.ok and untrusted.error == "TLS error" and "certificate verify failed" in untrusted.message
    trusting = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr(http_client, "_tls", trusting)  # the trust store is configuration; the handshake is real
    call = prepare_call(webhook(server.url(scheme="https")), CONTEXT, settings())
    assert call is not None
    time.sleep(0.3)  # a TLS 1.3 server's session tickets arrive meanwhile: not a dropped connection
    assert send_prepared(call)
    result = finish_prepared(call)
    assert result.ok and result.output == "ok"


def test_a_prepared_burst_connects_ahead_and_arrives_at_its_instant_never_before(
        fast_app: Flask, raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(lambda index: None if index == 0 else OK)  # the first connection is dropped on accept
    with fast_app.app_context():
        jobs = [make_job(f"burst-{i}", target_url=server.url(f"/hook/{i}")) for i in range(20)]
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow().replace(microsecond=0) + timedelta(seconds=3)
        assert len(dispatcher.prepare([(job.id, fire) for job in jobs])) == 20
        time.sleep(max(0.0, (fire - utcnow()).total_seconds()) - 0.1)
        assert len(server.connections) >= 20 and server.requests() == []
        time.sleep(0.6)
        assert dispatcher.wait_idle(10)
        statuses = [execution.status for job in jobs for execution in executions_of(job.id)]
    assert statuses == ["success"] * 20
    requests = server.requests()
    assert len(requests) == 20  # the dropped connection's call went the ordinary way, once
    arrivals = sorted(request.first_bytes - fire.timestamp() for request in requests if request.first_bytes)
    assert 0 <= arrivals[0] and arrivals[-1] < 0.5
    assert wait_for(lambda: all(c.closed_by_client for c in server.connections[1:]))  # none left open


def test_a_burst_beyond_the_descriptor_budget_runs_the_rest_the_ordinary_way(
        fast_app: Flask, raw_server: Callable[..., RawServer]) -> None:
    server = raw_server()
    with fast_app.app_context():
        jobs = [make_job(f"budget-{i}", target_url=server.url(f"/hook/{i}")) for i in range(10)]
        dispatcher = get_dispatcher(fast_app)
        dispatcher._opener.budget = 4
        fire = utcnow().replace(microsecond=0) + timedelta(seconds=3)
        assert len(dispatcher.prepare([(job.id, fire) for job in jobs])) == 10
        time.sleep(max(0.0, (fire - utcnow()).total_seconds()) - 0.1)
        assert len(server.connections) == 4
        time.sleep(0.6)
        assert dispatcher.wait_idle(10)
        statuses = [execution.status for job in jobs for execution in executions_of(job.id)]
    assert statuses == ["success"] * 10
    assert len(server.requests()) == 10
    assert all(request.first_bytes and request.first_bytes >= fire.timestamp() for request in server.requests())
