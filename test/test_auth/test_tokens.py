"""Tokens follow the user at once, and every token problem is a 401 in the contract's shape."""
from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt as pyjwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from sqlalchemy import select

from src.models import RevokedToken, User, db
from src.models.base import utcnow
from src.services.auth_tokens import token_claims
from test.conftest import World
from test.test_auth.conftest import assert_error, bearer, tokens


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _set_user(app: Flask, user_id: str, **values: object) -> None:
    with app.app_context():
        user = db.session.get(User, user_id)
        for key, value in values.items():
            setattr(user, key, value)
        db.session.commit()


def test_a_valid_access_token_works(client: FlaskClient, world: World) -> None:
    assert client.get("/api/auth/me", headers=world.headers("alice")).status_code == 200


def test_a_deactivated_users_token_is_rejected_at_once(client: FlaskClient, world: World, app: Flask) -> None:
    _set_user(app, world.id("alice"), is_active=False)
    assert_error(client.get("/api/auth/me", headers=world.headers("alice")), 401, "Invalid token")
    refresh = bearer(world.tokens["alice"]["refresh_token"])
    assert_error(client.post("/api/auth/refresh", headers=refresh), 401, "Invalid token")


def test_a_deleted_users_token_is_rejected(client: FlaskClient, world: World) -> None:
    assert client.delete(f"/api/auth/users/{world.id('bob')}", headers=world.headers("root")).status_code == 200
    assert_error(client.get("/api/auth/me", headers=world.headers("bob")), 401, "Invalid token")
    assert_error(client.post("/api/auth/refresh", headers=bearer(world.tokens["bob"]["refresh_token"])), 401)


def test_a_role_change_applies_to_existing_tokens_at_once(client: FlaskClient, world: World, app: Flask) -> None:
    assert client.get("/api/auth/users", headers=world.headers("root")).status_code == 200
    _set_user(app, world.id("alice"), role="admin")
    assert client.get("/api/auth/users", headers=world.headers("alice")).status_code == 200
    _set_user(app, world.id("root"), role="viewer")
    assert_error(client.get("/api/auth/users", headers=world.headers("root")), 403, "Insufficient permissions")
    assert client.get("/api/auth/me", headers=world.headers("root")).get_json()["user"]["role"] == "viewer"


def test_a_role_claim_that_differs_from_the_database_is_ignored(client: FlaskClient, world: World, app: Flask) -> None:
    with app.app_context():
        victor = db.session.get(User, world.id("victor"))
        forged = create_access_token(identity=world.id("victor"),
                                     additional_claims={**token_claims(victor), "role": "admin"})
    assert_error(client.get("/api/auth/users", headers=bearer(forged)), 403)
    assert client.get("/api/auth/me", headers=bearer(forged)).get_json()["user"]["role"] == "viewer"


def test_logout_revokes_the_access_token_and_its_refresh_token(client: FlaskClient, world: World) -> None:
    session = tokens(client, "alice")
    assert client.post("/api/auth/logout", headers=bearer(session["access_token"])).get_json() == {
        "message": "Logged out"}
    assert_error(client.get("/api/auth/me", headers=bearer(session["access_token"])), 401, "Token revoked")
    assert_error(client.post("/api/auth/refresh", headers=bearer(session["refresh_token"])), 401, "Token revoked")
    other_session = tokens(client, "alice")
    assert client.get("/api/auth/me", headers=bearer(other_session["access_token"])).status_code == 200


def test_logout_with_a_refreshed_access_token_also_revokes_the_refresh_token(client: FlaskClient, world: World) -> None:
    session = tokens(client, "alice")
    refreshed = client.post("/api/auth/refresh", headers=bearer(session["refresh_token"])).get_json()["access_token"]
    assert client.post("/api/auth/logout", headers=bearer(refreshed)).status_code == 200
    assert_error(client.post("/api/auth/refresh", headers=bearer(session["refresh_token"])), 401, "Token revoked")
    assert_error(client.get("/api/auth/me", headers=bearer(session["access_token"])), 401, "Token revoked")


def test_logout_with_the_refresh_token_ends_the_session_too(client: FlaskClient, world: World) -> None:
    session = tokens(client, "alice")
    assert client.post("/api/auth/logout", headers=bearer(session["refresh_token"])).status_code == 200
    assert_error(client.post("/api/auth/refresh", headers=bearer(session["refresh_token"])), 401, "Token revoked")
    assert_error(client.get("/api/auth/me", headers=bearer(session["access_token"])), 401, "Token revoked")


