"""Helpers of the jobs area: a valid job body and creating jobs through the API."""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from test.conftest import World


def job_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "nightly-report", "cron_expression": "0 9 * * 1-5",
                            "target_url": "http://127.0.0.1:9/hook"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@pytest.fixture
def make_job(client: FlaskClient, world: World):
    """Create a job as `owner` through the API and return its JSON."""

    def make(owner: str = "alice", **overrides: Any) -> dict[str, Any]:
        response = client.post("/api/jobs", json=job_body(**overrides), headers=world.headers(owner))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["job"]

    return make


@pytest.fixture
def make_reference(client: FlaskClient, world: World):
    """Create a category ("job-categories") or PIC team ("pic-teams") as root; returns its JSON."""

    def make(kind: str, name: str, **extra: Any) -> dict[str, Any]:
        response = client.post(f"/api/{kind}", json={"name": name, **extra}, headers=world.headers("root"))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["category" if kind == "job-categories" else "pic_team"]

    return make
