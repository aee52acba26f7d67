"""CORS follows CORS_ORIGINS: the dashboard's origin may call the API with Authorization and Content-Type."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient


DASHBOARD = "https://dashboard.example.com"


@pytest.fixture
def cors_client(make_app: Callable[..., Flask]) -> FlaskClient:
    application: Flask = make_app(CORS_ORIGINS=[DASHBOARD])
    return application.test_client()


def test_an_allowed_origin_is_echoed(cors_client: FlaskClient) -> None:
    response = cors_client.get("/api/health", headers={"Origin": DASHBOARD})
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_another_origin_gets_no_cors_header(cors_client: FlaskClient) -> None:
    response = cors_client.get("/api/health", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_preflight_allows_authorization_and_content_type(cors_client: FlaskClient) -> None:
    response = cors_client.options("/api/health", headers={
        "Origin": DASHBOARD, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "GET" in response.headers["Access-Control-Allow-Methods"]


def test_a_preflight_from_another_origin_is_not_allowed(cors_client: FlaskClient) -> None:
    response = cors_client.options("/api/health", headers={
        "Origin": "https://evil.example.net", "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "Authorization"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_no_origin_is_allowed_when_cors_origins_is_empty(make_app: Callable[..., Flask]) -> None:
    client = make_app(CORS_ORIGINS=[]).test_client()
    response = client.get("/api/health", headers={"Origin": DASHBOARD})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_the_development_default_allows_any_origin(client: FlaskClient) -> None:
    response = client.get("/api/health", headers={"Origin": "http://localhost:5173"})
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "http://localhost:5173")
