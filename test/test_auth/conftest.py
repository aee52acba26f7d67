"""Auth test helpers: logging in through the API and the shapes responses must have."""
from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from test.conftest import PASSWORD

USER_KEYS = {"id", "username", "email", "role", "is_active", "created_at", "updated_at"}
ERROR_KEYS = {"error", "message"}
PREFERENCE_KEYS = {"email_on_job_success", "email_on_job_failure", "email_on_job_disabled", "browser_notifications",
                   "daily_digest", "weekly_report"}
COLUMN_KEYS = {"pic_team", "end_date", "cron_expression", "target_url", "last_execution_at"}


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": password})


def tokens(client: FlaskClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = login(client, username, password)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, title: str | None = None) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == status, body
    assert ERROR_KEYS <= set(body), body
    assert set(body) <= ERROR_KEYS | {"details"}, body
    if title is not None:
        assert body["error"] == title, body
    return body
