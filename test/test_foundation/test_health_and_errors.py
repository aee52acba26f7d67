"""The health endpoint and the contract's error body for errors raised by routing and the framework."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError

from src.models import db


def test_health_reports_healthy_with_scheduler_fields(client: FlaskClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy"
    assert body["database"] == "ok"
    for key in ("scheduler_running", "scheduled_jobs_count", "scheduler_leader"):
        assert key in body


def test_health_is_503_when_the_database_is_unreachable(client: FlaskClient, app: Flask, monkeypatch) -> None:
    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    with app.app_context():
        monkeypatch.setattr(db.session, "execute", broken)
        response = client.get("/api/health")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unhealthy"


def test_unknown_url_is_404_json(client: FlaskClient) -> None:
    response = client.get("/api/does-not-exist")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Not found", "message": "The requested URL does not exist on this server."}


def test_wrong_method_is_405_json_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/health")
    assert response.status_code == 405
    assert response.get_json()["error"] == "Method not allowed"
    assert "GET" in response.headers["Allow"]


def test_openapi_document_is_served(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/health" in spec["paths"]
    assert "bearerAuth" in spec["components"]["securitySchemes"]
