"""`/metrics` for Prometheus (text exposition format), optionally behind `METRICS_TOKEN`.

Not part of the OpenAPI document: it is scraped by Prometheus, not called by API clients, and its token is not a
user's JWT.
"""
from __future__ import annotations

import hmac

from flask import Blueprint, Response, current_app, request

from src.utils.api_errors import UnauthorizedError
from src.utils.metrics import render_metrics

bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def metrics() -> Response:
    """Prometheus metrics of this host; with METRICS_TOKEN set, only for `Authorization: Bearer <token>`."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        presented = request.headers.get("Authorization", "")
        if not hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            raise UnauthorizedError("Send the metrics token in the Authorization: Bearer header.",
                                    error="Authorization required", headers={"WWW-Authenticate": "Bearer"})
    body, content_type = render_metrics()
    return Response(body, content_type=content_type)