def test_logout_stores_expiries_and_prunes_expired_revocations(client: FlaskClient, world: World, app: Flask) -> None:
    with app.app_context():
        db.session.add(RevokedToken(jti="old", token_type="access", user_id=None,
                                    expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    session = tokens(client, "alice")
    client.post("/api/auth/logout", headers=bearer(session["access_token"]))
    with app.app_context():
        rows = {row.jti: row for row in db.session.scalars(select(RevokedToken))}
        access = decode_token(session["access_token"], allow_expired=True)
        refresh = decode_token(session["refresh_token"])
    assert set(rows) == {access["jti"], refresh["jti"]}
    assert rows[access["jti"]].token_type == "access"
    assert rows[access["jti"]].expires_at.timestamp() == access["exp"]
    assert rows[refresh["jti"]].expires_at.timestamp() >= refresh["exp"] - 5


def test_the_token_carries_the_specified_claims(client: FlaskClient, world: World, app: Flask) -> None:
    session = tokens(client, "alice")
    with app.app_context():
        claims = decode_token(session["access_token"])
    assert claims["sub"] == world.id("alice")
    assert claims["role"] == "user"
    assert claims["email"] == "alice@example.com"
    assert claims["exp"] - claims["iat"] == 3600


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["role"] = "admin"
    return ".".join((header, _b64(claims), signature))


def _alg_none(token: str) -> str:
    _header, payload, _signature = token.split(".")
    return ".".join((_b64({"alg": "none", "typ": "JWT"}), payload, ""))


def _tampered_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    return ".".join((header, payload, flipped))


def _resigned(app: Flask, user_id: str, key: str | None, algorithm: str) -> str:
    with app.app_context():
        claims = decode_token(create_access_token(identity=user_id))
        return pyjwt.encode(claims, key or app.config["JWT_SECRET_KEY"], algorithm=algorithm)


def _expired(app: Flask, user_id: str) -> str:
    with app.app_context():
        return create_access_token(identity=user_id, expires_delta=timedelta(seconds=-10))


@pytest.mark.filterwarnings("ignore:The HMAC key")
@pytest.mark.parametrize("kind, title", [
    ("tampered payload", "Invalid token"),
    ("tampered signature", "Invalid token"),
    ("HS512 with the right key", "Invalid token"),
    ("alg none", "Invalid token"),
    ("signed with another key", "Invalid token"),
    ("expired", "Token expired"),
    ("refresh token as access token", "Invalid token"),
    ("garbage", "Invalid token"),
    ("unknown subject", "Invalid token"),
])
def test_a_bad_access_token_is_401(client: FlaskClient, world: World, app: Flask, kind: str, title: str) -> None:
    access = world.tokens["alice"]["access_token"]
    with app.app_context():
        unknown = create_access_token(identity="00000000-0000-0000-0000-000000000000")
    token = {
        "tampered payload": lambda: _tampered(access),
        "alg none": lambda: _alg_none(access),
        "tampered signature": lambda: _tampered_signature(access),
        "HS512 with the right key": lambda: _resigned(app, world.id("alice"), None, "HS512"),
        "signed with another key": lambda: _resigned(app, world.id("alice"),
                                                     "some-other-key-that-is-long-enough-0123456789", "HS256"),
        "expired": lambda: _expired(app, world.id("alice")),
        "refresh token as access token": lambda: world.tokens["alice"]["refresh_token"],
        "garbage": lambda: "not.a.jwt",
        "unknown subject": lambda: unknown,
    }[kind]()
    for response in (client.get("/api/auth/me", headers=bearer(token)),
                     client.get("/api/auth/users", headers=bearer(token)),
                     client.post("/api/auth/logout", headers=bearer(token)) if kind != "refresh token as access token"
                     else client.get(f"/api/auth/users/{world.id('alice')}", headers=bearer(token))):
        assert_error(response, 401, title)


def test_an_expired_or_tampered_refresh_token_is_401(client: FlaskClient, world: World, app: Flask) -> None:
    with app.app_context():
        expired = create_refresh_token(identity=world.id("alice"), expires_delta=timedelta(seconds=-10))
    assert_error(client.post("/api/auth/refresh", headers=bearer(expired)), 401, "Token expired")
    tampered = _tampered_signature(world.tokens["alice"]["refresh_token"])
    assert_error(client.post("/api/auth/refresh", headers=bearer(tampered)), 401, "Invalid token")


def test_an_access_token_is_not_a_refresh_token(client: FlaskClient, world: World) -> None:
    body = assert_error(client.post("/api/auth/refresh", headers=world.headers("alice")), 401, "Invalid token")
    assert "refresh token" in body["message"]


@pytest.mark.parametrize("headers, title", [
    ({}, "Authorization required"),
    ({"Authorization": ""}, "Authorization required"),
    ({"Authorization": "Bearer"}, None),
    ({"Authorization": "Basic YWxpY2U6cHc="}, None),
    ({"Authorization": "Bearer a b c"}, None),
    ({"Authorization": "Token abc.def.ghi"}, None),
])
def test_a_missing_or_malformed_header_is_401(client: FlaskClient, headers: dict[str, str], title: str | None) -> None:
    assert_error(client.get("/api/auth/me", headers=headers), 401, title)
    assert_error(client.post("/api/auth/refresh", headers=headers), 401, title)
