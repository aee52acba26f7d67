"""gunicorn in production mode: refuses a default secret in one line; serves, logs JSON, merges metrics, stops cleanly."""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from src.config import PROJECT_ROOT

GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "src/gunicorn.conf.py"]


def _production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRET_KEY", "JWT_", "PROMETHEUS_"))}
    return {**env, "FLASK_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
            "HOST": "127.0.0.1", "PORT": "5999", **extra}


@pytest.mark.parametrize("secret, problem", [
    (None, "SECRET_KEY must be set in production"),
    ("dev-secret-key", "SECRET_KEY must be a random value of at least 32 characters in production"),
    ("short", "SECRET_KEY must be a random value of at least 32 characters in production"),
])
def test_production_with_a_default_or_short_secret_exits_with_one_clear_line(
        tmp_path: Path, secret: str | None, problem: str) -> None:
    env = _production_env(tmp_path, **({"SECRET_KEY": secret} if secret else {}))
    result = subprocess.run(GUNICORN, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [f"configuration error: {problem}"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def production_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    port = _free_port()
    env = _production_env(tmp_path, SECRET_KEY=secrets.token_hex(32), PORT=str(port), GUNICORN_WORKERS="2",
                          PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prom"), MAIL_ENABLED="false")
    subprocess.run([sys.executable, "-m", "src", "migrate"], cwd=PROJECT_ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(GUNICORN, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a busy CI machine boots workers slowly
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/api/health", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            pytest.fail(f"gunicorn did not come up:\n{log_path.read_text()}")
        yield base, server, log_path
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=30)


@pytest.mark.slow
def test_gunicorn_serves_logs_json_merges_metrics_and_stops_gracefully(
        production_server: tuple[str, subprocess.Popen[str], Path]) -> None:
    base, server, log_path = production_server
    session = requests.Session()
    for index in range(20):
        response = session.get(f"{base}/api/health", headers={"X-Request-ID": f"prod-{index}"}, timeout=30)
        assert response.headers["X-Request-ID"] == f"prod-{index}"
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    # A 6 KB query string reaches the app and gets its JSON error, not gunicorn's HTML 414.
    long_query = requests.get(f"{base}/api/jobs?search={'x' * 6000}", timeout=30)
    assert long_query.status_code == 401 and long_query.headers["Content-Type"] == "application/json"
    # New connections spread over both workers; the merged count sees every request.
    for _ in range(20):
        requests.get(f"{base}/api/health", timeout=30)
    metrics = requests.get(f"{base}/metrics", timeout=30).text
    line = next(l for l in metrics.splitlines()
                if l.startswith("http_request_duration_seconds_count") and 'endpoint="/api/health"' in l)
    assert float(line.rsplit(" ", 1)[1]) >= 40

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    entries = [json.loads(l) for l in log_path.read_text().splitlines() if l.startswith("{")]
    access = [e for e in entries if e.get("type") == "access"]
    assert {"prod-0", "prod-19"} <= {e["request_id"] for e in access}
    assert all(e["status"] == 200 for e in access if e["path"] == "/api/health")
    assert [e["status"] for e in access if e["path"] == "/api/jobs"] == [401]
    assert any("Shutting down" in e["message"] for e in entries)
