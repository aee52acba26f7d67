"""Outgoing HTTP for job targets: one pooled session per policy, and a guard that checks the connected address.

The check runs on the socket's peer address right after connect, so a hostname that resolves (or re-resolves,
DNS rebinding) to a loopback, private, link-local or cloud-metadata address is refused even though its name
looked harmless. Environment proxies are ignored (trust_env off), otherwise the peer would be the proxy.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

POOL_SIZE = 64


class BlockedAddressError(NewConnectionError):
    """The target resolved to an address this deployment does not call (WEBHOOK_ALLOW_PRIVATE_TARGETS=false)."""

    def __init__(self, conn: Any, host: str, address: str, kind: str) -> None:
        self.host = host
        self.address = address
        self.kind = kind
        super().__init__(conn, f"{host} resolves to {address}, a {kind} address")


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


def _check_peer(sock: socket.socket, conn: Any) -> None:
    address = sock.getpeername()[0]
    kind = address_refusal(address)
    if kind is not None:
        sock.close()
        raise BlockedAddressError(conn, conn.host, address, kind)


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, self)
        return sock


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _check_peer(sock, self)
        return sock


class _GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection  # type: ignore[assignment]


class GuardedAdapter(HTTPAdapter):
    """An adapter whose connections refuse non-public peers."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {  # type: ignore[attr-defined]
            "http": _GuardedHTTPConnectionPool,
            "https": _GuardedHTTPSConnectionPool,
        }


_sessions: dict[bool, requests.Session] = {}
_sessions_lock = threading.Lock()


def http_session(allow_private: bool) -> requests.Session:
    """The process's pooled session for this policy (requests sessions are safe to share for plain requests)."""
    with _sessions_lock:
        session = _sessions.get(allow_private)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            adapter_class = HTTPAdapter if allow_private else GuardedAdapter
            adapter = adapter_class(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            _sessions[allow_private] = session
        return session


def blocked_reason(exc: BaseException) -> BlockedAddressError | None:
    """The guard's refusal inside a requests/urllib3 exception chain, if that is what failed."""
    seen: set[int] = set()
    stack: list[Any] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, BlockedAddressError):
            return current
        if isinstance(current, BaseException):
            stack.extend([current.__cause__, current.__context__, getattr(current, "reason", None),
                          *[a for a in current.args if isinstance(a, BaseException)]])
    return None
