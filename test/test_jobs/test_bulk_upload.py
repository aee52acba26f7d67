"""CSV bulk upload and export: aliases, create-or-update, per-row errors, atomic, dry run, file checks, round trip."""
from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from src.app import create_app
from src.models import Job, db
from src.services import bulk_upload
from test.conftest import ROLE_USERS, World
from test.conftest import test_config as make_test_config

HEADER = "Job Name,Cron Expression,Status,Target URL\n"


def upload(client: FlaskClient, world: World, content: bytes | str, user: str = "alice",
           **options: Any):
    data = content.encode() if isinstance(content, str) else content
    form: dict[str, Any] = {"file": (io.BytesIO(data), "jobs.csv"), **{k: str(v).lower() for k, v in options.items()}}
    return client.post("/api/jobs/bulk-upload", data=form, content_type="multipart/form-data",
                       headers=world.headers(user))


def stored(app: Flask) -> dict[str, Job]:
    with app.app_context():
        jobs = {job.name: job for job in db.session.scalars(select(Job))}
        db.session.expunge_all()
        return jobs


@pytest.mark.parametrize("role,status", [("admin", 200), ("user", 200), ("viewer", 403), ("anonymous", 401)])
def test_upload_is_for_admins_and_users(client: FlaskClient, world: World, role: str, status: int) -> None:
    response = upload(client, world, HEADER + "a,0 9 * * *,Enable,http://127.0.0.1/a\n", user=ROLE_USERS[role])
    assert response.status_code == status


def test_upload_creates_jobs_with_the_contract_shape(client: FlaskClient, world: World, app: Flask) -> None:
    response = upload(client, world, HEADER + "a,0 9 * * *,Enable,http://127.0.0.1/a\n"
                                              "b,*/5 * * * *,Disable,https://example.com/b\n")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"message", "dry_run", "created_count", "updated_count", "error_count", "errors", "jobs"}
    assert (body["created_count"], body["updated_count"], body["error_count"], body["dry_run"]) == (2, 0, 0, False)
    assert {(j["name"], j["is_active"]) for j in body["jobs"]} == {("a", True), ("b", False)}
    jobs = stored(app)
    assert jobs["b"].is_active is False and jobs["a"].created_by == world.id("alice")
    assert {j["id"] for j in body["jobs"]} == {jobs["a"].id, jobs["b"].id}


def test_headers_match_their_aliases_case_insensitively(client: FlaskClient, world: World, app: Flask,
                                                        make_reference) -> None:
    make_reference("job-categories", "Finance")
    make_reference("pic-teams", "Data Team")
    content = ("JOB NAME,cron schedule (jst),status,owner,Repo,WORKFLOW NAME,Category,End Date,PIC Team,"
               "Branch,Request Body,url\n"
               'gh,0 1 * * *,true,,acme/tools,deploy.yml,finance,2099-01-31,data-team,release,"{""env"": ""prod""}",\n')
    body = upload(client, world, content).get_json()
    assert body["errors"] == []
    job = stored(app)["gh"]
    assert (job.github_owner, job.github_repo, job.github_workflow_name) == ("acme", "tools", "deploy.yml")
    assert (job.category, job.pic_team, str(job.end_date)) == ("finance", "data-team", "2099-01-31")
    assert job.metadata_dict == {"env": "prod", "branchDetails": "release"}
    assert job.cron_expression == "0 1 * * *" and job.is_active is True


@pytest.mark.parametrize("header", ["name,cron,active,target_url", "Job Name,cron_expression,is_active,URL"])
def test_more_aliases(client: FlaskClient, world: World, app: Flask, header: str) -> None:
    body = upload(client, world, f"{header}\nx,0 0 * * *,Disable,http://127.0.0.1/x\n").get_json()
    assert body["created_count"] == 1
    assert stored(app)["x"].is_active is False


def test_default_github_owner_option(client: FlaskClient, world: World, app: Flask) -> None:
    content = "Job Name,Cron Expression,Repo,Workflow Name\ngh,0 1 * * *,tools,ci.yml\n"
    assert upload(client, world, content).get_json()["errors"][0]["error"] == "Missing target configuration"
    body = upload(client, world, content, default_github_owner="acme").get_json()
    assert body["created_count"] == 1
    assert stored(app)["gh"].github_owner == "acme"


