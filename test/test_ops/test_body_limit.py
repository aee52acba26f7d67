"""A body over MAX_CONTENT_LENGTH is refused with 413 in the contract's JSON before any view runs."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient



@pytest.fixture
def small_client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(MAX_CONTENT_LENGTH=2048).test_client()


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/jobs", "/api/health", "/api/nowhere"])
def test_an_oversized_body_is_413_json(small_client: FlaskClient, path: str) -> None:
    response = small_client.post(path, data=b"{" + b" " * 4096 + b"}", content_type="application/json")
    assert response.status_code == 413
    assert response.get_json() == {"error": "Payload too large",
                                   "message": "The request body is larger than the server accepts."}


def test_a_body_within_the_limit_reaches_the_view(small_client: FlaskClient) -> None:
    response = small_client.post("/api/auth/login", json={"username": "nobody", "password": "x"})
    assert response.status_code != 413
