"""/api/job-categories and /api/pic-teams: the same rules, so every test runs on both lists."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from src.models import Job, db
from test.conftest import ROLE_USERS, World

KINDS = [("job-categories", "category", "categories", "category"),
         ("pic-teams", "pic_team", "pic_teams", "pic_team")]
KEYS = {"id", "slug", "name", "is_active", "created_at", "updated_at"}


@pytest.fixture(params=KINDS, ids=["categories", "pic-teams"])
def kind(request: pytest.FixtureRequest) -> tuple[str, str, str, str]:
    return request.param


def create(client: FlaskClient, world: World, kind: tuple[str, ...], name: str, user: str = "root", **extra: Any):
    return client.post(f"/api/{kind[0]}", json={"name": name, **extra}, headers=world.headers(user))


def listed(client: FlaskClient, world: World, kind: tuple[str, ...], query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/{kind[0]}{query}", headers=world.headers("victor"))
    assert response.status_code == 200
    return response.get_json()[kind[2]]


@pytest.mark.parametrize("role,status", [("admin", 200), ("user", 200), ("viewer", 200), ("anonymous", 401)])
def test_every_role_lists(client: FlaskClient, world: World, kind, role: str, status: int) -> None:
    response = client.get(f"/api/{kind[0]}", headers=world.headers(ROLE_USERS[role]))
    assert response.status_code == status
    if status == 200:
        assert set(response.get_json()) == {kind[2]}


@pytest.mark.parametrize("role,status", [("admin", 201), ("user", 403), ("viewer", 403), ("anonymous", 401)])
def test_only_admins_create(client: FlaskClient, world: World, kind, role: str, status: int) -> None:
    response = create(client, world, kind, "Data Platform", user=ROLE_USERS[role])
    assert response.status_code == status
    if status == 201:
        body = response.get_json()
        assert body["message"]
        entry = body[kind[3]]
        assert KEYS <= set(entry)
        assert (entry["slug"], entry["name"], entry["is_active"]) == ("data-platform", "Data Platform", True)


@pytest.mark.parametrize("role,status", [("admin", 200), ("user", 403), ("viewer", 403), ("anonymous", 401)])
def test_only_admins_update_and_delete(client: FlaskClient, world: World, kind, role: str, status: int) -> None:
    entry = create(client, world, kind, "Ops").get_json()[kind[3]]
    headers = world.headers(ROLE_USERS[role])
    assert client.put(f"/api/{kind[0]}/{entry['id']}", json={"name": "Ops 2"}, headers=headers).status_code == status
    assert client.delete(f"/api/{kind[0]}/{entry['id']}", headers=headers).status_code == status


def test_teams_have_a_slack_handle(client: FlaskClient, world: World) -> None:
    team = create(client, world, KINDS[1], "Data", slack_handle="@data-oncall").get_json()["pic_team"]
    assert team["slack_handle"] == "@data-oncall"
    updated = client.put(f"/api/pic-teams/{team['id']}", json={"slack_handle": ""}, headers=world.headers("root"))
    assert updated.get_json()["pic_team"]["slack_handle"] is None


@pytest.mark.parametrize("name,slug", [("Data Team #2", "data-team-2"), ("  ETL / Batch  ", "etl-batch"),
                                       ("UPPER_case", "upper-case")])
def test_slug_is_derived_from_the_name(client: FlaskClient, world: World, kind, name: str, slug: str) -> None:
    assert create(client, world, kind, name).get_json()[kind[3]]["slug"] == slug


@pytest.mark.parametrize("second", ["Finance", "finance", "FINANCE!"])
def test_duplicate_slug_or_name_is_409(client: FlaskClient, world: World, kind, second: str) -> None:
    create(client, world, kind, "Finance")
    response = create(client, world, kind, second)
    assert response.status_code == 409


def test_oversized_slack_handle_is_400(client: FlaskClient, world: World) -> None:
    response = create(client, world, KINDS[1], "ok", slack_handle="h" * 101)
    assert response.status_code == 400
    assert "slack_handle" in response.get_json()["details"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "!!!"}, {"name": 5}, {"name": "x" * 101}, [],
                                  {"name": "ok", "is_active": "maybe"}, {"name": ["ok"]}, {"name": "a\x00b"},
                                  {"name": "\ud800"}])
def test_bad_bodies_are_400(client: FlaskClient, world: World, kind, body: Any) -> None:
    response = client.post(f"/api/{kind[0]}", json=body, headers=world.headers("root"))
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "message"}


def test_delete_disables_and_returns_the_entry(client: FlaskClient, world: World, kind) -> None:
    entry = create(client, world, kind, "Old").get_json()[kind[3]]
    response = client.delete(f"/api/{kind[0]}/{entry['id']}", headers=world.headers("root"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] and body[kind[3]]["is_active"] is False
    assert "old" not in [e["slug"] for e in listed(client, world, kind)]
    assert "old" in [e["slug"] for e in listed(client, world, kind, "?include_inactive=true")]
    again = client.put(f"/api/{kind[0]}/{entry['id']}", json={"is_active": True}, headers=world.headers("root"))
    assert again.get_json()[kind[3]]["is_active"] is True


def test_a_disabled_duplicate_is_still_409(client: FlaskClient, world: World, kind) -> None:
    entry = create(client, world, kind, "Old").get_json()[kind[3]]
    client.delete(f"/api/{kind[0]}/{entry['id']}", headers=world.headers("root"))
    response = create(client, world, kind, "Old")
    assert response.status_code == 409
    assert "disabled" in response.get_json()["message"]


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("entry_id", ["nope", "%00", "00000000-0000-0000-0000-000000000000"])
def test_unknown_id_is_404(client: FlaskClient, world: World, kind, method: str, entry_id: str) -> None:
    response = getattr(client, method)(f"/api/{kind[0]}/{entry_id}", json={"name": "x"},
                                       headers=world.headers("root"))
    assert response.status_code == 404


def test_renaming_moves_the_jobs_to_the_new_slug(client: FlaskClient, world: World, app: Flask, kind,
                                                 make_job) -> None:
    entry = create(client, world, kind, "Finance").get_json()[kind[3]]
    job = make_job(**{kind[1]: "finance"})
    other = make_job(name="other")
    response = client.put(f"/api/{kind[0]}/{entry['id']}", json={"name": "Money Matters"},
                          headers=world.headers("root"))
    assert response.get_json()[kind[3]]["slug"] == "money-matters"
    with app.app_context():
        values = dict(db.session.execute(select(Job.id, getattr(Job, kind[1]))).all())
    assert values[job["id"]] == "money-matters"
    assert values[other["id"]] != "money-matters"


def test_renaming_onto_an_existing_slug_is_409(client: FlaskClient, world: World, kind) -> None:
    create(client, world, kind, "Alpha")
    beta = create(client, world, kind, "Beta").get_json()[kind[3]]
    response = client.put(f"/api/{kind[0]}/{beta['id']}", json={"name": "ALPHA"}, headers=world.headers("root"))
    assert response.status_code == 409


def test_general_always_exists_and_is_protected(client: FlaskClient, world: World) -> None:
    general = next(c for c in listed(client, world, KINDS[0]) if c["slug"] == "general")
    for body in ({"name": "Misc"}, {"is_active": False}):
        response = client.put(f"/api/job-categories/{general['id']}", json=body, headers=world.headers("root"))
        assert response.status_code == 400
    assert client.delete(f"/api/job-categories/{general['id']}", headers=world.headers("root")).status_code == 400
    assert client.put(f"/api/job-categories/{general['id']}", json={"name": general["name"]},
                      headers=world.headers("root")).status_code == 200
    assert "general" in [c["slug"] for c in listed(client, world, KINDS[0])]
