"""Log lines: JSON lines with the request id, and no tokens, passwords or webhook secrets in any line."""
from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, current_app, request

from src.config import PROJECT_ROOT
from src.utils.logging import redact

JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
SLACK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"


def _log_stream(application: Flask) -> io.StringIO:
    stream = io.StringIO()
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_cron_scheduler", False):
            handler.setStream(stream)  # type: ignore[attr-defined]
    return stream


@pytest.fixture
def json_app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app(LOG_FORMAT="json")

    @application.post("/test-log")
    def log_everything() -> dict[str, str]:
        body = request.get_json()
        current_app.logger.warning("login attempt password=%s header=%s", body["password"],
                                   request.headers["Authorization"])
        current_app.logger.info("slack settings saved: %s", {"webhook_url": SLACK, "channel": "#ops"})
        current_app.logger.info("token issued %s for mysql://app:s3cr3t@db/cron", JWT)
        return {"ok": "yes"}

    yield application


def test_json_lines_carry_the_request_id_and_no_secret(json_app: Flask) -> None:
    stream = _log_stream(json_app)
    response = json_app.test_client().post(
        "/test-log", json={"password": "hunter2-very-secret"},
        headers={"Authorization": f"Bearer {JWT}", "X-Request-ID": "req-77"})
    assert response.status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert len(lines) == 3
    for entry in lines:
        assert entry["request_id"] == "req-77"
        assert {"time", "level", "logger", "message"} <= set(entry)
    text = stream.getvalue()
    for secret in ("hunter2-very-secret", JWT, "XXXXXXXXXXXXXXXXXXXXXXXX", "s3cr3t"):
        assert secret not in text
    assert "[REDACTED]" in lines[0]["message"]
    assert "#ops" in lines[1]["message"]


def test_a_log_line_outside_a_request_has_a_dash_as_request_id(json_app: Flask) -> None:
    stream = _log_stream(json_app)
    logging.getLogger("src.scheduler").warning("tick")
    entry = json.loads(stream.getvalue().strip())
    assert entry["request_id"] == "-"
    assert entry["message"] == "tick"


def test_text_lines_carry_the_request_id(make_app: Callable[..., Flask]) -> None:
    application = make_app()

    @application.get("/test-text-log")
    def log_line() -> dict[str, str]:
        current_app.logger.warning("something with Authorization: Bearer abc.def.ghi")
        return {}

    stream = _log_stream(application)
    application.test_client().get("/test-text-log", headers={"X-Request-ID": "txt-1"})
    line = stream.getvalue().strip()
    assert "[txt-1]" in line and "WARNING" in line
    assert "abc.def.ghi" not in line


@pytest.mark.parametrize("raw, secret", [
    ('{"password": "pw-123", "username": "alice"}', "pw-123"),
    ("refresh_token=abcdef123456&x=1", "abcdef123456"),
    ("GITHUB_TOKEN ghp_abcdefghijklmnopqrstuvwxyz0123", "ghp_abcdefghijklmnopqrstuvwxyz0123"),
    ("X-Cron-Signature: sha256=deadbeefcafe", "deadbeefcafe"),
    ("WEBHOOK_SIGNING_SECRET='topsecret'", "topsecret"),
    ("Authorization: Basic YWxpY2U6cGFzcw==", "YWxpY2U6cGFzcw=="),
    (SLACK, "XXXXXXXXXXXXXXXXXXXXXXXX"),
    (f'127.0.0.1 "GET /api/health?access_token={JWT}&password=pw-9 HTTP/1.1" 200', "pw-9"),
])
def test_redaction_removes_each_kind_of_secret(raw: str, secret: str) -> None:
    assert secret not in redact(raw)


def test_redaction_leaves_one_marker_per_secret() -> None:
    assert redact(f"Authorization: Bearer {JWT}") == "Authorization: Bearer [REDACTED]"
    assert redact(f"?access_token={JWT}&x=1") == "?access_token=[REDACTED]&x=1"


def test_redaction_keeps_ordinary_text() -> None:
    text = "job nightly-backup (id 6f1c) finished with HTTP 204 in 0.31 s"
    assert redact(text) == text


MIGRATE_THEN_CHECK = """
import logging
from src.app import create_app
from src.utils.db_migrations import upgrade_database
app = create_app({"DATABASE_URL": %r, "MAIL_ENABLED": False, "ALLOW_DEFAULT_ADMIN": False})
upgrade_database(app)
root = logging.getLogger()
print(root.level, [getattr(h, "_cron_scheduler", False) for h in root.handlers])
"""


def test_applying_migrations_keeps_the_service_handler_and_level(tmp_path: Path) -> None:
    script = MIGRATE_THEN_CHECK % f"sqlite:///{tmp_path / 'migrate.db'}"
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == f"{logging.INFO} [True]"
