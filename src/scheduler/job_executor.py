"""Calling a job's target: GitHub workflow_dispatch or a webhook POST, with bounded time and response size.

`call_target` never raises for a target's failure: every outcome is a `CallResult` whose `message` says in words
what happened, because it ends up in `error_message` (and in the test-run response) for a person to act on.
"""
from __future__ import annotations

import errno
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from urllib3 import BaseHTTPResponse, Timeout
from urllib3 import exceptions as http_errors

from src import __version__
from src.models.job import EXECUTION_TYPE_GITHUB, EXECUTION_TYPE_WEBHOOK
from src.scheduler.http_guard import address_refusal, blocked_reason, pool_manager

MAX_OUTPUT_BYTES = 64 * 1024
MAX_REDIRECTS = 3
READ_CHUNK = 8192
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


def call_target(target: Target, context: CallContext, settings: CallSettings,
                timeout: float | None = None) -> CallResult:
    """Make the call; the outcome (never an exception for the target's faults) with its duration."""
    started = time.monotonic()
    limit = float(timeout if timeout is not None else settings.timeout)
    try:
        if target.execution_type == EXECUTION_TYPE_GITHUB:
            result = _dispatch_github(target, context, settings, limit)
        else:
            result = _post_webhook(target, context, settings, limit)
    except _Failure as failure:
        result = CallResult(ok=False, error=failure.error, message=failure.message,
                            status_code=failure.status_code, output=failure.output)
    result.duration_seconds = round(time.monotonic() - started, 6)
    return result


def _post_webhook(target: Target, context: CallContext, settings: CallSettings, limit: float) -> CallResult:
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
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"cron-job-scheduler/{__version__}",
        "X-Cron-Trigger": context.trigger,
    }
    if context.job_id:
        headers["X-Cron-Job-Id"] = context.job_id
    if context.execution_id:
        headers["X-Cron-Execution-Id"] = context.execution_id
    if context.scheduled_for is not None:
        headers["X-Cron-Scheduled-For"] = context.scheduled_for.isoformat()
    if settings.signing_secret:
        digest = hmac.new(settings.signing_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
        headers["X-Cron-Signature"] = f"sha256={digest}"
    status, reason, output = _send(url, headers, body, settings.allow_private, limit)
    if 200 <= status < 300:
        return CallResult(ok=True, status_code=status, output=output, message=f"HTTP {status} {reason}".strip())
    raise _Failure("HTTP error", f"The target answered HTTP {status} {reason}".strip() + ".", status, output)


def _dispatch_github(target: Target, context: CallContext, settings: CallSettings, limit: float) -> CallResult:
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
    headers = {
        "Authorization": f"Bearer {settings.github_token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "Content-Type": "application/json",
        "User-Agent": f"cron-job-scheduler/{__version__}",
    }
    body = json.dumps({"ref": ref, "inputs": inputs}, separators=(",", ":")).encode("utf-8")
    # The GitHub API URL is the operator's setting (GitHub Enterprise may be internal), not user input.
    status, reason, output = _send(url, headers, body, True, limit)
    if status == 204:
        return CallResult(ok=True, status_code=status, output=output,
                          message=f"Workflow {target.github_workflow} dispatched on {ref}.")
    raise _Failure("HTTP error", f"GitHub answered HTTP {status}: {_github_message(output) or reason}.", status,
                   output)


def _send(url: str, headers: dict[str, str], body: bytes, allow_private: bool,
          limit: float) -> tuple[int, str, str | None]:
    """POST with a total deadline; follow only same-origin 307/308 redirects; read at most 64 KiB."""
    deadline = time.monotonic() + limit
    manager = pool_manager(allow_private)
    for _ in range(MAX_REDIRECTS + 1):
        remaining = max(deadline - time.monotonic(), 0.05)
        try:
            response = manager.request("POST", url, body=body, headers=headers,
                                       timeout=Timeout(connect=remaining, read=remaining), redirect=False,
                                       retries=False, preload_content=False)
        except (http_errors.HTTPError, ValueError) as exc:
            raise _request_failure(exc, url, limit) from None
        complete = False
        try:
            if response.get_redirect_location():
                location = urljoin(url, response.headers.get("Location", ""))
                if response.status not in (307, 308) or not _same_origin(url, location):
                    raise _Failure("Redirect refused",
                                   f"The target answered HTTP {response.status} redirecting to {location}; "
                                   "redirects to another host (or that change the method) are not followed.",
                                   response.status)
                url = location
                continue
            output, complete = _read_capped(response, deadline, limit)
            return response.status, response.reason or "", output
        finally:
            if not complete:  # unread bytes left: the connection cannot serve another request
                response.close()
            response.release_conn()
    raise _Failure("Redirect refused", f"More than {MAX_REDIRECTS} redirects; the call was abandoned.")


def _read_capped(response: BaseHTTPResponse, deadline: float, limit: float) -> tuple[str | None, bool]:
    """The body's first 64 KiB as text, and whether the body ended (so the connection can be reused)."""
    chunks: list[bytes] = []
    complete = False
    size = 0
    try:
        while size < MAX_OUTPUT_BYTES:
            if time.monotonic() > deadline:
                raise _Failure("Timeout", f"Timed out after {limit:g} s while reading the response.",
                               response.status)
            chunk = response.read(min(READ_CHUNK, MAX_OUTPUT_BYTES - size), decode_content=True)
            if not chunk:
                complete = True
                break
            chunks.append(chunk)
            size += len(chunk)
    except http_errors.TimeoutError:
        raise _Failure("Timeout", f"Timed out after {limit:g} s while reading the response.",
                       response.status) from None
    except http_errors.HTTPError as exc:
        raise _Failure("Connection error", f"The connection broke while reading the response: {_short(str(exc))}",
                       response.status) from None
    if not chunks:
        return None, complete
    return b"".join(chunks).decode("utf-8", errors="replace").replace("\x00", "\ufffd"), complete


def _request_failure(exc: Exception, url: str, limit: float) -> _Failure:
    try:
        host = urlsplit(url).netloc
    except ValueError:
        host = url[:100]
    blocked = blocked_reason(exc)
    if blocked is not None:
        return _Failure("Target not allowed", _blocked_message(blocked.host, blocked.address, blocked.kind))
    text = str(exc)
    if isinstance(exc, http_errors.NameResolutionError):
        return _Failure("Unknown host", f"The host name of {host} could not be resolved.")
    # urllib3 2 derives NewConnectionError from ConnectTimeoutError: test it before timeouts.
    if isinstance(exc, (http_errors.NewConnectionError, http_errors.ProtocolError)):
        if "Connection refused" in text or f"[Errno {errno.ECONNREFUSED}]" in text:
            return _Failure("Connection refused", f"Connection refused by {host}.")
        return _Failure("Connection error", f"Could not connect to {host}: {_short(text)}")
    if isinstance(exc, http_errors.TimeoutError):
        return _Failure("Timeout", f"Timed out after {limit:g} s waiting for {host}.")
    if isinstance(exc, http_errors.SSLError):
        return _Failure("TLS error", f"TLS handshake with {host} failed: {_short(text)}")
    if isinstance(exc, (http_errors.LocationValueError, ValueError)):
        return _Failure("Invalid target", f"The target URL is invalid: {_short(text)}")
    return _Failure("Request error", f"The call to {host} failed: {_short(text)}")


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


def _is_ip_literal(host: str) -> bool:
    return address_refusal(host) != "unparseable"


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
