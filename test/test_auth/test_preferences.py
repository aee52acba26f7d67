"""Notification and UI preferences: defaults on first read, partial updates, strict keys and booleans."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from src.models import UserNotificationPreferences, UserUiPreferences, db
from src.services.preferences import notification_preferences
from test.conftest import World
from test.test_auth.conftest import assert_error

DEFAULTS = {"email_on_job_success": False, "email_on_job_failure": True, "email_on_job_disabled": True,
            "browser_notifications": True, "daily_digest": False, "weekly_report": False}
COLUMN_DEFAULTS = {"pic_team": True, "end_date": True, "cron_expression": False, "target_url": False,
                   "last_execution_at": False}


def url(world: World, name: str, kind: str = "preferences") -> str:
    return f"/api/auth/users/{world.id(name)}/{kind}"


def rows(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_first_read_creates_the_defaults(client: FlaskClient, world: World, app: Flask) -> None:
    assert rows(app, UserNotificationPreferences) == 0
    response = client.get(url(world, "alice"), headers=world.headers("alice"))
    assert response.get_json() == {"preferences": DEFAULTS}
    assert rows(app, UserNotificationPreferences) == 1
    client.get(url(world, "alice"), headers=world.headers("alice"))
    assert rows(app, UserNotificationPreferences) == 1


def test_a_put_changes_only_the_given_keys_and_persists(client: FlaskClient, world: World) -> None:
    response = client.put(url(world, "alice"), json={"daily_digest": True, "email_on_job_failure": False},
                          headers=world.headers("alice"))
    assert response.status_code == 200
    expected = {**DEFAULTS, "daily_digest": True, "email_on_job_failure": False}
    assert response.get_json() == {"message": "Preferences updated", "preferences": expected}
    client.put(url(world, "alice"), json={"weekly_report": True}, headers=world.headers("alice"))
    again = client.get(url(world, "alice"), headers=world.headers("alice")).get_json()
    assert again == {"preferences": {**expected, "weekly_report": True}}


def test_the_envelope_a_get_returned_is_accepted_by_put(client: FlaskClient, world: World) -> None:
    response = client.put(url(world, "victor"), json={"preferences": {**DEFAULTS, "daily_digest": True}},
                          headers=world.headers("victor"))
    assert response.get_json()["preferences"]["daily_digest"] is True


def test_an_admin_edits_another_users_preferences(client: FlaskClient, world: World) -> None:
    assert client.put(url(world, "bob"), json={"browser_notifications": False},
                      headers=world.headers("root")).status_code == 200
    body = client.get(url(world, "bob"), headers=world.headers("bob")).get_json()
    assert body["preferences"]["browser_notifications"] is False


def test_senders_read_preferences_without_creating_a_row(ctx: Flask, world: World) -> None:
    assert notification_preferences(world.id("alice")) == DEFAULTS
    assert db.session.scalar(select(func.count()).select_from(UserNotificationPreferences)) == 0


@pytest.mark.parametrize("body, field", [
    ({"unknown_pref": True}, "unknown_pref"),
    ({"daily_digest": "true"}, "daily_digest"),
    ({"daily_digest": 1}, "daily_digest"),
    ({"daily_digest": None}, "daily_digest"),
    ({}, "_body"),
    ({"preferences": {"nope": True}}, "nope"),
])
def test_bad_notification_preferences_are_400_and_change_nothing(client: FlaskClient, world: World,
                                                                 body: dict[str, Any], field: str) -> None:
    details = assert_error(client.put(url(world, "alice"), json=body, headers=world.headers("alice")), 400)["details"]
    assert field in details, details
    assert client.get(url(world, "alice"), headers=world.headers("alice")).get_json() == {"preferences": DEFAULTS}


def test_ui_preferences_default_columns(client: FlaskClient, world: World) -> None:
    body = client.get(url(world, "alice", "ui-preferences"), headers=world.headers("alice")).get_json()
    assert body == {"preferences": {"jobs_table_columns": COLUMN_DEFAULTS}}
    assert rows(client.application, UserUiPreferences) == 1


def test_ui_preferences_put_merges_columns(client: FlaskClient, world: World) -> None:
    target = url(world, "alice", "ui-preferences")
    client.put(target, json={"jobs_table_columns": {"target_url": True}}, headers=world.headers("alice"))
    response = client.put(target, json={"jobs_table_columns": {"pic_team": False}}, headers=world.headers("alice"))
    expected = {**COLUMN_DEFAULTS, "target_url": True, "pic_team": False}
    assert response.get_json() == {"message": "Preferences updated", "preferences": {"jobs_table_columns": expected}}
    stored = client.get(target, headers=world.headers("alice")).get_json()
    assert stored["preferences"]["jobs_table_columns"] == expected


@pytest.mark.parametrize("body", [
    {"jobs_table_columns": {"secret_column": True}},
    {"jobs_table_columns": {"pic_team": "no"}},
    {"jobs_table_columns": ["pic_team"]},
    {"jobs_table_columns": {"pic_team": True}, "theme": "dark"},
    {"columns": {"pic_team": True}},
    {},
])
def test_bad_ui_preferences_are_400(client: FlaskClient, world: World, body: dict[str, Any]) -> None:
    target = url(world, "alice", "ui-preferences")
    assert_error(client.put(target, json=body, headers=world.headers("alice")), 400)
    assert client.get(target, headers=world.headers("alice")).get_json() == {
        "preferences": {"jobs_table_columns": COLUMN_DEFAULTS}}


@pytest.mark.parametrize("kind", ["preferences", "ui-preferences"])
def test_a_preferences_body_that_is_not_json_is_400(client: FlaskClient, world: World, kind: str) -> None:
    response = client.put(url(world, "alice", kind), data="daily_digest=true", headers=world.headers("alice"),
                          content_type="text/plain")
    assert_error(response, 400)


@pytest.mark.parametrize("kind, model", [("preferences", UserNotificationPreferences),
                                         ("ui-preferences", UserUiPreferences)])
def test_concurrent_first_reads_create_one_row(app: Flask, world: World, kind: str, model: type) -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    barrier = Barrier(6)

    def read(_index: int) -> int:
        client = app.test_client()
        barrier.wait(timeout=10)
        return client.get(url(world, "alice", kind), headers=world.headers("alice")).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(read, range(6)))
    assert statuses == [200] * 6
    assert rows(app, model) == 1