def test_rows_with_errors_are_reported_and_good_rows_go_in(client: FlaskClient, world: World, app: Flask) -> None:
    content = (HEADER + "good,0 9 * * *,Enable,http://127.0.0.1/a\n"
               "bad-cron,0 25 * * *,Enable,http://127.0.0.1/a\n"
               ",0 9 * * *,Enable,http://127.0.0.1/a\n"
               "no-target,0 9 * * *,Enable,\n"
               "bad-status,0 9 * * *,Sometimes,http://127.0.0.1/a\n"
               "good,0 8 * * *,Enable,http://127.0.0.1/a\n"
               "bad-url,0 9 * * *,Enable,ftp://x\n")
    body = upload(client, world, content).get_json()
    errors = {e["row"]: e for e in body["errors"]}
    assert {row: e["error"] for row, e in errors.items()} == {
        3: "Invalid cron expression", 4: "Missing required fields", 5: "Missing target configuration",
        6: "Validation error", 7: "Duplicate job name", 8: "Validation error"}
    assert errors[3]["job_name"] == "bad-cron" and errors[4]["job_name"] is None
    assert all(set(e) == {"row", "job_name", "error", "message"} and e["message"] for e in body["errors"])
    assert (body["created_count"], body["error_count"]) == (1, 6)
    assert set(stored(app)) == {"good"}


def test_atomic_stores_nothing_when_any_row_fails(client: FlaskClient, world: World, app: Flask, make_job) -> None:
    make_job(name="existing")
    content = (HEADER + "existing,0 1 * * *,Disable,http://127.0.0.1/e\n"
               "new,0 9 * * *,Enable,http://127.0.0.1/a\nbad,nope,Enable,http://127.0.0.1/a\n")
    body = upload(client, world, content, atomic=True).get_json()
    assert (body["created_count"], body["updated_count"], body["error_count"]) == (0, 0, 1)
    assert body["jobs"] == []
    jobs = stored(app)
    assert set(jobs) == {"existing"}
    assert jobs["existing"].is_active is True and jobs["existing"].cron_expression == "0 9 * * 1-5"
    body = upload(client, world, content.replace("bad,nope", "ok,0 0 * * *"), atomic=True).get_json()
    assert (body["created_count"], body["updated_count"], body["error_count"]) == (2, 1, 0)


def test_dry_run_stores_nothing_and_reports_what_would_happen(client: FlaskClient, world: World, app: Flask,
                                                              make_job) -> None:
    make_job(name="existing")
    content = HEADER + "existing,0 1 * * *,Disable,http://127.0.0.1/e\nnew,0 9 * * *,Enable,http://127.0.0.1/a\n"
    body = upload(client, world, content, dry_run=True).get_json()
    assert (body["dry_run"], body["created_count"], body["updated_count"]) == (True, 1, 1)
    assert {(j["name"], j["is_active"], j["id"] is None) for j in body["jobs"]} == {("existing", False, False),
                                                                                  ("new", True, True)}
    jobs = stored(app)
    assert set(jobs) == {"existing"}
    assert jobs["existing"].cron_expression == "0 9 * * 1-5"


def test_existing_names_are_updated_only_in_the_columns_given(client: FlaskClient, world: World, app: Flask,
                                                              make_job) -> None:
    job = make_job(name="existing", metadata={"keep": 1})
    body = upload(client, world, "name,Status\nexisting,Disable\n").get_json()
    assert (body["created_count"], body["updated_count"]) == (0, 1)
    assert body["jobs"] == [{"id": job["id"], "name": "existing", "is_active": False}]
    updated = stored(app)["existing"]
    assert updated.is_active is False
    assert updated.metadata_dict == {"keep": 1} and updated.target_url == job["target_url"]


