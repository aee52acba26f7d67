"""Fixtures: the app against any database URL (TEST_DATABASE_URL), a named world of users, and tokens.

Without TEST_DATABASE_URL the suite runs on a SQLite file. With a MariaDB or PostgreSQL server URL, a fresh
database with a unique name is created for the session and dropped after it, so runs never share state.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import make_url

from src.app import create_app
from src.config import sqlalchemy_url
from src.models import User, db
from src.services.auth_tokens import issue_tokens
from src.services.bootstrap import ensure_reference_data
from src.utils.db_migrations import upgrade_database

PASSWORD = "correct-horse-battery"
ROLES = ("admin", "user", "viewer")


def _server_database(base_url: str) -> Iterator[str]:
    """Create a throw-away database on the server named by base_url; yield its URL; drop it."""
    url = make_url(sqlalchemy_url(base_url))
    name = f"cjs_test_{uuid.uuid4().hex[:10]}"
    admin_url = url.set(database="postgres" if url.get_backend_name() == "postgresql" else "mysql")
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    charset = " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" if url.get_backend_name() == "mysql" else ""
    with engine.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}{charset}"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            if url.get_backend_name() == "postgresql":
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not base or base.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    yield from _server_database(base)


def test_config(database_url: str, **overrides: Any) -> dict[str, Any]:
    """The settings tests run with; pass overrides for a special app (production mode, rate limits on, ...)."""
    return {
        "FLASK_ENV": "testing",
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SCHEDULER_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "MAIL_ENABLED": False,
        "ALLOW_DEFAULT_ADMIN": False,
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": True,
        "SCHEDULER_TIMEZONE": "Asia/Tokyo",
        **overrides,
    }


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = create_app(test_config(database_url))
    upgrade_database(application)
    yield application
    with application.app_context():
        db.engine.dispose()


def clean_database(application: Flask) -> None:
    """Empty every table (children first) and restore reference data."""
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        ensure_reference_data()
        db.session.remove()


@pytest.fixture(autouse=True)
def _clean(app: Flask) -> Iterator[None]:
    clean_database(app)
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An application context for tests that call services or models directly."""
    with app.app_context():
        yield app
        db.session.remove()


@dataclass
class World:
    """alice and bob are users, victor a viewer, root an admin; headers(name) gives a Bearer header."""

    app: Flask
    users: dict[str, dict[str, str]]
    tokens: dict[str, dict[str, str]]

    def id(self, name: str) -> str:
        return self.users[name]["id"]

    def headers(self, name: str | None) -> dict[str, str]:
        if name is None or name == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[name]['access_token']}"}

    def add_user(self, name: str, role: str, *, active: bool = True) -> str:
        with self.app.app_context():
            user = User(username=name, email=f"{name}@example.com", role=role, is_active=active)
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
            self.users[name] = {"id": user.id, "role": role, "username": name, "email": user.email}
            self.tokens[name] = issue_tokens(user)
            return user.id


@pytest.fixture
def world(app: Flask) -> World:
    created = World(app=app, users={}, tokens={})
    for name, role in (("root", "admin"), ("alice", "user"), ("bob", "user"), ("victor", "viewer")):
        created.add_user(name, role)
    return created


ROLE_USERS = {"admin": "root", "user": "alice", "viewer": "victor", "anonymous": None}
