"""Jobs CRUD: every endpoint for every role, ownership, response shapes, pause/resume and the scheduler hand-off."""
from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from src.models import Job, JobExecution, Notification, db
from src.models.base import utcnow
from test.conftest import ROLE_USERS, World
from test.test_jobs.conftest import job_body

JOB_KEYS = {"id", "name", "cron_expression", "target_url", "github_owner", "github_repo", "github_workflow_name",
            "metadata", "category", "end_date", "pic_team", "enable_email_notifications", "notification_emails",
            "notify_on_success", "created_by", "is_active", "created_at", "updated_at", "last_execution_at",
            "next_execution_at"}


@pytest.fixture
def scheduler_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []
    monkeypatch.setattr("src.services.jobs.jobs_changed", lambda ids: calls.append(list(ids)))
    return calls


@pytest.mark.parametrize("role,status", [("admin", 201), ("user", 201), ("viewer", 403), ("anonymous", 401)])
def test_create_is_for_admins_and_users(client: FlaskClient, world: World, role: str, status: int) -> None:
    response = client.post("/api/jobs", json=job_body(), headers=world.headers(ROLE_USERS[role]))
    assert response.status_code == status
    body = response.get_json()
    if status == 201:
        assert body["message"]
        assert set(body["job"]) == JOB_KEYS
        assert body["job"]["created_by"] == world.id(ROLE_USERS[role])
    else:
        assert set(body) == {"error", "message"}


def test_create_returns_the_stored_job_with_defaults(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs", json=job_body(cron_expression="0  9 * *   1-5"), headers=world.headers("alice"))
    job = response.get_json()["job"]
    assert job["cron_expression"] == "0 9 * * 1-5"
    assert job["category"] == "general"
    assert job["is_active"] is True
    assert job["metadata"] == {}
    assert job["notification_emails"] == []
    assert job["last_execution_at"] is None
    assert job["next_execution_at"].endswith("+09:00")  # SCHEDULER_TIMEZONE is Asia/Tokyo in tests
    assert datetime.fromisoformat(job["created_at"]).utcoffset() is not None


@pytest.mark.parametrize("role", ["admin", "user", "viewer"])
def test_any_role_reads_a_job(client: FlaskClient, world: World, make_job, role: str) -> None:
    job = make_job()
    response = client.get(f"/api/jobs/{job['id']}", headers=world.headers(ROLE_USERS[role]))
    assert response.status_code == 200
    assert response.get_json()["job"]["id"] == job["id"]


def test_anonymous_cannot_read_a_job(client: FlaskClient, make_job) -> None:
    job = make_job()
    assert client.get(f"/api/jobs/{job['id']}").status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "delete"])
@pytest.mark.parametrize("job_id", ["00000000-0000-0000-0000-000000000000", "not-an-id", "%00", "x" * 300])
def test_unknown_job_is_404_job_not_found(client: FlaskClient, world: World, method: str, job_id: str) -> None:
    response = getattr(client, method)(f"/api/jobs/{job_id}", json={}, headers=world.headers("root"))
    assert response.status_code == 404
    assert response.get_json()["error"] == "Job not found"


@pytest.mark.parametrize("actor,status", [("alice", 200), ("root", 200), ("bob", 403), ("victor", 403),
                                          ("anonymous", 401)])
def test_update_is_for_the_owner_and_admins(client: FlaskClient, world: World, make_job, actor: str,
                                            status: int) -> None:
    job = make_job("alice")
    response = client.put(f"/api/jobs/{job['id']}", json={"target_url": "https://example.com/new"},
                          headers=world.headers(actor))
    assert response.status_code == status
    stored = client.get(f"/api/jobs/{job['id']}", headers=world.headers("root")).get_json()["job"]
    assert stored["target_url"] == ("https://example.com/new" if status == 200 else job["target_url"])
    if status == 200:
        assert response.get_json()["message"]
        assert response.get_json()["job"]["target_url"] == "https://example.com/new"


def test_update_changes_only_the_fields_sent_and_ignores_unknown_keys(client: FlaskClient, world: World,
                                                                     make_job) -> None:
    job = make_job(metadata={"a": 1}, notification_emails="x@example.com")
    form = {**job, "name": "renamed", "last_execution_at": "garbage", "whatever": [1, 2]}
    response = client.put(f"/api/jobs/{job['id']}", json=form, headers=world.headers("alice"))
    assert response.status_code == 200, response.get_json()
    updated = response.get_json()["job"]
    assert updated["name"] == "renamed"
    assert updated["metadata"] == {"a": 1}
    assert updated["cron_expression"] == job["cron_expression"]
    assert updated["created_at"] == job["created_at"]


@pytest.mark.parametrize("actor,status", [("alice", 200), ("root", 200), ("bob", 403), ("victor", 403),
                                          ("anonymous", 401)])
