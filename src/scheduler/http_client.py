"""Outgoing HTTP/1.1 for job targets, in three steps that a burst can split: open, send, read.

`Connection.open` resolves the host, refuses loopback, private, link-local and metadata addresses before a single
packet when the deployment says so (the address checked is the address connected to, so a name that resolves, or
re-resolves, somewhere private cannot slip past), connects and negotiates TLS. `serialize` turns the request into
bytes, `send` writes them and `read_response` parses the answer with h11, bounded by a deadline and a size.

Why not a full client per call: a urllib3 request costs ~400 us of interpreter time here, so 1,000 calls due at the
same instant would leave at ~0.4 ms intervals. The dispatcher opens and serialises a burst's calls before their
fire time, and at the instant only `send` runs (~15 us a call). h11 is the HTTP/1.1 state machine that httpcore and
uvicorn use; bringing the sockets ourselves is what lets the steps be split. Connections whose exchange ended
cleanly are kept for reuse in one bounded pool per process (`connect` / `release`), and a kept connection is
checked just before use, so one the server closed meanwhile is replaced rather than failing the call.
Environment proxies are not used, otherwise the peer checked would be the proxy.
"""
from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import h11

READ_CHUNK = 16384
MAX_HEADER_BYTES = 64 * 1024
DEFAULT_PORTS = {"http": 80, "https": 443}
POOL_PER_ORIGIN = 64
POOL_ORIGINS = 256

_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


class BlockedAddressError(Exception):
    """The target resolved to an address this deployment does not call (WEBHOOK_ALLOW_PRIVATE_TARGETS=false)."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        super().__init__(f"{host} resolves to {address}, a {kind} address")
        self.host = host
        self.address = address
        self.kind = kind


class NoResponseError(Exception):
    """The connection ended, or broke the protocol, before a complete answer."""


@dataclass
class Response:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    complete: bool


def address_refusal(address: str) -> str | None:
    """Why `address` may not be called (a kind of address), or None when it is a public one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "unparseable"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (cloud metadata)"
    if ip.is_private:
        return "private"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "non-public"
    return None


def tls_context() -> ssl.SSLContext:
    """The process's client TLS settings: system trust store, hostname checks (shared; contexts are thread-safe)."""
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = ssl.create_default_context()
        return _tls


