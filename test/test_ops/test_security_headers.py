"""Security headers on every response; HSTS only in production."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient



@pytest.mark.parametrize("path", ["/api/health", "/api/does-not-exist", "/api/docs", "/metrics", "/api/openapi.json"])
def test_every_response_has_the_hardening_headers(client: FlaskClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp


def test_json_responses_are_not_cached(client: FlaskClient) -> None:
    assert client.get("/api/health").headers["Cache-Control"] == "no-store"


def test_no_hsts_outside_production(client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/api/health").headers


@pytest.fixture
def production_client(make_app: Callable[..., Flask]) -> Iterator[FlaskClient]:
    application: Flask = make_app(FLASK_ENV="production")
    yield application.test_client()


def test_hsts_in_production(production_client: FlaskClient) -> None:
    assert production_client.get("/api/health").headers["Strict-Transport-Security"].startswith("max-age=31536000")
