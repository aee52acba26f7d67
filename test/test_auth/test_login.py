"""POST /api/auth/login: username or email, clear 401/403, failures logged without the password."""
from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient

from src.models import User, db
from test.conftest import PASSWORD, World
from test.test_auth.conftest import USER_KEYS, assert_error, login


def test_login_by_username_returns_both_tokens_and_the_user(client: FlaskClient, world: World) -> None:
    body = login(client, "alice").get_json()
    assert body["message"] == "Login successful"
    assert set(body["user"]) == USER_KEYS
    assert body["user"]["id"] == world.id("alice")


@pytest.mark.parametrize("payload", [
    {"username": "alice@example.com"},
    {"email": "alice@example.com"},
    {"username": "ALICE"},
    {"email": " Alice@Example.com "},
])
def test_login_accepts_the_email_or_any_case(client: FlaskClient, world: World, payload: dict[str, str]) -> None:
    response = client.post("/api/auth/login", json={**payload, "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["username"] == "alice"


@pytest.mark.parametrize("username, password", [("alice", "wrong-password"), ("nobody", PASSWORD),
                                                ("alice", PASSWORD.upper())])
def test_wrong_credentials_are_401_without_saying_which_part_was_wrong(
        client: FlaskClient, world: World, username: str, password: str) -> None:
    body = assert_error(login(client, username, password), 401, "Invalid credentials")
    assert body["message"] == "The username/email or password is wrong."


def test_a_deactivated_account_with_the_right_password_is_403(client: FlaskClient, world: World, app: Flask) -> None:
    world.add_user("dora", "user", active=False)
    assert_error(login(client, "dora"), 403, "Account disabled")
    assert_error(login(client, "dora", "wrong-password"), 401, "Invalid credentials")


def test_failed_logins_are_logged_with_name_and_ip_but_never_the_password(
        client: FlaskClient, world: World, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="src.services.auth"):
        login(client, "alice", "s3cret-guess-123")
        login(client, "ghost", "another-guess-456")
    text = caplog.text
    assert "'alice'" in text and "'ghost'" in text and "127.0.0.1" in text
    assert "s3cret-guess-123" not in text and "another-guess-456" not in text


def test_the_stored_password_is_a_pbkdf2_sha256_hash(ctx: Flask, world: World) -> None:
    user = db.session.get(User, world.id("alice"))
    assert user.password_hash.startswith("$pbkdf2-sha256$")
    assert PASSWORD not in user.password_hash


@pytest.mark.parametrize("body, title", [
    ({"password": PASSWORD}, "Missing required fields"),
    ({"username": "alice"}, "Missing required fields"),
    ({"username": "", "password": PASSWORD}, None),
    ({"username": 12, "password": PASSWORD}, "Validation error"),
    ({"username": "alice", "password": ["x"]}, "Validation error"),
    ({"username": {"$ne": None}, "password": PASSWORD}, "Validation error"),
    ({"username": "a" * 100_000, "password": PASSWORD}, "Validation error"),
    ({"username": "alice", "password": "p" * 100_000}, "Validation error"),
    ([1, 2], None),
    ("alice", None),
    (None, None),
])
def test_bad_login_bodies_are_400(client: FlaskClient, world: World, body: object, title: str | None) -> None:
    assert_error(client.post("/api/auth/login", json=body), 400, title)


@pytest.mark.parametrize("kwargs", [
    {"data": "username=alice&password=x", "content_type": "application/x-www-form-urlencoded"},
    {"data": "{not json", "content_type": "application/json"},
    {"data": b"\xff\xfe", "content_type": "application/json"},
    {},
])
def test_a_login_body_that_is_not_json_is_400(client: FlaskClient, world: World, kwargs: dict[str, str]) -> None:
    assert_error(client.post("/api/auth/login", **kwargs), 400)
