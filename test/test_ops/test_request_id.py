"""Every response carries X-Request-ID: a sane incoming one is kept, anything else is replaced."""
from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def test_a_request_without_an_id_gets_a_generated_one(client: FlaskClient) -> None:
    first = client.get("/api/health").headers["X-Request-ID"]
    second = client.get("/api/health").headers["X-Request-ID"]
    assert HEX_ID.match(first) and HEX_ID.match(second)
    assert first != second


def test_a_sane_incoming_id_is_echoed(client: FlaskClient) -> None:
    response = client.get("/api/health", headers={"X-Request-ID": "proxy-42.a:b"})
    assert response.headers["X-Request-ID"] == "proxy-42.a:b"


@pytest.mark.parametrize("bad", ["x" * 200, "has space", "<script>", "../../etc", "\u00e9t\u00e9"])
def test_an_insane_incoming_id_is_replaced(client: FlaskClient, bad: str) -> None:
    response = client.get("/api/health", headers={"X-Request-ID": bad})
    assert HEX_ID.match(response.headers["X-Request-ID"])


@pytest.mark.parametrize("path", ["/api/does-not-exist", "/metrics", "/api/docs", "/api/openapi.json"])
def test_errors_docs_and_metrics_carry_the_id_too(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"X-Request-ID": "trace-1"})
    assert response.headers["X-Request-ID"] == "trace-1"


def test_an_unauthenticated_api_error_carries_the_id(client: FlaskClient) -> None:
    response = client.get("/api/jobs", headers={"X-Request-ID": "trace-2"})
    assert response.status_code in (401, 404)
    assert response.headers["X-Request-ID"] == "trace-2"