def test_delete_is_for_the_owner_and_admins(client: FlaskClient, world: World, make_job, actor: str,
                                            status: int) -> None:
    job = make_job("alice")
    response = client.delete(f"/api/jobs/{job['id']}", headers=world.headers(actor))
    assert response.status_code == status
    exists = client.get(f"/api/jobs/{job['id']}", headers=world.headers("root")).status_code == 200
    if status == 200:
        assert response.get_json() == {"message": "Job deleted successfully",
                                       "deleted_job": {"id": job["id"], "name": job["name"]}}
        assert not exists
    else:
        assert exists


def test_delete_removes_the_execution_history(client: FlaskClient, world: World, app: Flask, make_job) -> None:
    job = make_job()
    with app.app_context():
        db.session.add(JobExecution(job_id=job["id"], status="success", trigger_type="manual"))
        db.session.commit()
    client.delete(f"/api/jobs/{job['id']}", headers=world.headers("alice"))
    with app.app_context():
        assert db.session.scalar(select(JobExecution.id).where(JobExecution.job_id == job["id"])) is None


def test_pause_and_resume_through_put(client: FlaskClient, world: World, app: Flask, make_job,
                                      scheduler_calls: list[list[str]]) -> None:
    job = make_job()
    with app.app_context():
        created_since = db.session.get(Job, job["id"]).scheduled_since
    paused = client.put(f"/api/jobs/{job['id']}", json={"is_active": False}, headers=world.headers("alice"))
    assert paused.get_json()["job"]["is_active"] is False
    assert paused.get_json()["job"]["next_execution_at"] is None
    before_resume = utcnow()
    resumed = client.put(f"/api/jobs/{job['id']}", json={"is_active": True}, headers=world.headers("alice"))
    assert resumed.get_json()["job"]["is_active"] is True
    with app.app_context():
        since = db.session.get(Job, job["id"]).scheduled_since
    assert since >= before_resume > created_since
    assert scheduler_calls == [[job["id"]]] * 3  # create, pause, resume


def test_changing_the_cron_expression_restarts_the_schedule(client: FlaskClient, world: World, app: Flask,
                                                            make_job) -> None:
    job = make_job()
    before = utcnow()
    client.put(f"/api/jobs/{job['id']}", json={"target_url": "https://example.com/x"}, headers=world.headers("alice"))
    with app.app_context():
        assert db.session.get(Job, job["id"]).scheduled_since < before
    client.put(f"/api/jobs/{job['id']}", json={"cron_expression": "*/5 * * * *"}, headers=world.headers("alice"))
    with app.app_context():
        assert db.session.get(Job, job["id"]).scheduled_since >= before


def test_every_change_reaches_the_scheduler_after_commit(client: FlaskClient, world: World,
                                                         scheduler_calls: list[list[str]]) -> None:
    job = client.post("/api/jobs", json=job_body(), headers=world.headers("alice")).get_json()["job"]
    client.put(f"/api/jobs/{job['id']}", json={"name": "other"}, headers=world.headers("alice"))
    client.put(f"/api/jobs/{job['id']}", json={"name": "other"}, headers=world.headers("alice"))  # no change
    client.delete(f"/api/jobs/{job['id']}", headers=world.headers("alice"))
    assert scheduler_calls == [[job["id"]]] * 3


def test_rejected_changes_do_not_reach_the_scheduler(client: FlaskClient, world: World, make_job,
                                                     scheduler_calls: list[list[str]]) -> None:
    job = make_job()
    scheduler_calls.clear()
    client.put(f"/api/jobs/{job['id']}", json={"cron_expression": "bad"}, headers=world.headers("alice"))
    client.put(f"/api/jobs/{job['id']}", json={"name": "x"}, headers=world.headers("bob"))
    assert scheduler_calls == []


def test_notifications_commit_with_the_change(client: FlaskClient, world: World, app: Flask, make_job) -> None:
    job = make_job("alice")
    client.put(f"/api/jobs/{job['id']}", json={"is_active": False}, headers=world.headers("alice"))
    with app.app_context():
        titles = set(db.session.scalars(select(Notification.title).where(Notification.related_job_id == job["id"])))
    assert any("created" in t for t in titles)
    assert any("disabled" in t for t in titles)


def test_resuming_a_job_past_its_end_date_is_job_expired(client: FlaskClient, world: World, app: Flask,
                                                         make_job) -> None:
    job = make_job(is_active=False)
    with app.app_context():
        db.session.get(Job, job["id"]).end_date = datetime(2020, 1, 1).date()
        db.session.commit()
    response = client.put(f"/api/jobs/{job['id']}", json={"is_active": True}, headers=world.headers("alice"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "Job expired"
    response = client.put(f"/api/jobs/{job['id']}", json={"is_active": True, "end_date": None},
                          headers=world.headers("alice"))
    assert response.status_code == 200


def test_duplicate_name_on_update_is_409(client: FlaskClient, world: World, make_job) -> None:
    make_job(name="first")
    second = make_job(name="second")
    response = client.put(f"/api/jobs/{second['id']}", json={"name": "first"}, headers=world.headers("alice"))
    assert response.status_code == 409
    assert response.get_json()["error"] == "Duplicate job name"
