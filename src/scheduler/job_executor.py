"""Calling a job's target: GitHub workflow_dispatch or a webhook POST, with bounded time and response size.

`call_target` never raises for a target's failure: every outcome is a `CallResult` whose `message` says in words
what happened, because it ends up in `error_message` (and in the test-run response) for a person to act on.
A call is built (`build_request`), its connection opened, its bytes sent and its answer read; the dispatcher does
the first two for a burst before the fire time (`prepare_call`), then only sends at the instant (`send_prepared`)
and reads later (`finish_prepared`). Every path ends in the same reading, redirect and outcome code.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import h11

from src import __version__
from src.models.job import EXECUTION_TYPE_GITHUB, EXECUTION_TYPE_WEBHOOK
from src.scheduler.http_client import (BlockedAddressError, Connection, NoResponseError, Response, address_refusal,
                                       connect, pool)

MAX_OUTPUT_BYTES = 64 * 1024
MAX_REDIRECTS = 3
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
REF_KEYS = ("branchDetails", "ref")


@dataclass(frozen=True)
class CallSettings:
    """What a call needs from the configuration, captured once so worker threads need no app context."""

    timeout: float
    allow_private: bool
    signing_secret: str | None = None
    github_token: str | None = None
    github_api_url: str = "https://api.github.com"
    github_default_ref: str = "main"
    default_github_owner: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> CallSettings:
        return cls(
            timeout=float(config["WEBHOOK_TIMEOUT_SECONDS"]),
            allow_private=bool(config["WEBHOOK_ALLOW_PRIVATE_TARGETS"]),
            signing_secret=config.get("WEBHOOK_SIGNING_SECRET") or None,
            github_token=config.get("GITHUB_TOKEN") or None,
            github_api_url=str(config.get("GITHUB_API_URL") or "https://api.github.com").rstrip("/"),
            github_default_ref=str(config.get("GITHUB_DEFAULT_REF") or "main"),
            default_github_owner=config.get("DEFAULT_GITHUB_OWNER") or None,
        )


@dataclass(frozen=True)
class Target:
    """Where a job's run goes; built from a Job (or a test-run request) before the call."""

    execution_type: str
    url: str | None = None
    github_owner: str | None = None
    github_repo: str | None = None
    github_workflow: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_fields(cls, *, target_url: str | None, github_owner: str | None, github_repo: str | None,
                    github_workflow_name: str | None, metadata: Mapping[str, Any] | None,
                    default_owner: str | None) -> Target:
        meta = dict(metadata or {})
        if github_repo and github_workflow_name:
            return cls(EXECUTION_TYPE_GITHUB, github_owner=github_owner or default_owner, github_repo=github_repo,
                       github_workflow=github_workflow_name, metadata=meta)
        return cls(EXECUTION_TYPE_WEBHOOK, url=target_url, metadata=meta)

    @property
    def description(self) -> str:
        """The execution row's `target`: the URL or owner/repo/workflow."""
        if self.execution_type == EXECUTION_TYPE_GITHUB:
            return f"{self.github_owner or '?'}/{self.github_repo}/{self.github_workflow}"[:500]
        return (self.url or "")[:500]


@dataclass(frozen=True)
class CallContext:
    """Who is calling: goes into the X-Cron-* headers so receivers can de-duplicate and verify."""

    trigger: str
    job_id: str | None = None
    execution_id: str | None = None
    scheduled_for: datetime | None = None


@dataclass
class CallResult:
    ok: bool
    message: str
    status_code: int | None = None
    error: str | None = None
    output: str | None = None
    duration_seconds: float = 0.0


