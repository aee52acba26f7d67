"""/api/settings/slack: admins read (masked), update and test the Slack webhook; everyone else is refused."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from src.app import create_app
from src.models import SlackSettings, db
from test.conftest import ROLE_USERS, World
from test.conftest import test_config as app_config
from test.test_notifications.conftest import SlackReceiver

HOOK = "https://hooks.slack.com/services/T000/B000/abcdefghijklWXYZ"


def put(client: FlaskClient, world: World, body: object, who: str = "root") -> object:
    return client.put("/api/settings/slack", json=body, headers=world.headers(who))


def stored(app: Flask) -> SlackSettings:
    with app.app_context():
        row = db.session.query(SlackSettings).one()
        db.session.expunge(row)
        return row


@pytest.mark.parametrize("role, status", [("user", 403), ("viewer", 403), ("anonymous", 401)])
def test_only_admins_may_read_update_or_test(client: FlaskClient, world: World, role: str, status: int) -> None:
    headers = world.headers(ROLE_USERS[role])
    assert client.get("/api/settings/slack", headers=headers).status_code == status
    assert client.put("/api/settings/slack", json={"is_enabled": False}, headers=headers).status_code == status
    assert client.post("/api/settings/slack/test", json={}, headers=headers).status_code == status


def test_fresh_settings_are_disabled_and_unconfigured(client: FlaskClient, world: World) -> None:
    response = client.get("/api/settings/slack", headers=world.headers("root"))
    assert response.status_code == 200
    assert response.get_json() == {"slack_settings": {"is_enabled": False, "channel": None, "webhook_url": None,
                                                      "webhook_configured": False}}


def test_webhook_url_is_masked_on_read_and_kept_when_a_put_omits_it(client: FlaskClient, app: Flask,
                                                                      world: World) -> None:
    response = put(client, world, {"is_enabled": True, "webhook_url": HOOK, "channel": "#alerts"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] and body["slack_settings"] == {
        "is_enabled": True, "channel": "#alerts", "webhook_url": "https://hooks.slack.com/...WXYZ",
        "webhook_configured": True}
    assert HOOK not in client.get("/api/settings/slack", headers=world.headers("root")).get_data(as_text=True)
    masked_round_trip = {**body["slack_settings"], "channel": "#ops"}
    masked_round_trip.pop("webhook_url")
    assert put(client, world, masked_round_trip).status_code == 200
    row = stored(app)
    assert (row.webhook_url, row.channel, row.is_enabled) == (HOOK, "#ops", True)


def test_null_webhook_url_clears_it_and_disabled_settings_allow_that(client: FlaskClient, app: Flask,
                                                                       world: World) -> None:
    put(client, world, {"is_enabled": True, "webhook_url": HOOK})
    assert put(client, world, {"webhook_url": None}).status_code == 400  # still enabled: needs a URL
    response = put(client, world, {"is_enabled": False, "webhook_url": ""})
    assert response.status_code == 200
    assert stored(app).webhook_url is None


@pytest.mark.parametrize("body", [
    {"is_enabled": True},
    {"webhook_url": "ftp://hooks.example.com/x"},
    {"webhook_url": "not a url"},
    {"webhook_url": "https://user:pw@hooks.example.com/x"},
    {"webhook_url": "https://" + "a" * 600},
    {"is_enabled": "yes please"},
    {"channel": 5},
    {"channel": "#" + "c" * 200},
    ["is_enabled"],
])
def test_invalid_updates_are_400_and_change_nothing(client: FlaskClient, app: Flask, world: World,
                                                     body: object) -> None:
    response = put(client, world, body)
    assert response.status_code == 400, response.get_json()
    assert set(response.get_json()) >= {"error", "message"}
    assert client.get("/api/settings/slack", headers=world.headers("root")).get_json()["slack_settings"][
        "webhook_configured"] is False


def test_a_body_that_is_not_json_is_400(client: FlaskClient, world: World) -> None:
    response = client.put("/api/settings/slack", data="{oops", content_type="application/json",
                          headers=world.headers("root"))
    assert response.status_code == 400


@pytest.fixture
def production_client(database_url: str, app: Flask) -> Iterator[FlaskClient]:
    application = create_app(app_config(database_url, FLASK_ENV="production", ALLOW_DEFAULT_ADMIN=False))
    yield application.test_client()
    with application.app_context():
        db.engine.dispose()


def test_production_requires_https_webhooks(production_client: FlaskClient, world: World) -> None:
    response = put(production_client, world, {"webhook_url": "http://hooks.example.com/x"})
    assert response.status_code == 400
    assert response.get_json()["details"] == {"webhook_url": ["Must be an https:// URL."]}
    assert put(production_client, world, {"webhook_url": HOOK}).status_code == 200


def test_test_message_reaches_the_stored_webhook(client: FlaskClient, world: World, slack: SlackReceiver) -> None:
    put(client, world, {"is_enabled": True, "webhook_url": slack.url, "channel": "#alerts"})
    response = client.post("/api/settings/slack/test", headers=world.headers("root"))
    assert response.status_code == 200
    assert response.get_json() == {"ok": True, "message": "Test message sent to Slack."}
    [post] = slack.posts
    assert post["channel"] == "#alerts" and "sent by root" in post["text"]


def test_test_message_can_try_an_unsaved_url_and_reports_rejection(client: FlaskClient, world: World,
                                                                   slack: SlackReceiver) -> None:
    slack.statuses = [403]
    response = client.post("/api/settings/slack/test", json={"webhook_url": slack.url},
                           headers=world.headers("root"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is False and body["error"] == "Slack delivery failed" and "HTTP 403" in body["message"]


def test_test_message_to_an_unreachable_url_reports_it_quickly(client: FlaskClient, world: World) -> None:
    response = client.post("/api/settings/slack/test", json={"webhook_url": "http://127.0.0.1:9/hook"},
                           headers=world.headers("root"))
    assert response.get_json()["ok"] is False and "connection failed" in response.get_json()["message"]


def test_test_message_without_any_webhook_is_400(client: FlaskClient, world: World) -> None:
    response = client.post("/api/settings/slack/test", json={}, headers=world.headers("root"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "Slack not configured"
    bad = client.post("/api/settings/slack/test", json={"webhook_url": 42}, headers=world.headers("root"))
    assert bad.status_code == 400
