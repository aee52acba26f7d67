"""Every /api/auth endpoint for every kind of caller: status code, body shape, and never a password hash.

Callers: admin (root, acting on bob), user (alice, on herself), viewer (victor, on himself), anonymous (no token,
on bob) and "other user" (alice, acting on bob's account).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from test.conftest import PASSWORD, World
from test.test_auth.conftest import COLUMN_KEYS, ERROR_KEYS, PREFERENCE_KEYS, USER_KEYS, bearer

CALLERS: dict[str, tuple[str | None, str]] = {
    "admin": ("root", "bob"),
    "user": ("alice", "alice"),
    "viewer": ("victor", "victor"),
    "anonymous": (None, "bob"),
    "other user": ("alice", "bob"),
}
EVERYONE = frozenset({"admin", "user", "viewer", "other user"})
SELF_OR_ADMIN = frozenset({"admin", "user", "viewer"})
ADMIN = frozenset({"admin"})


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    status: int
    keys: frozenset[str]
    allowed: frozenset[str]
    body: Callable[[str | None], Any] | None = None
    refresh_token: bool = False
    nested: dict[str, Any] = field(default_factory=dict)


ENDPOINTS = (
    Endpoint("login", "POST", "/api/auth/login", 200, frozenset({"message", "access_token", "refresh_token", "user"}),
             EVERYONE, body=lambda name: {"username": name or "nobody", "password": PASSWORD}),
    Endpoint("refresh", "POST", "/api/auth/refresh", 200, frozenset({"access_token"}), EVERYONE, refresh_token=True),
    Endpoint("logout", "POST", "/api/auth/logout", 200, frozenset({"message"}), EVERYONE),
    Endpoint("me", "GET", "/api/auth/me", 200, frozenset({"user"}), EVERYONE),
    Endpoint("register", "POST", "/api/auth/register", 201, frozenset({"message", "user"}), ADMIN,
             body=lambda _name: {"username": "newbie", "email": "newbie@example.com", "password": "long-enough-pw"}),
    Endpoint("list users", "GET", "/api/auth/users", 200, frozenset({"count", "users"}), ADMIN),
    Endpoint("get user", "GET", "/api/auth/users/{id}", 200, frozenset({"user"}), SELF_OR_ADMIN),
    Endpoint("update user", "PUT", "/api/auth/users/{id}", 200, frozenset({"message", "user"}), SELF_OR_ADMIN,
             body=lambda _name: {"email": "changed@example.com"}),
    Endpoint("delete user", "DELETE", "/api/auth/users/{id}", 200, frozenset({"message", "deleted_user"}), ADMIN),
    Endpoint("get preferences", "GET", "/api/auth/users/{id}/preferences", 200, frozenset({"preferences"}),
             SELF_OR_ADMIN),
    Endpoint("put preferences", "PUT", "/api/auth/users/{id}/preferences", 200, frozenset({"message", "preferences"}),
             SELF_OR_ADMIN, body=lambda _name: {"daily_digest": True}),
    Endpoint("get ui preferences", "GET", "/api/auth/users/{id}/ui-preferences", 200, frozenset({"preferences"}),
             SELF_OR_ADMIN),
    Endpoint("put ui preferences", "PUT", "/api/auth/users/{id}/ui-preferences", 200,
             frozenset({"message", "preferences"}), SELF_OR_ADMIN,
             body=lambda _name: {"jobs_table_columns": {"target_url": True}}),
)


def send(client: FlaskClient, world: World, endpoint: Endpoint, caller: str) -> Any:
    name, target = CALLERS[caller]
    headers = world.headers(name)
    if endpoint.refresh_token and name is not None:
        headers = bearer(world.tokens[name]["refresh_token"])
    kwargs: dict[str, Any] = {"headers": headers}
    if endpoint.body is not None:
        kwargs["json"] = endpoint.body(name)
    return client.open(endpoint.path.format(id=world.id(target)), method=endpoint.method, **kwargs)


def assert_success_shape(endpoint: Endpoint, body: dict[str, Any]) -> None:
    assert set(body) == endpoint.keys, body
    for key in ("user",):
        if key in body:
            assert set(body[key]) == USER_KEYS
    if "users" in body:
        assert body["count"] == len(body["users"]) >= 4
        assert all(set(user) == USER_KEYS for user in body["users"])
    if "deleted_user" in body:
        assert set(body["deleted_user"]) == {"id", "username"}
    if "preferences" in body:
        assert set(body["preferences"]) in (PREFERENCE_KEYS, {"jobs_table_columns"})
        if "jobs_table_columns" in body["preferences"]:
            assert set(body["preferences"]["jobs_table_columns"]) == COLUMN_KEYS
    if "access_token" in body:
        assert body["access_token"].count(".") == 2


@pytest.mark.parametrize("caller", list(CALLERS))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.name for endpoint in ENDPOINTS])
def test_each_endpoint_answers_each_caller_with_the_right_status_and_shape(
        client: FlaskClient, world: World, endpoint: Endpoint, caller: str) -> None:
    response = send(client, world, endpoint, caller)
    body = response.get_json()
    assert b"password_hash" not in response.data
    assert b"pbkdf2" not in response.data
    if caller == "anonymous":
        assert response.status_code == 401, body
        assert set(body) == ERROR_KEYS
    elif caller in endpoint.allowed:
        assert response.status_code == endpoint.status, body
        assert_success_shape(endpoint, body)
    else:
        assert response.status_code == 403, body
        assert body["error"] == "Insufficient permissions"
        assert set(body) == ERROR_KEYS


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if "{id}" in e.path], ids=lambda e: e.name)
def test_an_admin_asking_for_an_unknown_user_gets_404_user_not_found(
        client: FlaskClient, world: World, endpoint: Endpoint) -> None:
    kwargs: dict[str, Any] = {"headers": world.headers("root")}
    if endpoint.body is not None:
        kwargs["json"] = endpoint.body("root")
    response = client.open(endpoint.path.format(id="00000000-0000-0000-0000-000000000000"), method=endpoint.method,
                           **kwargs)
    assert response.status_code == 404
    assert response.get_json()["error"] == "User not found"


def test_every_auth_endpoint_is_in_the_openapi_document(client: FlaskClient) -> None:
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for endpoint in ENDPOINTS:
        path = endpoint.path.replace("{id}", "{user_id}")
        assert endpoint.method.lower() in paths[path], endpoint.name
    assert paths["/api/auth/login"]["post"]["security"] == []
    assert "429" in paths["/api/auth/login"]["post"]["responses"]