class _Failure(Exception):
    def __init__(self, error: str, message: str, status_code: int | None = None, output: str | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.status_code = status_code
        self.output = output


@dataclass(frozen=True)
class OutgoingRequest:
    """A call ready to go: where, what, and how its answer is judged."""

    execution_type: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes
    guarded: bool  # refuse private addresses (webhooks in production; never the operator's GitHub API URL)
    success_message: str | None = None


@dataclass
class PreparedCall:
    """A call whose connection is open and whose bytes are serialised, waiting for its fire time."""

    request: OutgoingRequest
    connection: Connection
    payload: bytes
    limit: float
    started: float = 0.0


def call_target(target: Target, context: CallContext, settings: CallSettings,
                timeout: float | None = None) -> CallResult:
    """Make the call; the outcome (never an exception for the target's faults) with its duration."""
    started = time.monotonic()
    limit = float(timeout if timeout is not None else settings.timeout)
    try:
        request = build_request(target, context, settings)
        result = _exchange(request, started + limit, limit)
    except _Failure as failure:
        result = _failed(failure)
    result.duration_seconds = round(time.monotonic() - started, 6)
    return result


def prepare_call(target: Target, context: CallContext, settings: CallSettings,
                 within: float | None = None) -> PreparedCall | None:
    """Open the connection (giving up after `within` seconds) and serialise the request ahead of the fire time;
    None when that did not work (the call then runs the ordinary way at its time, so a failure is reported as of
    then, not as of now)."""
    limit = float(settings.timeout)
    opening = limit if within is None else min(limit, within)
    try:
        request = build_request(target, context, settings)
        connection = connect(request.url, request.guarded, time.monotonic() + opening)
    except (_Failure, OSError, ValueError, BlockedAddressError):
        return None
    try:
        payload = connection.serialize(request.url, "POST", request.headers, request.body)
    except h11.LocalProtocolError:
        connection.close()
        return None
    return PreparedCall(request, connection, payload, limit)


def send_prepared(call: PreparedCall) -> bool:
    """Send at the fire time; False when the connection was dropped meanwhile (a server's idle timeout, a restart)
    and the call must go the ordinary way instead."""
    call.started = time.monotonic()
    try:
        if not call.connection.dropped():
            call.connection.send(call.payload, call.started + call.limit)
            return True
    except OSError:
        pass
    call.connection.close()
    return False


def finish_prepared(call: PreparedCall) -> CallResult:
    """Read the answer of a sent prepared call (and follow its redirect, if any) into the outcome."""
    try:
        result = _exchange(call.request, call.started + call.limit, call.limit, sent=call.connection)
    except _Failure as failure:
        result = _failed(failure)
    result.duration_seconds = round(time.monotonic() - call.started, 6)
    return result


def discard_prepared(call: PreparedCall) -> None:
    call.connection.close()


def build_request(target: Target, context: CallContext, settings: CallSettings) -> OutgoingRequest:
    """The request for `target`; a _Failure for a target that cannot be called at all (bad URL, no token)."""
    if target.execution_type == EXECUTION_TYPE_GITHUB:
        return _github_request(target, settings)
    return _webhook_request(target, context, settings)


def _webhook_request(target: Target, context: CallContext, settings: CallSettings) -> OutgoingRequest:
    url = target.url or ""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 1) > 0
    except ValueError:
        valid = False
    if not valid:
        raise _Failure("Invalid target", f"The target URL {_short(url, 100)!r} is not a valid http(s) URL.")
    if not settings.allow_private:
        kind = address_refusal(parts.hostname) if _is_ip_literal(parts.hostname) else None
        if kind:
            raise _Failure("Target not allowed", _blocked_message(parts.hostname, parts.hostname, kind))
    body = json.dumps(target.metadata, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("User-Agent", f"cron-job-scheduler/{__version__}"),
               ("X-Cron-Trigger", context.trigger)]
    if context.job_id:
        headers.append(("X-Cron-Job-Id", context.job_id))
    if context.execution_id:
        headers.append(("X-Cron-Execution-Id", context.execution_id))
    if context.scheduled_for is not None:
        headers.append(("X-Cron-Scheduled-For", context.scheduled_for.isoformat()))
    if settings.signing_secret:
        digest = hmac.new(settings.signing_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers.append(("X-Cron-Signature", f"sha256={digest}"))
    return OutgoingRequest(EXECUTION_TYPE_WEBHOOK, url, headers, body, guarded=not settings.allow_private)


def _github_request(target: Target, settings: CallSettings) -> OutgoingRequest:
    if not settings.github_token:
        raise _Failure("Configuration error", "GITHUB_TOKEN is not set, so GitHub workflows cannot be dispatched.")
    if not target.github_owner:
        raise _Failure("Configuration error",
                       "The job names no GitHub owner and DEFAULT_GITHUB_OWNER is not set.")
    meta = target.metadata
    ref = next((str(meta[k]) for k in REF_KEYS if meta.get(k) not in (None, "")), settings.github_default_ref)
    inputs = {k: v if isinstance(v, str) else json.dumps(v) for k, v in meta.items() if k not in REF_KEYS}
    path = "/".join(quote(part, safe="") for part in (target.github_owner, target.github_repo, target.github_workflow))
    owner, repo, workflow = path.split("/")
    url = f"{settings.github_api_url}/repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches"
    headers = [("Authorization", f"Bearer {settings.github_token}"), ("Accept", "application/vnd.github+json"),
               ("X-GitHub-Api-Version", "2022-11-28"), ("Content-Type", "application/json"),
               ("User-Agent", f"cron-job-scheduler/{__version__}")]
    body = json.dumps({"ref": ref, "inputs": inputs}, separators=(",", ":")).encode("utf-8")
    # The GitHub API URL is the operator's setting (GitHub Enterprise may be internal), not user input.
    return OutgoingRequest(EXECUTION_TYPE_GITHUB, url, headers, body, guarded=False,
                           success_message=f"Workflow {target.github_workflow} dispatched on {ref}.")


def _exchange(request: OutgoingRequest, deadline: float, limit: float, sent: Connection | None = None) -> CallResult:
    """Send (unless `sent` already carries the request), read, follow only same-origin 307/308 redirects, judge."""
    url = request.url
    for _ in range(MAX_REDIRECTS + 1):
        connection = sent or _open(url, request.guarded, deadline, limit)
        response = None
        try:
            if sent is None:
                _send(connection, request, url, deadline, limit)
            sent = None
            response = _read(connection, url, deadline, limit)
        finally:
            if response is not None and response.complete:
                pool.give(connection)
            else:
                connection.close()
        location = response.headers.get("location") if response.status in REDIRECT_STATUSES else None
        if not location:
            return _outcome(request, response)
        target = urljoin(url, location)
        if response.status not in (307, 308) or not _same_origin(url, target):
            raise _Failure("Redirect refused",
                           f"The target answered HTTP {response.status} redirecting to {target}; "
                           "redirects to another host (or that change the method) are not followed.",
                           response.status)
        url = target
    raise _Failure("Redirect refused", f"More than {MAX_REDIRECTS} redirects; the call was abandoned.")


def _open(url: str, guarded: bool, deadline: float, limit: float) -> Connection:
    host = _host(url)
    try:
        return connect(url, guarded, deadline)
    except BlockedAddressError as blocked:
        raise _Failure("Target not allowed", _blocked_message(blocked.host, blocked.address, blocked.kind)) from None
    except socket.gaierror:
        raise _Failure("Unknown host", f"The host name of {host} could not be resolved.") from None
    except TimeoutError:
        raise _Failure("Timeout", f"Timed out after {limit:g} s waiting for {host}.") from None
    except ssl.SSLError as exc:
        raise _Failure("TLS error", f"TLS handshake with {host} failed: {_short(str(exc))}") from None
    except ConnectionRefusedError:
        raise _Failure("Connection refused", f"Connection refused by {host}.") from None
    except OSError as exc:
        raise _Failure("Connection error", f"Could not connect to {host}: {_short(str(exc))}") from None
    except ValueError as exc:
        raise _Failure("Invalid target", f"The target URL is invalid: {_short(str(exc))}") from None


def _send(connection: Connection, request: OutgoingRequest, url: str, deadline: float, limit: float) -> None:
    try:
        connection.send(connection.serialize(url, "POST", request.headers, request.body), deadline)
    except h11.LocalProtocolError as exc:
        raise _Failure("Invalid target", f"The request cannot be sent as HTTP: {_short(str(exc))}") from None
    except TimeoutError:
        raise _Failure("Timeout", f"Timed out after {limit:g} s sending to {_host(url)}.") from None
    except OSError as exc:
        raise _Failure("Connection error", f"The connection to {_host(url)} broke: {_short(str(exc))}") from None


def _read(connection: Connection, url: str, deadline: float, limit: float) -> Response:
    try:
        return connection.read_response(deadline, MAX_OUTPUT_BYTES)
    except TimeoutError:
        if connection.headers_received:
            raise _Failure("Timeout", f"Timed out after {limit:g} s while reading the response.") from None
        raise _Failure("Timeout", f"Timed out after {limit:g} s waiting for {_host(url)}.") from None
    except (OSError, NoResponseError) as exc:
        raise _Failure("Connection error", f"The connection to {_host(url)} broke before a complete answer: "
                       f"{_short(str(exc))}") from None


def _outcome(request: OutgoingRequest, response: Response) -> CallResult:
    output = response.body.decode("utf-8", errors="replace").replace("\x00", "\ufffd") if response.body else None
    status, reason = response.status, response.reason
    if request.execution_type == EXECUTION_TYPE_GITHUB:
        if status == 204:
            return CallResult(ok=True, status_code=status, output=output, message=request.success_message or "")
        raise _Failure("HTTP error", f"GitHub answered HTTP {status}: {_github_message(output) or reason}.", status,
                       output)
    if 200 <= status < 300:
        return CallResult(ok=True, status_code=status, output=output, message=f"HTTP {status} {reason}".strip())
    raise _Failure("HTTP error", f"The target answered HTTP {status} {reason}".strip() + ".", status, output)


def _failed(failure: _Failure) -> CallResult:
    return CallResult(ok=False, error=failure.error, message=failure.message, status_code=failure.status_code,
                      output=failure.output)


def _blocked_message(host: str, address: str, kind: str) -> str:
    return (f"Refused to call {host}: it resolves to {address}, a {kind} address. Private targets are disabled "
            "in this deployment (WEBHOOK_ALLOW_PRIVATE_TARGETS=false).")


def _github_message(output: str | None) -> str | None:
    try:
        data = json.loads(output or "")
    except ValueError:
        return None
    return str(data["message"]) if isinstance(data, dict) and data.get("message") else None


def _same_origin(a: str, b: str) -> bool:
    try:
        pa, pb = urlsplit(a), urlsplit(b)
        return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)
    except ValueError:
        return False


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc
    except ValueError:
        return url[:100]


def _is_ip_literal(host: str) -> bool:
    return address_refusal(host) != "unparseable"


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
