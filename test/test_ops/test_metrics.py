"""/metrics: Prometheus text, optional bearer token, HTTP latency by URL rule, executions and scheduler state."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from src.config import PROJECT_ROOT
from src.utils.metrics import observe_execution, set_scheduler_state


def _sample(client: FlaskClient, name: str, **labels: str) -> float | None:
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def test_metrics_are_prometheus_text_without_a_token(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert "# TYPE http_request_duration_seconds histogram" in response.get_data(as_text=True)


def test_a_request_is_counted_under_its_url_rule_not_its_path(client: FlaskClient) -> None:
    labels = {"method": "GET", "endpoint": "/api/health", "status": "200"}
    before = _sample(client, "http_request_duration_seconds_count", **labels) or 0
    client.get("/api/health")
    client.get("/api/health?x=1")
    assert _sample(client, "http_request_duration_seconds_count", **labels) == before + 2


def test_an_unknown_url_is_counted_as_unmatched(client: FlaskClient) -> None:
    client.get("/api/no-such-thing-12345")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'endpoint="<unmatched>"' in text
    assert "no-such-thing-12345" not in text


def test_an_observed_execution_appears_with_its_lag(client: FlaskClient) -> None:
    labels = {"status": "failed", "execution_type": "webhook"}
    before = _sample(client, "cron_executions_total", **labels) or 0
    lag_before = _sample(client, "cron_dispatch_lag_seconds_count") or 0
    observe_execution("failed", "webhook", 0.4)
    observe_execution("failed", "webhook", None)
    assert _sample(client, "cron_executions_total", **labels) == before + 2
    assert _sample(client, "cron_dispatch_lag_seconds_count") == lag_before + 1


def test_scheduler_state_is_published(client: FlaskClient) -> None:
    set_scheduler_state(True, 12)
    assert _sample(client, "cron_scheduler_leader") == 1
    assert _sample(client, "cron_scheduled_jobs") == 12
    set_scheduler_state(False, 0)
    assert _sample(client, "cron_scheduler_leader") == 0


def test_with_a_token_metrics_need_it(make_app: Callable[..., Flask]) -> None:
    client = make_app(METRICS_TOKEN="scrape-token-123").test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.get_json()["error"] == "Authorization required"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    allowed = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert allowed.status_code == 200
    assert "cron_executions_total" in allowed.get_data(as_text=True)


WORKER = """
import sys
from src.utils.metrics import observe_execution, set_scheduler_state
observe_execution("success", "webhook", 0.2)
set_scheduler_state(sys.argv[1] == "leader", 7)
"""
READER = """
from src.utils.metrics import render_metrics
print(render_metrics()[0].decode())
"""


def test_values_of_several_worker_processes_are_merged(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for role in ("leader", "standby"):
        subprocess.run([sys.executable, "-c", WORKER, role], cwd=PROJECT_ROOT, env=env, check=True, timeout=60)
    text = subprocess.run([sys.executable, "-c", READER], cwd=PROJECT_ROOT, env=env, check=True, timeout=60,
                          capture_output=True, text=True).stdout
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("cron_executions_total", (("execution_type", "webhook"), ("status", "success")))] == 2
    assert samples[("cron_dispatch_lag_seconds_count", ())] == 2
