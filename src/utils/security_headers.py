"""Browser-facing hardening on every response, and the request body limit enforced before any view runs."""
from __future__ import annotations

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

# The API returns JSON only; the Swagger UI page (/api/docs) loads its scripts and styles from this server
# (no CDN, no inline script) and injects inline styles, so 'unsafe-inline' is allowed for styles alone.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def _reject_oversized_body() -> None:
    """413 from the declared length, also for endpoints that never read the body."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def _add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if response.mimetype == "application/json":
        # Responses carry tokens and private data: no shared or browser cache keeps them.
        headers.setdefault("Cache-Control", "no-store")
    if current_app.config.get("PRODUCTION"):
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_security_headers(app: Flask) -> None:
    app.before_request(_reject_oversized_body)
    app.after_request(_add_security_headers)
