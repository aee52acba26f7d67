"""Brute-force protection: failed logins are limited per account and per client IP (429 with Retry-After)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from src.app import create_app
from test.conftest import World
from test.conftest import test_config as config_for
from test.test_auth.conftest import assert_error, login


@pytest.fixture
def limited(app: Flask, database_url: str) -> Iterator[FlaskClient]:
    """A client of an app with rate limits on (fresh in-memory counters), on the session's database."""
    yield create_app(config_for(database_url, RATELIMIT_ENABLED=True)).test_client()


def assert_limited(response: object) -> None:
    body = assert_error(response, 429, "Too many requests")
    assert "wait" in body["message"]
    retry_after = int(response.headers["Retry-After"])  # type: ignore[attr-defined]
    assert 0 < retry_after <= 60


def test_the_sixth_failed_login_for_one_account_is_429_even_with_the_right_password(
        limited: FlaskClient, world: World) -> None:
    for _ in range(5):
        assert_error(login(limited, "alice", "wrong-password"), 401, "Invalid credentials")
    assert_limited(login(limited, "alice", "wrong-password"))
    assert_limited(login(limited, "alice"))
    assert_limited(login(limited, "ALICE@example.com"[:5]))


def test_another_account_still_logs_in_while_one_is_locked(limited: FlaskClient, world: World) -> None:
    for _ in range(6):
        login(limited, "alice", "wrong-password")
    assert login(limited, "bob").status_code == 200


def test_successful_logins_do_not_use_up_the_limit(limited: FlaskClient, world: World) -> None:
    for _ in range(8):
        assert login(limited, "alice").status_code == 200


def test_failed_logins_from_one_ip_across_accounts_are_limited(limited: FlaskClient, world: World) -> None:
    for index in range(10):
        assert login(limited, f"guess{index}", "wrong-password").status_code == 401
    assert_limited(login(limited, "bob"))
    other_ip = limited.post("/api/auth/login", json={"username": "bob", "password": "correct-horse-battery"},
                            environ_base={"REMOTE_ADDR": "127.0.0.2"})
    assert other_ip.status_code == 200


def test_the_session_app_without_limits_is_not_limited_after_a_limited_app_ran(
        limited: FlaskClient, client: FlaskClient, world: World) -> None:
    for _ in range(12):
        login(limited, "alice", "wrong-password")
    for _ in range(12):
        assert login(client, "alice", "wrong-password").status_code == 401


def _failed_logins_from(client: FlaskClient, forwarded_for: str, count: int) -> list[int]:
    return [client.post("/api/auth/login", json={"username": f"guess{index}", "password": "wrong-password"},
                        headers={"X-Forwarded-For": forwarded_for}).status_code for index in range(count)]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(app: Flask, database_url: str,
                                                                       world: World) -> None:
    proxied = create_app(config_for(database_url, RATELIMIT_ENABLED=True, TRUSTED_PROXY_COUNT=1)).test_client()
    assert _failed_logins_from(proxied, "203.0.113.7", 11) == [401] * 10 + [429]
    # The proxy appends the real client to whatever the client sent: a forged first entry changes nothing.
    assert _failed_logins_from(proxied, "198.51.100.1, 203.0.113.7", 1) == [429]
    other = proxied.post("/api/auth/login", json={"username": "bob", "password": "correct-horse-battery"},
                         headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 200


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_limit(limited: FlaskClient,
                                                                                  world: World) -> None:
    assert _failed_logins_from(limited, "203.0.113.7", 10) == [401] * 10
    assert _failed_logins_from(limited, "203.0.113.99", 1) == [429]
