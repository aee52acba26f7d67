"""Outgoing HTTP for job targets: one urllib3 pool manager per policy, and a guard that checks the connected address.

The check runs on the socket's peer address right after connect, so a hostname that resolves (or re-resolves,
DNS rebinding) to a loopback, private, link-local or cloud-metadata address is refused even though its name
looked harmless. Environment proxies are not used, otherwise the peer would be the proxy. urllib3 directly rather
than requests: a call costs ~40 % less CPU, which is what bounds a burst of 1,000 calls due at the same instant.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

POOL_SIZE = 64
MAX_POOLS = 256


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


_managers: dict[bool, PoolManager] = {}
_managers_lock = threading.Lock()


def pool_manager(allow_private: bool) -> PoolManager:
    """The process's pooled connections for this policy (a PoolManager is safe to share between threads)."""
    with _managers_lock:
        manager = _managers.get(allow_private)
        if manager is None:
            manager = PoolManager(num_pools=MAX_POOLS, maxsize=POOL_SIZE)
            if not allow_private:
                manager.pool_classes_by_scheme = {  # type: ignore[assignment]
                    "http": _GuardedHTTPConnectionPool,
                    "https": _GuardedHTTPSConnectionPool,
                }
            _managers[allow_private] = manager
        return manager


def blocked_reason(exc: BaseException) -> BlockedAddressError | None:
    """The guard's refusal inside a urllib3 exception chain, if that is what failed."""
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
