"""Prometheus metrics: executions, dispatch lag, HTTP latency by endpoint, scheduler leadership.

Under gunicorn every worker is its own process: `PROMETHEUS_MULTIPROC_DIR` (set by gunicorn.conf.py before the
workers import this module) makes prometheus-client keep the values in shared files, and `/metrics` merges
them. Without it (development server, tests) the ordinary in-process registry is used.
"""
from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client refuses a missing directory; a fresh deployment may name one that does not exist yet.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

EXECUTIONS = Counter("cron_executions_total", "Finished job executions", ["status", "execution_type"])
DISPATCH_LAG = Histogram(
    "cron_dispatch_lag_seconds", "Delay between a scheduled fire time and the call to its target",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds", "HTTP request latency by endpoint (URL rule, not raw path)",
    ["method", "endpoint", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# livemax: with several workers the host reports 1 when any live worker leads.
SCHEDULER_LEADER = Gauge("cron_scheduler_leader", "1 while this process holds the scheduling lease",
                         multiprocess_mode="livemax")
SCHEDULED_JOBS = Gauge("cron_scheduled_jobs", "Jobs held by the leading scheduler", multiprocess_mode="livemax")


def observe_execution(status: str, execution_type: str | None, lag_seconds: float | None) -> None:
    """Count a finished execution and, for scheduled runs, record its dispatch lag."""
    EXECUTIONS.labels(status=status, execution_type=execution_type or "unknown").inc()
    if lag_seconds is not None:
        DISPATCH_LAG.observe(max(lag_seconds, 0.0))


def set_scheduler_state(is_leader: bool, scheduled_jobs: int) -> None:
    """Publish whether this process leads and how many jobs its scheduler holds."""
    SCHEDULER_LEADER.set(1 if is_leader else 0)
    SCHEDULED_JOBS.set(scheduled_jobs)


def render_metrics() -> tuple[bytes, str]:
    """The Prometheus text exposition of this host (all gunicorn workers merged)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe_request(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        endpoint = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        HTTP_LATENCY.labels(method=request.method, endpoint=endpoint, status=str(response.status_code)).observe(
            time.perf_counter() - started)
    return response


def init_metrics(app: Flask) -> None:
    """Time every request and mount /metrics."""
    from src.routes.metrics import bp

    app.before_request(_start_timer)
    app.after_request(_observe_request)
    app.register_blueprint(bp)