def remaining(deadline: float) -> float:
    """Seconds left before `deadline` (monotonic); a timeout error once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("deadline passed")
    return left


class Connection:
    """One HTTP/1.1 exchange over one socket."""

    def __init__(self, sock: socket.socket, url: SplitResult, key: tuple[str, str, int, bool]) -> None:
        self.sock = sock
        self.url = url
        self.key = key  # what a kept connection may be reused for: scheme, host, port, address policy
        self.protocol = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_HEADER_BYTES)
        self.headers_received = False  # tells a caller whether a timeout hit the wait or the reading

    @classmethod
    def open(cls, url: str, guarded: bool, deadline: float) -> Connection:
        """Resolve, check (when `guarded`), connect and, for https, negotiate TLS, all before `deadline`.

        Raises ValueError for a URL that is not http(s), BlockedAddressError, socket.gaierror, OSError (refused,
        unreachable), TimeoutError and ssl.SSLError.
        """
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme not in DEFAULT_PORTS or not host:
            raise ValueError(f"not an http(s) URL: {url[:100]}")
        port = parts.port or DEFAULT_PORTS[parts.scheme]
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if guarded:
            for *_, sockaddr in addresses:
                kind = address_refusal(str(sockaddr[0]))
                if kind is not None:
                    raise BlockedAddressError(host, str(sockaddr[0]), kind)
        sock = _connect(addresses, deadline)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if parts.scheme == "https":
                sock.settimeout(remaining(deadline))
                sock = tls_context().wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        return cls(sock, parts, _key(parts, guarded))

    def serialize(self, url: str, method: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
        """The request's bytes, ready to send (h11 refuses a target or header that would break the framing)."""
        self.url = urlsplit(url)
        target = (self.url.path or "/") + (f"?{self.url.query}" if self.url.query else "")
        default_port = self.url.port in (None, DEFAULT_PORTS[self.url.scheme])
        host = self.url.hostname or ""
        host = f"[{host}]" if ":" in host else host
        all_headers = [("Host", host if default_port else f"{host}:{self.url.port}"), *headers,
                       ("Content-Length", str(len(body)))]
        parts = [self.protocol.send(h11.Request(method=method, target=target, headers=all_headers)),
                 self.protocol.send(h11.Data(data=body)) if body else b"",
                 self.protocol.send(h11.EndOfMessage())]
        return b"".join(part or b"" for part in parts)

    def dropped(self) -> bool:
        """True when the peer closed (or wrote to) the connection before any request: it cannot carry one.

        A non-blocking read: nothing to read means alive. Over TLS this also consumes the session tickets a
        TLS 1.3 server sends after the handshake, which would otherwise look like data.
        """
        self.sock.setblocking(False)
        try:
            self.sock.recv(1)
        except (BlockingIOError, ssl.SSLWantReadError):
            return False
        except OSError:
            return True
        return True

    def send(self, payload: bytes, deadline: float) -> None:
        self.sock.settimeout(remaining(deadline))
        self.sock.sendall(payload)

    def read_response(self, deadline: float, max_body: int) -> Response:
        """The answer with at most `max_body` bytes of its body; `complete` is False when more was left unread.

        Raises TimeoutError, OSError and NoResponseError.
        """
        head: h11.Response | None = None
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                event = self.protocol.next_event()
            except h11.RemoteProtocolError as exc:
                raise NoResponseError(str(exc) or "invalid HTTP response") from None
            if event is h11.NEED_DATA:
                self.sock.settimeout(remaining(deadline))
                self.protocol.receive_data(self.sock.recv(READ_CHUNK))
            elif isinstance(event, h11.Response):
                head = event
                self.headers_received = True
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
                size += len(event.data)
                if size >= max_body:
                    return _response(head, b"".join(chunks)[:max_body], complete=False)
            elif isinstance(event, h11.EndOfMessage):
                return _response(head, b"".join(chunks), complete=True)
            elif isinstance(event, h11.ConnectionClosed):
                raise NoResponseError("the connection closed before an answer")

    def reusable(self) -> bool:
        """Both sides finished their message and neither asked to close."""
        return self.protocol.our_state is h11.DONE and self.protocol.their_state is h11.DONE

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class ConnectionPool:
    """Idle connections per origin and policy, at most POOL_PER_ORIGIN each and POOL_ORIGINS origins (least
    recently used dropped first)."""

    def __init__(self) -> None:
        self._idle: OrderedDict[tuple[str, str, int, bool], list[Connection]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str, int, bool]) -> Connection | None:
        """A kept connection that is still open, or None."""
        while True:
            with self._lock:
                idle = self._idle.get(key)
                if not idle:
                    return None
                connection = idle.pop()
            if not connection.dropped():
                return connection
            connection.close()

    def give(self, connection: Connection) -> None:
        """Keep a connection whose exchange ended cleanly; close any other."""
        if not connection.reusable():
            connection.close()
            return
        connection.protocol.start_next_cycle()
        evicted: list[Connection] = []
        with self._lock:
            idle = self._idle.setdefault(connection.key, [])
            self._idle.move_to_end(connection.key)
            if len(idle) < POOL_PER_ORIGIN:
                idle.append(connection)
            else:
                evicted.append(connection)
            while len(self._idle) > POOL_ORIGINS:
                evicted.extend(self._idle.popitem(last=False)[1])
        for old in evicted:
            old.close()

    def clear(self) -> None:
        with self._lock:
            kept = [connection for idle in self._idle.values() for connection in idle]
            self._idle.clear()
        for connection in kept:
            connection.close()


pool = ConnectionPool()


def connect(url: str, guarded: bool, deadline: float) -> Connection:
    """A kept connection to the URL's origin (under the same address policy) if one is alive, else a new one."""
    parts = urlsplit(url)
    if parts.scheme in DEFAULT_PORTS and parts.hostname:
        kept = pool.take(_key(parts, guarded))
        if kept is not None:
            return kept
    return Connection.open(url, guarded, deadline)


def _key(parts: SplitResult, guarded: bool) -> tuple[str, str, int, bool]:
    return parts.scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS[parts.scheme], guarded


def _connect(addresses: list[tuple], deadline: float) -> socket.socket:  # type: ignore[type-arg]
    """Try each resolved address in turn until one accepts; the last failure if none does."""
    failure: OSError | None = None
    for family, kind, proto, _name, sockaddr in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(remaining(deadline))
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            failure = exc
            if isinstance(exc, TimeoutError):
                break
    raise failure or OSError("the host has no address")


def _response(head: h11.Response | None, body: bytes, complete: bool) -> Response:
    if head is None:
        raise NoResponseError("a body came before the status line")
    headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in head.headers}
    return Response(head.status_code, head.reason.decode("latin-1"), headers, body, complete)
