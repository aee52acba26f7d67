"""POST /api/jobs/{id}/execute and POST /api/jobs/test-run for every role, real calls, and bad input."""
from __future__ import annotations

import time
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from src.app import create_app
from src.models import JobExecution, db
from test.conftest import ROLE_USERS, World
from test.conftest import test_config as app_config
from test.test_executions.conftest import add_job
from test.test_scheduler.conftest import wait_until
from test.test_scheduler.receiver import Receiver


def execution_of(client: FlaskClient, world: World, execution_id: str) -> dict:
    return client.get(f"/api/executions/{execution_id}", headers=world.headers("root")).get_json()["execution"]


def test_the_owner_runs_a_job_now_and_the_run_is_recorded(app: Flask, client: FlaskClient, world: World,
                                                          receiver: Receiver) -> None:
    job_id = add_job(app, "manual", world.id("alice"), target_url=receiver.url("/ok"), job_metadata='{"x":1}')
    response = client.post(f"/api/jobs/{job_id}/execute", headers=world.headers("alice"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] == "Job triggered successfully" and body["job_id"] == job_id
    done = wait_until(lambda: execution_of(client, world, body["execution_id"])["status"] != "running", timeout=10)
    assert done
    execution = execution_of(client, world, body["execution_id"])
    assert execution["status"] == "success" and execution["trigger_type"] == "manual"
    assert execution["scheduled_for"] is None and execution["response_status"] == 200
    assert execution["job_name"] == "manual" and execution["target"] == receiver.url("/ok")
    [request] = receiver.received()
    assert request.headers["X-Cron-Trigger"] == "manual" and request.json() == {"x": 1}
    assert request.headers["X-Cron-Execution-Id"] == body["execution_id"]


@pytest.mark.parametrize(("caller", "status"), [("admin", 200), ("user", 200), ("viewer", 403), ("anonymous", 401),
                                                ("bob", 403)])
def test_only_the_owner_or_an_admin_may_run_a_job(app: Flask, client: FlaskClient, world: World, caller: str,
                                                  status: int, receiver: Receiver) -> None:
    job_id = add_job(app, "owned", world.id("alice"), target_url=receiver.url("/ok"))
    name = ROLE_USERS.get(caller, caller)
    response = client.post(f"/api/jobs/{job_id}/execute", headers=world.headers(name))
    assert response.status_code == status
    if status == 403:
        assert response.get_json()["error"] == "Insufficient permissions"
    if status != 200:
        with app.app_context():
            assert db.session.scalar(select(func.count(JobExecution.id))) == 0


def test_running_an_unknown_or_expired_job_is_refused(app: Flask, client: FlaskClient, world: World) -> None:
    missing = client.post("/api/jobs/no-such-job/execute", headers=world.headers("root"))
    assert missing.status_code == 404 and missing.get_json()["error"] == "Job not found"
    job_id = add_job(app, "ended", world.id("alice"), end_date=date(2020, 1, 31))
    expired = client.post(f"/api/jobs/{job_id}/execute", headers=world.headers("root"))
    assert expired.status_code == 400
    assert expired.get_json()["error"] == "Job expired" and "2020-01-31" in expired.get_json()["message"]


def test_a_test_run_makes_the_real_call_and_stores_nothing(app: Flask, client: FlaskClient, world: World,
                                                           receiver: Receiver) -> None:
    ok = client.post("/api/jobs/test-run", headers=world.headers("alice"),
                     json={"target_url": receiver.url("/ok"), "metadata": {"a": "b"}, "timeout_seconds": 5})
    assert ok.status_code == 200
    assert ok.get_json() | {"duration_seconds": 0} == {"ok": True, "type": "webhook", "status_code": 200,
                                                       "message": "HTTP 200 OK", "duration_seconds": 0}
    failed = client.post("/api/jobs/test-run", headers=world.headers("root"), json={"target_url": receiver.url("/status/503")})
    body = failed.get_json()
    assert failed.status_code == 200 and body["ok"] is False and body["type"] == "webhook"
    assert body["error"] == "HTTP error" and body["status_code"] == 503
    assert [r.json() for r in receiver.received()] == [{"a": "b"}, {}]
    with app.app_context():
        assert db.session.scalar(select(func.count(JobExecution.id))) == 0


def test_a_test_run_times_out_at_the_requested_bound(client: FlaskClient, world: World, receiver: Receiver) -> None:
    response = client.post("/api/jobs/test-run", headers=world.headers("alice"),
                           json={"target_url": receiver.url("/hang/10"), "timeout_seconds": 1})
    body = response.get_json()
    assert body["ok"] is False and body["error"] == "Timeout" and body["duration_seconds"] < 3


def test_a_test_run_of_a_github_workflow_uses_the_configured_api(database_url: str, world: World,
                                                                 receiver: Receiver) -> None:
    github_app = create_app(app_config(database_url, GITHUB_TOKEN="ghp_x", GITHUB_API_URL=receiver.url("/github")))
    response = github_app.test_client().post(
        "/api/jobs/test-run", headers=world.headers("alice"),
        json={"github_owner": "octo", "github_repo": "repo", "github_workflow_name": "ci.yml",
              "metadata": {"ref": "dev", "n": 2}})
    body = response.get_json()
    assert body["ok"] is True and body["type"] == "github" and body["status_code"] == 204
    assert receiver.received()[0].json() == {"ref": "dev", "inputs": {"n": "2"}}


def test_a_test_run_to_a_private_target_is_refused_in_production_mode(database_url: str, world: World,
                                                                      receiver: Receiver) -> None:
    prod_app = create_app(app_config(database_url, WEBHOOK_ALLOW_PRIVATE_TARGETS=False))
    response = prod_app.test_client().post("/api/jobs/test-run", headers=world.headers("alice"),
                                           json={"target_url": receiver.url("/ok", host="localhost")})
    body = response.get_json()
    assert body["ok"] is False and body["error"] == "Target not allowed"
    assert receiver.received() == []


@pytest.mark.parametrize(("caller", "status"), [("viewer", 403), ("anonymous", 401)])
def test_viewers_and_anonymous_callers_cannot_test_run(client: FlaskClient, world: World, caller: str, status: int,
                                                       receiver: Receiver) -> None:
    response = client.post("/api/jobs/test-run", headers=world.headers(ROLE_USERS[caller]),
                           json={"target_url": receiver.url("/ok")})
    assert response.status_code == status
    assert receiver.received() == []


@pytest.mark.parametrize("body", [
    {},
    {"metadata": {"a": 1}},
    {"target_url": "http://127.0.0.1:9/", "timeout_seconds": 0},
    {"target_url": "http://127.0.0.1:9/", "timeout_seconds": 31},
    {"target_url": "http://127.0.0.1:9/", "timeout_seconds": "ten"},
    {"target_url": 5},
    {"target_url": "x" * 501},
    {"target_url": "http://127.0.0.1:9/", "metadata": [1, 2]},
    {"github_repo": "r"},
    [1, 2],
    {"target_url": "http://127.0.0.1:9/", "metadata": {"a": 1}, "github_owner": 7},
])
def test_bad_test_run_input_is_a_400(client: FlaskClient, world: World, body: object) -> None:
    response = client.post("/api/jobs/test-run", headers=world.headers("alice"), json=body)
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "message"}