@pytest.mark.parametrize("user,allowed", [("alice", True), ("root", True), ("bob", False)])
def test_users_update_only_their_own_jobs(client: FlaskClient, world: World, app: Flask, make_job, user: str,
                                          allowed: bool) -> None:
    make_job("alice", name="alices")
    body = upload(client, world, "name,Status\nalices,Disable\n", user=user).get_json()
    assert body["updated_count"] == (1 if allowed else 0)
    assert stored(app)["alices"].is_active is (not allowed)
    if not allowed:
        assert body["errors"][0]["error"] == "Insufficient permissions"
        assert body["errors"][0]["row"] == 2


def test_utf8_with_bom_and_non_ascii_names(client: FlaskClient, world: World, app: Flask) -> None:
    content = "\ufeff" + HEADER + "日次レポート,0 9 * * *,Enable,http://127.0.0.1/a\r\n"
    assert upload(client, world, content.encode("utf-8")).get_json()["created_count"] == 1
    assert "日次レポート" in stored(app)


@pytest.mark.parametrize("content,hint", [
    (b"", "empty"),
    (b"  \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("Job Name,Cron Expression\nCaf\u00e9,0 9 * * *\n".encode("latin-1"), "UTF-8"),
    (b"colour,shape\nred,round\n", "Job Name"),
])
def test_files_that_are_not_a_jobs_csv_are_400(client: FlaskClient, world: World, content: bytes,
                                               hint: str) -> None:
    response = upload(client, world, content)
    assert response.status_code == 400
    assert hint in response.get_json()["message"]


def test_missing_file_field_is_400(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs/bulk-upload", data={"dry_run": "true"}, content_type="multipart/form-data",
                           headers=world.headers("alice"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "Missing required fields"


def test_upload_larger_than_max_content_length_is_413(database_url: str, world: World) -> None:
    small = create_app(make_test_config(database_url, MAX_CONTENT_LENGTH=4096))
    response = upload(small.test_client(), world, HEADER + "a,0 9 * * *,Enable,http://127.0.0.1/a\n" * 200)
    assert response.status_code == 413
    assert set(response.get_json()) >= {"error", "message"}


def test_the_scheduler_hears_about_the_whole_file_once(client: FlaskClient, world: World,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr("src.services.bulk_upload.jobs_changed", lambda ids: calls.append(list(ids)))
    body = upload(client, world, HEADER + "a,0 9 * * *,Enable,http://127.0.0.1/a\n"
                                          "b,0 9 * * *,Enable,http://127.0.0.1/b\n").get_json()
    assert calls == [[job["id"] for job in body["jobs"]]]
    upload(client, world, HEADER + "c,0 9 * * *,Enable,http://127.0.0.1/a\n", dry_run=True)
    assert len(calls) == 1


# --- export ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role,status", [("admin", 200), ("user", 200), ("viewer", 200), ("anonymous", 401)])
def test_export_is_for_every_role(client: FlaskClient, world: World, make_job, role: str, status: int) -> None:
    make_job()
    response = client.get("/api/jobs/export", headers=world.headers(ROLE_USERS[role]))
    assert response.status_code == status
    if status == 200:
        assert response.mimetype == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]


def exported_rows(client: FlaskClient, world: World, query: str = "") -> list[dict[str, str]]:
    text = client.get(f"/api/jobs/export{query}", headers=world.headers("victor")).data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_export_guards_against_formula_injection(client: FlaskClient, world: World, make_job) -> None:
    for name in ("=HYPERLINK(\"http://evil\")", "+1", "-1", "@SUM(A1)", "safe"):
        make_job(name=name, metadata={"note": "=cmd"})
    exported = {row["Job Name"] for row in exported_rows(client, world)}
    assert exported == {"'=HYPERLINK(\"http://evil\")", "'+1", "'-1", "'@SUM(A1)", "safe"}


@pytest.mark.parametrize("cell", ["=1", "+1", "-1", "@x", "\tx", "\rx"])
def test_every_formula_start_is_guarded_and_unguarded(cell: str) -> None:
    assert bulk_upload._guard(cell) == "'" + cell
    assert bulk_upload._unguard("'" + cell) == cell


def test_export_applies_the_list_filters(client: FlaskClient, world: World, make_job) -> None:
    make_job(name="on")
    make_job(name="off", is_active=False)
    assert [row["Job Name"] for row in exported_rows(client, world, "?is_active=false")] == ["off"]


def test_export_reimports_to_the_same_jobs(client: FlaskClient, world: World, app: Flask, make_job,
                                           make_reference) -> None:
    make_reference("job-categories", "Finance")
    make_reference("pic-teams", "Data Team")
    make_job(name="=webhook, \"quoted\"", metadata={"a": [1, 2], "b": "=x"}, end_date="2099-12-31",
             category="finance", pic_team="data-team", enable_email_notifications=True,
             notification_emails=["ops@example.com", "dev@example.com"], notify_on_success=True)
    make_job(name="github", target_url=None, github_owner="acme", github_repo="tools",
             github_workflow_name="ci.yml", metadata={"branchDetails": "release", "x": "1"}, is_active=False)
    make_job(name="both\nlines", github_owner="acme", github_repo="tools", github_workflow_name="ci.yml")
    before = client.get("/api/jobs", headers=world.headers("alice")).get_json()["jobs"]
    csv_bytes = client.get("/api/jobs/export", headers=world.headers("alice")).data

    unchanged = upload(client, world, csv_bytes).get_json()
    assert (unchanged["created_count"], unchanged["updated_count"], unchanged["error_count"]) == (0, 3, 0)
    for job in before:
        client.delete(f"/api/jobs/{job['id']}", headers=world.headers("alice"))
    recreated = upload(client, world, csv_bytes).get_json()
    assert (recreated["created_count"], recreated["error_count"]) == (3, 0), recreated["errors"]

    volatile = {"id", "created_at", "updated_at", "next_execution_at", "last_execution_at"}
    after = client.get("/api/jobs", headers=world.headers("alice")).get_json()["jobs"]

    def comparable(jobs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        return {job["name"]: {k: v for k, v in job.items() if k not in volatile} for job in jobs}

    assert comparable(after) == comparable(before)


def test_big_import_is_one_batch(client: FlaskClient, world: World, app: Flask) -> None:
    rows = "".join(f"job-{i},*/5 * * * *,Enable,http://127.0.0.1/{i}\n" for i in range(600))
    body = upload(client, world, HEADER + rows).get_json()
    assert (body["created_count"], body["error_count"]) == (600, 0)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Job)) == 600
    again = upload(client, world, HEADER + rows.replace("*/5", "*/10")).get_json()
    assert (again["created_count"], again["updated_count"]) == (0, 600)


def notifications_of(client: FlaskClient, world: World, user: str) -> list[dict[str, Any]]:
    return client.get("/api/notifications", headers=world.headers(user)).get_json()["notifications"]


def test_an_import_notifies_each_person_once_not_once_per_row(client: FlaskClient, world: World) -> None:
    rows = "".join(f"import-{i},0 9 * * *,Enable,http://127.0.0.1/a\n" for i in range(25))
    assert upload(client, world, HEADER + rows).get_json()["created_count"] == 25
    admin_inbox = notifications_of(client, world, "root")
    assert [n["title"] for n in admin_inbox] == ["Jobs imported from CSV"]
    assert "25 created, 0 changed" in admin_inbox[0]["message"]
    assert notifications_of(client, world, "alice") == []


def test_owners_hear_once_when_an_admin_import_pauses_their_jobs(client: FlaskClient, world: World,
                                                                 make_job) -> None:
    make_job("alice", name="alices-1")
    make_job("alice", name="alices-2")
    before = len(notifications_of(client, world, "alice"))
    body = upload(client, world, "name,Status\nalices-1,Disable\nalices-2,Disable\n", user="root").get_json()
    assert body["updated_count"] == 2
    inbox = notifications_of(client, world, "alice")
    assert len(inbox) == before + 1
    assert "2 changed (2 of them paused)" in inbox[0]["message"]


def test_openapi_documents_the_file_and_every_option(client: FlaskClient) -> None:
    spec = client.get("/api/openapi.json").get_json()
    body = spec["paths"]["/api/jobs/bulk-upload"]["post"]["requestBody"]["content"]["multipart/form-data"]
    schema = spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"file", "dry_run", "atomic", "default_github_owner"}
    assert schema["required"] == ["file"]
