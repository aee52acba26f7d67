"""/api/notifications: every role has its own notifications; another user's are invisible (404)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask
from flask.testing import FlaskClient

from src.models import Notification, db
from test.conftest import ROLE_USERS, World

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def add_notes(app: Flask, world: World, name: str, count: int, *, read: bool = False) -> list[str]:
    with app.app_context():
        rows = [Notification(user_id=world.id(name), title=f"{name} #{i}", message="m", type="info",
                             is_read=read, read_at=T0 if read else None, created_at=T0 + timedelta(hours=i))
                for i in range(count)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.id for row in rows]


@pytest.mark.parametrize("role", ["admin", "user", "viewer"])
def test_every_role_lists_only_its_own_notifications(client: FlaskClient, app: Flask, world: World,
                                                      role: str) -> None:
    name = ROLE_USERS[role]
    add_notes(app, world, name, 3)
    add_notes(app, world, "bob", 2)
    response = client.get("/api/notifications", headers=world.headers(name))
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"notifications", "total", "page", "per_page", "total_pages"}
    assert [n["title"] for n in body["notifications"]] == [f"{name} #2", f"{name} #1", f"{name} #0"]
    assert (body["total"], body["page"], body["per_page"], body["total_pages"]) == (3, 1, 20, 1)
    note = body["notifications"][0]
    assert set(note) == {"id", "user_id", "title", "message", "type", "related_job_id", "related_execution_id",
                         "is_read", "read_at", "created_at"}
    assert note["created_at"].endswith("+00:00")


@pytest.mark.parametrize("method, path", [
    ("get", "/api/notifications"), ("get", "/api/notifications/unread-count"),
    ("put", "/api/notifications/x/read"), ("put", "/api/notifications/read-all"),
    ("delete", "/api/notifications/x"), ("delete", "/api/notifications/delete-read")])
def test_anonymous_gets_401_everywhere(client: FlaskClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 401
    assert set(response.get_json()) == {"error", "message"}


def test_paging_defaults_to_20_and_clamps_to_100(client: FlaskClient, app: Flask, world: World) -> None:
    add_notes(app, world, "alice", 105)
    body = client.get("/api/notifications", headers=world.headers("alice")).get_json()
    assert (len(body["notifications"]), body["total"], body["total_pages"]) == (20, 105, 6)
    body = client.get("/api/notifications?page=2&per_page=100", headers=world.headers("alice")).get_json()
    assert (len(body["notifications"]), body["page"], body["per_page"]) == (5, 2, 100)
    body = client.get("/api/notifications?per_page=500", headers=world.headers("alice")).get_json()
    assert (len(body["notifications"]), body["per_page"], body["total_pages"]) == (100, 100, 2)
    body = client.get("/api/notifications?limit=10&page=11", headers=world.headers("alice")).get_json()
    assert (len(body["notifications"]), body["per_page"]) == (5, 10)
    body = client.get("/api/notifications?page=99", headers=world.headers("alice")).get_json()
    assert body["notifications"] == [] and body["total"] == 105


def test_unread_only_and_time_range_filter(client: FlaskClient, app: Flask, world: World) -> None:
    add_notes(app, world, "alice", 4)
    add_notes(app, world, "alice", 2, read=True)
    headers = world.headers("alice")
    body = client.get("/api/notifications?unread_only=true", headers=headers).get_json()
    assert body["total"] == 4 and not any(n["is_read"] for n in body["notifications"])
    body = client.get("/api/notifications?from=2026-11-20T13:00:00%2B00:00&to=2026-11-20T15:00:00Z",
                      headers=headers).get_json()
    # A date-time `to` is included, as in every list's range.
    assert sorted(n["title"] for n in body["notifications"]) == ["alice #1", "alice #1", "alice #2", "alice #3"]
    # A date covers its whole day in SCHEDULER_TIMEZONE (Asia/Tokyo): 2026-11-20 ends at 15:00 UTC.
    assert client.get("/api/notifications?to=2026-11-19", headers=headers).get_json()["total"] == 0
    assert client.get("/api/notifications?to=2026-11-20", headers=headers).get_json()["total"] == 5
    assert client.get("/api/notifications?to=2026-11-21", headers=headers).get_json()["total"] == 6


@pytest.mark.parametrize("query", ["page=0", "page=abc", "per_page=0", "per_page=-5", "unread_only=maybe",
                                   "from=yesterday", "to=2026-13-45", "page=99999999999999999999"])
def test_bad_query_parameters_are_400(client: FlaskClient, world: World, query: str) -> None:
    response = client.get(f"/api/notifications?{query}", headers=world.headers("alice"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "Validation error"


def test_unread_count_counts_only_mine_and_unread(client: FlaskClient, app: Flask, world: World) -> None:
    add_notes(app, world, "alice", 3)
    add_notes(app, world, "alice", 2, read=True)
    add_notes(app, world, "bob", 7)
    for name, expected in (("alice", 3), ("bob", 7), ("victor", 0), ("root", 0)):
        response = client.get("/api/notifications/unread-count", headers=world.headers(name))
        assert response.get_json() == {"unread_count": expected}


def test_mark_read_sets_read_at_and_is_idempotent(client: FlaskClient, app: Flask, world: World) -> None:
    [note_id] = add_notes(app, world, "victor", 1)
    response = client.put(f"/api/notifications/{note_id}/read", headers=world.headers("victor"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["message"] and body["notification"]["is_read"] is True and body["notification"]["read_at"]
    again = client.put(f"/api/notifications/{note_id}/read", headers=world.headers("victor")).get_json()
    assert again["notification"]["read_at"] == body["notification"]["read_at"]
    assert client.get("/api/notifications/unread-count", headers=world.headers("victor")).get_json() == {
        "unread_count": 0}


@pytest.mark.parametrize("method, suffix", [("put", "/read"), ("delete", "")])
def test_another_users_notification_is_404_and_unchanged(client: FlaskClient, app: Flask, world: World,
                                                          method: str, suffix: str) -> None:
    [note_id] = add_notes(app, world, "alice", 1)
    for name in ("bob", "root", "victor"):
        response = getattr(client, method)(f"/api/notifications/{note_id}{suffix}", headers=world.headers(name))
        assert response.status_code == 404
        assert response.get_json()["error"] == "Notification not found"
    with app.app_context():
        note = db.session.get(Notification, note_id)
        assert note is not None and note.is_read is False


def test_unknown_id_is_404(client: FlaskClient, world: World) -> None:
    for note_id in ("00000000-0000-0000-0000-000000000000", "x" * 300):
        path = f"/api/notifications/{note_id}/read"
        assert client.put(path, headers=world.headers("alice")).status_code == 404
    assert client.delete("/api/notifications/nope", headers=world.headers("alice")).status_code == 404


def test_read_all_marks_only_mine(client: FlaskClient, app: Flask, world: World) -> None:
    add_notes(app, world, "alice", 3)
    add_notes(app, world, "alice", 1, read=True)
    add_notes(app, world, "bob", 2)
    response = client.put("/api/notifications/read-all", headers=world.headers("alice"))
    assert response.status_code == 200
    assert response.get_json()["updated_count"] == 3
    assert client.get("/api/notifications/unread-count", headers=world.headers("alice")).get_json()["unread_count"] == 0
    assert client.get("/api/notifications/unread-count", headers=world.headers("bob")).get_json()["unread_count"] == 2


def test_delete_one_returns_what_was_deleted(client: FlaskClient, app: Flask, world: World) -> None:
    [note_id] = add_notes(app, world, "root", 1)
    response = client.delete(f"/api/notifications/{note_id}", headers=world.headers("root"))
    assert response.status_code == 200
    assert response.get_json()["deleted_notification"] == {"id": note_id, "title": "root #0"}
    assert client.delete(f"/api/notifications/{note_id}", headers=world.headers("root")).status_code == 404


def test_delete_read_removes_only_my_read_ones(client: FlaskClient, app: Flask, world: World) -> None:
    add_notes(app, world, "alice", 2)
    add_notes(app, world, "alice", 3, read=True)
    add_notes(app, world, "bob", 4, read=True)
    response = client.delete("/api/notifications/delete-read", headers=world.headers("alice"))
    assert response.status_code == 200 and response.get_json()["deleted_count"] == 3
    assert client.get("/api/notifications", headers=world.headers("alice")).get_json()["total"] == 2
    assert client.get("/api/notifications", headers=world.headers("bob")).get_json()["total"] == 4


def test_wrong_methods_are_405(client: FlaskClient, world: World) -> None:
    assert client.post("/api/notifications", headers=world.headers("alice")).status_code == 405
    assert client.get("/api/notifications/read-all", headers=world.headers("alice")).status_code == 405


def test_an_unencoded_plus_in_the_offset_is_understood(client: FlaskClient, app: Flask, world: World) -> None:
    add_notes(app, world, "alice", 4)
    body = client.get("/api/notifications?from=2026-11-20T22:00:00+09:00", headers=world.headers("alice")).get_json()
    assert sorted(n["title"] for n in body["notifications"]) == ["alice #1", "alice #2", "alice #3"]