@pytest.mark.parametrize("url", ["http://[::1", "http://host:99999/x", "mailto:someone@example.com", "http://"])
def test_a_test_run_to_a_malformed_url_is_a_clear_failure_not_a_500(client: FlaskClient, world: World,
                                                                    url: str) -> None:
    response = client.post("/api/jobs/test-run", headers=world.headers("alice"), json={"target_url": url})
    assert response.status_code == 200
    assert response.get_json()["ok"] is False and response.get_json()["error"] == "Invalid target"


def test_a_test_run_body_that_is_not_json_is_a_400(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs/test-run", headers={**world.headers("alice"), "Content-Type": "application/json"},
                           data="{not json")
    assert response.status_code == 400


def test_a_manual_run_of_a_slow_target_returns_at_once(app: Flask, client: FlaskClient, world: World,
                                                       receiver: Receiver) -> None:
    job_id = add_job(app, "slow", world.id("alice"), target_url=receiver.url("/hang/2"))
    started = time.monotonic()
    response = client.post(f"/api/jobs/{job_id}/execute", headers=world.headers("alice"))
    assert response.status_code == 200 and time.monotonic() - started < 1.0
    execution_id = response.get_json()["execution_id"]
    assert execution_of(client, world, execution_id)["status"] == "running"
    assert wait_until(lambda: execution_of(client, world, execution_id)["status"] == "success", timeout=10)
