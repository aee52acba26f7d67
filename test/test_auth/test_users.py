"""User accounts: registration rules, who may change what, deletion, the last active admin."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from src.models import Job, Notification, User, db
from test.conftest import PASSWORD, World
from test.test_auth.conftest import assert_error, login

NEW_USER = {"username": "carol", "email": "carol@example.com", "password": "long-enough-pw"}


def register(client: FlaskClient, world: World, **changes: Any) -> Any:
    return client.post("/api/auth/register", json={**NEW_USER, **changes}, headers=world.headers("root"))


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_an_admin_registers_a_user_who_can_then_log_in(client: FlaskClient, world: World) -> None:
    response = register(client, world, role="user", email="Carol@Example.com")
    assert response.status_code == 201
    body = response.get_json()
    assert body["message"] == "User created"
    assert body["user"]["role"] == "user" and body["user"]["is_active"] is True
    assert body["user"]["email"] == "carol@example.com"
    assert login(client, "carol", "long-enough-pw").status_code == 200


def test_a_registered_user_is_a_viewer_unless_a_role_is_given(client: FlaskClient, world: World) -> None:
    assert register(client, world).get_json()["user"]["role"] == "viewer"


@pytest.mark.parametrize("changes, field", [
    ({"username": "alice"}, "username"),
    ({"username": "ALICE"}, "username"),
    ({"email": "alice@example.com"}, "email"),
    ({"email": "ALICE@example.COM"}, "email"),
])
def test_a_duplicate_username_or_email_is_409(client: FlaskClient, world: World, app: Flask,
                                              changes: dict[str, str], field: str) -> None:
    before = user_count(app)
    body = assert_error(register(client, world, **changes), 409, f"Duplicate {field}")
    assert field in body["details"]
    assert user_count(app) == before


@pytest.mark.parametrize("changes, field", [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@b@c"}, "email"),
    ({"password": "short"}, "password"),
    ({"password": "        "}, "password"),
    ({"password": " " * 20}, "password"),
    ({"password": "x" * 129}, "password"),
    ({"role": "superuser"}, "role"),
    ({"username": "ab"}, "username"),
    ({"username": "has space"}, "username"),
    ({"username": "-dash-first"}, "username"),
    ({"username": "x" * 81}, "username"),
    ({"username": "evil\nname"}, "username"),
    ({"username": 5}, "username"),
    ({"email": "x" * 110 + "@example.com"}, "email"),
    ({"email": "e" * 100_000}, "email"),
    ({"password": None}, "password"),
    ({"is_active": "yes"}, "is_active"),
    ({"is_active": 1}, "is_active"),
    ({"unknown": "field"}, "unknown"),
])
def test_invalid_registrations_are_400_and_change_nothing(client: FlaskClient, world: World, app: Flask,
                                                          changes: dict[str, Any], field: str) -> None:
    before = user_count(app)
    body = assert_error(register(client, world, **changes), 400)
    assert field in body["details"], body
    assert user_count(app) == before


def test_a_password_of_exactly_8_and_128_characters_is_accepted(client: FlaskClient, world: World) -> None:
    assert register(client, world, password="12345678").status_code == 201
    assert register(client, world, username="dave", email="dave@example.com", password="y" * 128).status_code == 201


@pytest.mark.parametrize("kwargs", [{"data": "username=carol", "content_type": "application/x-www-form-urlencoded"},
                                    {"data": "{oops", "content_type": "application/json"}, {"json": [NEW_USER]}])
def test_a_registration_body_that_is_not_a_json_object_is_400(client: FlaskClient, world: World, app: Flask,
                                                              kwargs: dict[str, Any]) -> None:
    before = user_count(app)
    assert_error(client.post("/api/auth/register", headers=world.headers("root"), **kwargs), 400)
    assert user_count(app) == before


def test_missing_fields_are_named(client: FlaskClient, world: World) -> None:
    response = client.post("/api/auth/register", json={"username": "carol"}, headers=world.headers("root"))
    body = assert_error(response, 400, "Missing required fields")
    assert set(body["details"]) == {"email", "password"}


def test_users_update_their_own_email_and_username(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('victor')}", json={"email": "V@example.com", "username": "vic"},
                          headers=world.headers("victor"))
    assert response.status_code == 200
    assert response.get_json()["message"] == "User updated"
    assert response.get_json()["user"]["email"] == "v@example.com"
    assert response.get_json()["user"]["username"] == "vic"


def test_renaming_to_a_taken_username_is_409(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('alice')}", json={"username": "Bob"},
                          headers=world.headers("alice"))
    assert_error(response, 409, "Duplicate username")


@pytest.mark.parametrize("changes", [{"role": "admin"}, {"is_active": False}, {"role": "viewer"}])
def test_a_non_admin_cannot_change_role_or_active_state(client: FlaskClient, world: World, app: Flask,
                                                        changes: dict[str, Any]) -> None:
    response = client.put(f"/api/auth/users/{world.id('alice')}", json=changes, headers=world.headers("alice"))
    assert_error(response, 403, "Insufficient permissions")
    with app.app_context():
        alice = db.session.get(User, world.id("alice"))
        assert (alice.role, alice.is_active) == ("user", True)


def test_sending_back_your_unchanged_role_is_not_a_change(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('alice')}",
                          json={"role": "user", "is_active": True, "email": "alice2@example.com"},
                          headers=world.headers("alice"))
    assert response.status_code == 200


def test_an_admin_changes_role_and_deactivates(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('bob')}", json={"role": "viewer", "is_active": False},
                          headers=world.headers("root"))
    assert response.status_code == 200
    assert response.get_json()["user"]["role"] == "viewer"
    assert response.get_json()["user"]["is_active"] is False
    assert_error(login(client, "bob"), 403, "Account disabled")


def test_changing_your_own_password_needs_the_current_one(client: FlaskClient, world: World) -> None:
    url = f"/api/auth/users/{world.id('alice')}"
    headers = world.headers("alice")
    assert_error(client.put(url, json={"password": "brand-new-pass"}, headers=headers), 400, "Missing required fields")
    assert_error(client.put(url, json={"password": "brand-new-pass", "current_password": "wrong-one"},
                            headers=headers), 400, "Invalid current password")
    assert login(client, "alice").status_code == 200
    response = client.put(url, json={"password": "brand-new-pass", "current_password": PASSWORD}, headers=headers)
    assert response.status_code == 200
    assert login(client, "alice", "brand-new-pass").status_code == 200
    assert login(client, "alice").status_code == 401


def test_a_new_password_must_meet_the_policy(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('alice')}",
                          json={"password": "short", "current_password": PASSWORD}, headers=world.headers("alice"))
    assert "password" in assert_error(response, 400)["details"]


def test_an_admin_resets_another_users_password_without_the_current_one(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('bob')}", json={"password": "reset-by-admin"},
                          headers=world.headers("root"))
    assert response.status_code == 200
    assert login(client, "bob", "reset-by-admin").status_code == 200


@pytest.mark.parametrize("body", [{}, {"username": None}, {"email": ["a@b.c"]}, {"role": 1}, {"nickname": "x"}])
def test_bad_update_bodies_are_400(client: FlaskClient, world: World, body: dict[str, Any]) -> None:
    assert_error(client.put(f"/api/auth/users/{world.id('alice')}", json=body, headers=world.headers("alice")), 400)


@pytest.mark.parametrize("kwargs", [{"data": "email=x@y.z", "content_type": "application/x-www-form-urlencoded"},
                                    {"data": "{oops", "content_type": "application/json"}, {}])
def test_an_update_body_that_is_not_json_is_400(client: FlaskClient, world: World, kwargs: dict[str, str]) -> None:
    response = client.put(f"/api/auth/users/{world.id('alice')}", headers=world.headers("alice"), **kwargs)
    assert_error(response, 400)


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client: FlaskClient, world: World) -> None:
    url = f"/api/auth/users/{world.id('root')}"
    assert_error(client.put(url, json={"role": "user"}, headers=world.headers("root")), 400, "Last active admin")
    assert_error(client.put(url, json={"is_active": False}, headers=world.headers("root")), 400, "Last active admin")
    world.add_user("ada", "admin")
    assert client.put(url, json={"role": "user"}, headers=world.headers("root")).status_code == 200


def test_a_deactivated_admin_does_not_count_as_another_admin(client: FlaskClient, world: World) -> None:
    world.add_user("ada", "admin", active=False)
    url = f"/api/auth/users/{world.id('root')}"
    assert_error(client.put(url, json={"role": "viewer"}, headers=world.headers("root")), 400, "Last active admin")


def test_an_admin_cannot_delete_themselves(client: FlaskClient, world: World) -> None:
    world.add_user("ada", "admin")
    response = client.delete(f"/api/auth/users/{world.id('root')}", headers=world.headers("root"))
    assert_error(response, 400, "Cannot delete yourself")


def test_deleting_a_user_keeps_their_jobs_and_drops_their_notifications(client: FlaskClient, world: World,
                                                                       app: Flask) -> None:
    with app.app_context():
        job = Job(name="bob's job", cron_expression="0 9 * * *", target_url="http://127.0.0.1:9/hook",
                  created_by=world.id("bob"))
        db.session.add(job)
        db.session.add(Notification(user_id=world.id("bob"), title="t", message="m", type="info"))
        db.session.commit()
        job_id = job.id
    response = client.delete(f"/api/auth/users/{world.id('bob')}", headers=world.headers("root"))
    assert response.get_json() == {"message": "User deleted",
                                   "deleted_user": {"id": world.id("bob"), "username": "bob"}}
    with app.app_context():
        assert db.session.get(User, world.id("bob")) is None
        assert db.session.get(Job, job_id).created_by is None
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_the_user_list_has_everyone(client: FlaskClient, world: World) -> None:
    body = client.get("/api/auth/users", headers=world.headers("root")).get_json()
    assert body["count"] == 4
    assert {user["username"] for user in body["users"]} == {"root", "alice", "bob", "victor"}


def test_the_user_list_pages_on_the_server_when_asked(client: FlaskClient, world: World) -> None:
    body = client.get("/api/auth/users?page=2&limit=3", headers=world.headers("root")).get_json()
    assert (body["count"], body["total"], body["page"], body["limit"], body["total_pages"]) == (1, 4, 2, 3, 2)
    assert [user["username"] for user in body["users"]] == ["victor"]
    assert client.get("/api/auth/users?per_page=2", headers=world.headers("root")).get_json()["count"] == 2


@pytest.mark.parametrize("query", ["page=0", "limit=201", "per_page=abc", "page=-1&limit=5"])
def test_bad_paging_parameters_are_400(client: FlaskClient, world: World, query: str) -> None:
    assert_error(client.get(f"/api/auth/users?{query}", headers=world.headers("root")), 400)
