"""Every validation rule of a job, with the error title clients match on; bad input is a 400, never a 500."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from src.app import create_app
from src.models import Job, db
from test.conftest import World
from test.conftest import test_config as make_test_config
from test.test_jobs.conftest import job_body

BIG = "x" * 70_000


def post(client: FlaskClient, world: World, **fields: Any):
    return client.post("/api/jobs", json=job_body(**fields), headers=world.headers("alice"))


def job_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Job))


@pytest.mark.parametrize("missing", ["name", "cron_expression"])
def test_missing_required_field_is_missing_required_fields(client: FlaskClient, world: World, missing: str) -> None:
    response = post(client, world, **{missing: ...})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "Missing required fields"
    assert missing in body["details"]


@pytest.mark.parametrize("expression", ["0 25 * * *", "* * * *", "0 0 * * * *", "0 0 0 * * * *", "@reboot",
                                        "@daily", "H * * * *", "0 0 L * *", "0 0 * * 8", "*/0 * * * *"])
def test_bad_cron_is_invalid_cron_expression(client: FlaskClient, world: World, app: Flask, expression: str) -> None:
    response = post(client, world, cron_expression=expression)
    assert response.status_code == 400
    assert response.get_json()["error"] == "Invalid cron expression"
    assert job_count(app) == 0


def test_cron_error_names_the_wrong_field(client: FlaskClient, world: World) -> None:
    message = post(client, world, cron_expression="0 25 * * *").get_json()["message"]
    assert "hour" in message


@pytest.mark.parametrize("fields", [
    {"target_url": None},
    {"target_url": ""},
    {"target_url": None, "github_repo": "repo", "github_owner": "acme"},
    {"target_url": None, "github_workflow_name": "deploy.yml", "github_owner": "acme"},
])
def test_a_job_needs_a_target(client: FlaskClient, world: World, fields: dict[str, Any]) -> None:
    response = post(client, world, **fields)
    assert response.status_code == 400
    assert response.get_json()["error"] == "Missing target configuration"


def test_removing_the_only_target_on_update_is_refused(client: FlaskClient, world: World, make_job) -> None:
    job = make_job()
    response = client.put(f"/api/jobs/{job['id']}", json={"target_url": ""}, headers=world.headers("alice"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "Missing target configuration"


def test_github_target_with_owner(client: FlaskClient, world: World) -> None:
    response = post(client, world, target_url=None, github_owner="acme", github_repo="tools",
                    github_workflow_name="deploy.yml")
    assert response.status_code == 201
    job = response.get_json()["job"]
    assert (job["github_owner"], job["github_repo"], job["github_workflow_name"]) == ("acme", "tools", "deploy.yml")


def test_both_targets_are_kept(client: FlaskClient, world: World) -> None:
    response = post(client, world, github_owner="acme", github_repo="tools", github_workflow_name="ci.yml")
    job = response.get_json()["job"]
    assert job["target_url"] and job["github_repo"] == "tools"


def test_repo_may_name_its_owner(client: FlaskClient, world: World) -> None:
    job = post(client, world, github_repo="acme/tools", github_workflow_name="ci.yml").get_json()["job"]
    assert (job["github_owner"], job["github_repo"]) == ("acme", "tools")
    response = post(client, world, name="x", github_owner="other", github_repo="acme/tools",
                    github_workflow_name="ci.yml")
    assert response.status_code == 400
    assert "github_repo" in response.get_json()["details"]


def test_github_owner_is_required_without_a_default(client: FlaskClient, world: World) -> None:
    response = post(client, world, target_url=None, github_repo="tools", github_workflow_name="ci.yml")
    assert response.status_code == 400
    assert response.get_json()["error"] == "Missing target configuration"
    assert "github_owner" in response.get_json()["details"]


def test_github_owner_falls_back_to_default_github_owner(database_url: str, world: World) -> None:
    special = create_app(make_test_config(database_url, DEFAULT_GITHUB_OWNER="acme-default"))
    response = special.test_client().post(
        "/api/jobs", json=job_body(target_url=None, github_repo="tools", github_workflow_name="ci.yml"),
        headers=world.headers("alice"))
    assert response.status_code == 201
    assert response.get_json()["job"]["github_owner"] == "acme-default"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "http://", "example.com/hook",
                                 "http://exa mple.com/"])
def test_target_url_must_be_http_or_https(client: FlaskClient, world: World, url: str) -> None:
    response = post(client, world, target_url=url)
    assert response.status_code == 400
    assert response.get_json()["error"] == "Validation error"
    assert "target_url" in response.get_json()["details"]


def test_notification_emails_accept_a_list_or_a_comma_string(client: FlaskClient, world: World) -> None:
    listed = post(client, world, name="a", enable_email_notifications=True,
                  notification_emails=["a@example.com", "b@example.com"]).get_json()["job"]
    joined = post(client, world, name="b", enable_email_notifications=True,
                  notification_emails=" a@example.com, b@example.com ,").get_json()["job"]
    assert listed["notification_emails"] == joined["notification_emails"] == ["a@example.com", "b@example.com"]


@pytest.mark.parametrize("emails", ["not-an-email", ["ok@example.com", "bad@"], [1], {"a": "b"}])
def test_notification_emails_must_be_addresses(client: FlaskClient, world: World, emails: Any) -> None:
    response = post(client, world, notification_emails=emails)
    assert response.status_code == 400
    assert "notification_emails" in response.get_json()["details"]


def test_end_date_today_in_the_scheduler_zone_is_accepted(client: FlaskClient, world: World) -> None:
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    assert post(client, world, end_date=today.isoformat()).status_code == 201


def test_end_date_in_the_past_is_refused_on_create(client: FlaskClient, world: World) -> None:
    yesterday = datetime.now(ZoneInfo("Asia/Tokyo")).date() - timedelta(days=1)
    response = post(client, world, end_date=yesterday.isoformat())
    assert response.status_code == 400
    assert response.get_json()["error"] == "Validation error"
    assert "end_date" in response.get_json()["details"]


@pytest.mark.parametrize("value", ["2026/12/01", "2026-02-30", "20261201", "tomorrow", 20261201])
def test_end_date_must_be_yyyy_mm_dd(client: FlaskClient, world: World, value: Any) -> None:
    response = post(client, world, end_date=value)
    assert response.status_code == 400
    assert "end_date" in response.get_json()["details"]


@pytest.mark.parametrize("kind,field", [("job-categories", "category"), ("pic-teams", "pic_team")])
def test_category_and_team_must_exist_and_be_active(client: FlaskClient, world: World, make_reference,
                                                    kind: str, field: str) -> None:
    assert post(client, world, **{field: "nope"}).status_code == 400
    entry = make_reference(kind, "Data Platform")
    created = post(client, world, name="a", **{field: "data-platform"})
    assert created.status_code == 201
    assert created.get_json()["job"][field] == "data-platform"
    client.delete(f"/api/{kind}/{entry['id']}", headers=world.headers("root"))
    response = post(client, world, name="b", **{field: "data-platform"})
    assert response.status_code == 400
    assert field in response.get_json()["details"]
    job_id = created.get_json()["job"]["id"]
    kept = client.put(f"/api/jobs/{job_id}", json={field: "data-platform", "name": "a2"},
                      headers=world.headers("alice"))
    assert kept.status_code == 200  # an unchanged reference to a since-disabled entry does not block edits


def test_duplicate_name_is_409(client: FlaskClient, world: World) -> None:
    post(client, world)
    response = post(client, world)
    assert response.status_code == 409
    assert response.get_json()["error"] == "Duplicate job name"


@pytest.mark.parametrize("key", ["metadata", "job_metadata"])
def test_metadata_is_an_object_under_either_key(client: FlaskClient, world: World, key: str) -> None:
    job = post(client, world, **{key: {"branchDetails": "main", "n": 1}}).get_json()["job"]
    assert job["metadata"] == {"branchDetails": "main", "n": 1}


def test_metadata_may_be_a_json_text(client: FlaskClient, world: World) -> None:
    job = post(client, world, metadata='{"ref": "dev"}').get_json()["job"]
    assert job["metadata"] == {"ref": "dev"}


def test_body_that_is_not_json_is_400(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs", data="name=x", content_type="application/json",
                           headers=world.headers("alice"))
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "message"}


def test_body_that_is_a_json_array_is_400(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs", json=[job_body()], headers=world.headers("alice"))
    assert response.status_code == 400


WRONG_VALUES: dict[str, list[Any]] = {
    "name": [123, 1.5, True, [], {}, None, "", "   ", "n" * 256, "nul\x00name", "lone \ud800 surrogate"],
    "cron_expression": [5, [], {}, None, "", "0 " * 51, "\u00b2 * * * *", "0 0 * * \u0663"],
    "target_url": [5, True, [], {}, "ftp://x.example", "http://e.example/" + "p" * 500, "http://e.example/\x00"],
    "github_owner": [5, [], {}, "a b", "a/b/c", "o" * 256],
    "github_repo": [5, [], {}, "a b", "../../etc", "r" * 256],
    "github_workflow_name": [5, [], {}, "a/b.yml", "w" * 256],
    "metadata": [5, True, [], "not json", "[1, 2]", {"k": BIG}],
    "job_metadata": [5, [], "{", {"k": BIG}],
    "category": [5, [], {}, None, "c" * 101],
    "pic_team": [5, [], {}, "p" * 101, "team\x00"],
    "end_date": [5, True, [], {}, "2026-13-01", "9" * 1000],
    "enable_email_notifications": ["maybe", [], {}, 2, None],
    "notification_emails": [5, True, [1], {}, "nobody", ["a@example.com"] * 51, ["a" * 250 + "@example.com"]],
    "notify_on_success": ["maybe", [], {}, None],
    "is_active": ["maybe", [], {}, None, 1.5],
}


@pytest.mark.parametrize("field,value", [(f, v) for f, values in WRONG_VALUES.items() for v in values],
                         ids=lambda v: repr(v)[:30])
def test_wrong_types_and_oversized_values_are_400_on_create_and_update(client: FlaskClient, world: World,
                                                                       app: Flask, make_job, field: str,
                                                                       value: Any) -> None:
    job = make_job(name="existing")
    created = post(client, world, name="new", **{field: value}) if field != "name" else post(client, world, name=value)
    assert created.status_code == 400, created.get_json()
    assert set(created.get_json()) >= {"error", "message"}
    updated = client.put(f"/api/jobs/{job['id']}", json={field: value}, headers=world.headers("alice"))
    if field in ("github_owner", "github_repo", "github_workflow_name") and updated.status_code == 200:
        pytest.fail(f"{field}={value!r} accepted on update")
    assert updated.status_code == 400, updated.get_json()
    assert job_count(app) == 1
    assert client.get(f"/api/jobs/{job['id']}", headers=world.headers("alice")).get_json()["job"] == job
