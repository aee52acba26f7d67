"""A password change ends every session of the account, in every process (the token carries a fingerprint)."""
from __future__ import annotations

from flask.testing import FlaskClient

from test.conftest import PASSWORD, World

NEW_PASSWORD = "a-brand-new-passphrase"


def test_changing_your_own_password_ends_old_tokens_and_returns_fresh_ones(client: FlaskClient, world: World) -> None:
    old = world.headers("alice")
    response = client.put(f"/api/auth/users/{world.id('alice')}", headers=old,
                          json={"password": NEW_PASSWORD, "current_password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert client.get("/api/auth/me", headers=old).status_code == 401
    old_refresh = {"Authorization": f"Bearer {world.tokens['alice']['refresh_token']}"}
    assert client.post("/api/auth/refresh", headers=old_refresh).status_code == 401
    fresh = {"Authorization": f"Bearer {body['access_token']}"}
    assert client.get("/api/auth/me", headers=fresh).get_json()["user"]["username"] == "alice"
    refreshed = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {body['refresh_token']}"})
    assert refreshed.status_code == 200


def test_an_admin_resetting_a_password_ends_that_users_sessions_only(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('bob')}", headers=world.headers("root"),
                          json={"password": NEW_PASSWORD})
    assert response.status_code == 200
    assert "access_token" not in response.get_json()
    assert client.get("/api/auth/me", headers=world.headers("bob")).status_code == 401
    assert client.get("/api/auth/me", headers=world.headers("root")).status_code == 200
    login = client.post("/api/auth/login", json={"username": "bob", "password": NEW_PASSWORD})
    assert login.status_code == 200


def test_other_profile_changes_keep_sessions(client: FlaskClient, world: World) -> None:
    response = client.put(f"/api/auth/users/{world.id('alice')}", headers=world.headers("alice"),
                          json={"email": "alice.new@example.com"})
    assert response.status_code == 200
    assert "access_token" not in response.get_json()
    assert client.get("/api/auth/me", headers=world.headers("alice")).status_code == 200
