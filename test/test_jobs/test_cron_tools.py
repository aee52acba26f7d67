"""Cron tools through the API: roles, shapes, and a table of next runs worked out by hand on a calendar.

2026-01-01 is a Thursday. America/New_York springs forward on 2026-03-08 (02:00 EST -> 03:00 EDT) and falls
back on 2026-11-01 (02:00 EDT -> 01:00 EST).
"""
from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from test.conftest import ROLE_USERS, World

JAN1 = "2026-01-01T00:00:00+00:00"

# (expression, timezone, start, expected next runs) -- every expected time written by hand.
CASES: list[tuple[str, str, str, list[str]]] = [
    ("0 9 * * 1-5", "UTC", JAN1, ["2026-01-01T09:00:00+00:00", "2026-01-02T09:00:00+00:00",
                                  "2026-01-05T09:00:00+00:00", "2026-01-06T09:00:00+00:00",
                                  "2026-01-07T09:00:00+00:00"]),
    ("0 0 * * 0", "UTC", JAN1, ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00",
                                "2026-01-18T00:00:00+00:00"]),
    ("0 0 * * 7", "UTC", JAN1, ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00",
                                "2026-01-18T00:00:00+00:00"]),
    ("0 0 * * sun", "UTC", JAN1, ["2026-01-04T00:00:00+00:00", "2026-01-11T00:00:00+00:00"]),
    ("30 12 * * sat,sun", "UTC", JAN1, ["2026-01-03T12:30:00+00:00", "2026-01-04T12:30:00+00:00",
                                        "2026-01-10T12:30:00+00:00"]),
    ("0 12 * * mon-fri", "UTC", JAN1, ["2026-01-01T12:00:00+00:00", "2026-01-02T12:00:00+00:00",
                                       "2026-01-05T12:00:00+00:00"]),
    ("0 0 * * 5-7", "UTC", JAN1, ["2026-01-02T00:00:00+00:00", "2026-01-03T00:00:00+00:00",
                                  "2026-01-04T00:00:00+00:00", "2026-01-09T00:00:00+00:00"]),
    # Day-of-month and day-of-week both restricted: either one fires.
    ("0 0 1 * 1", "UTC", JAN1, ["2026-01-05T00:00:00+00:00", "2026-01-12T00:00:00+00:00",
                                "2026-01-19T00:00:00+00:00", "2026-01-26T00:00:00+00:00",
                                "2026-02-01T00:00:00+00:00", "2026-02-02T00:00:00+00:00"]),
    ("0 0 13 * 5", "UTC", JAN1, ["2026-01-02T00:00:00+00:00", "2026-01-09T00:00:00+00:00",
                                 "2026-01-13T00:00:00+00:00", "2026-01-16T00:00:00+00:00"]),
    # A day-of-month starting with '*' is not "restricted" in Vixie cron: both must match (odd days AND Monday).
    ("0 0 */2 * 1", "UTC", JAN1, ["2026-01-05T00:00:00+00:00", "2026-01-19T00:00:00+00:00",
                                  "2026-02-09T00:00:00+00:00"]),
    ("0 0 * * */2", "UTC", JAN1, ["2026-01-03T00:00:00+00:00", "2026-01-04T00:00:00+00:00",
                                  "2026-01-06T00:00:00+00:00", "2026-01-08T00:00:00+00:00"]),
    ("*/15 * * * *", "UTC", JAN1, ["2026-01-01T00:15:00+00:00", "2026-01-01T00:30:00+00:00",
                                   "2026-01-01T00:45:00+00:00", "2026-01-01T01:00:00+00:00"]),
    ("0 */6 * * *", "UTC", JAN1, ["2026-01-01T06:00:00+00:00", "2026-01-01T12:00:00+00:00",
                                  "2026-01-01T18:00:00+00:00", "2026-01-02T00:00:00+00:00"]),
    ("5-20/5 8 * * *", "UTC", JAN1, ["2026-01-01T08:05:00+00:00", "2026-01-01T08:10:00+00:00",
                                     "2026-01-01T08:15:00+00:00", "2026-01-01T08:20:00+00:00",
                                     "2026-01-02T08:05:00+00:00"]),
    ("0 0 1 jan,jul *", "UTC", JAN1, ["2026-07-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00",
                                      "2027-07-01T00:00:00+00:00"]),
    ("0 0 1 */3 *", "UTC", JAN1, ["2026-04-01T00:00:00+00:00", "2026-07-01T00:00:00+00:00",
                                  "2026-10-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"]),
    ("0 0 * feb *", "UTC", JAN1, ["2026-02-01T00:00:00+00:00", "2026-02-02T00:00:00+00:00"]),
    ("0 0 29 2 *", "UTC", JAN1, ["2028-02-29T00:00:00+00:00", "2032-02-29T00:00:00+00:00",
                                 "2036-02-29T00:00:00+00:00"]),
    ("0 0 31 * *", "UTC", JAN1, ["2026-01-31T00:00:00+00:00", "2026-03-31T00:00:00+00:00",
                                 "2026-05-31T00:00:00+00:00", "2026-07-31T00:00:00+00:00"]),
    ("59 23 31 12 *", "UTC", JAN1, ["2026-12-31T23:59:00+00:00", "2027-12-31T23:59:00+00:00"]),
    ("0 0 1,15 * *", "UTC", JAN1, ["2026-01-15T00:00:00+00:00", "2026-02-01T00:00:00+00:00",
                                   "2026-02-15T00:00:00+00:00"]),
    ("0 0 */10 * *", "UTC", JAN1, ["2026-01-11T00:00:00+00:00", "2026-01-21T00:00:00+00:00",
                                   "2026-01-31T00:00:00+00:00", "2026-02-01T00:00:00+00:00"]),
    # Time zones: the start is an instant; runs are wall-clock times of the zone, with its offset.
    ("0 22 * * 1-5", "Asia/Tokyo", "2026-01-01T00:00:00+09:00",
     ["2026-01-01T22:00:00+09:00", "2026-01-02T22:00:00+09:00", "2026-01-05T22:00:00+09:00"]),
    ("0 9 * * 1-5", "Asia/Tokyo", "2026-01-01T00:00:00Z",  # = 09:00 JST, so Thursday 09:00 is not after it
     ["2026-01-02T09:00:00+09:00", "2026-01-05T09:00:00+09:00"]),
    ("0 9 * * *", "Asia/Tokyo", "2026-01-01T08:59:00",  # no offset: read in the preview's zone
     ["2026-01-01T09:00:00+09:00", "2026-01-02T09:00:00+09:00"]),
    # DST, spring forward: a fixed time inside the skipped hour fires once at the jump (03:00 EDT).
    ("30 2 * * *", "America/New_York", "2026-03-07T00:00:00-05:00",
     ["2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
    ("0 * * * *", "America/New_York", "2026-03-08T00:30:00-05:00",
     ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"]),
    ("0 9 * * 1-5", "America/New_York", "2026-03-06T00:00:00-05:00",
     ["2026-03-06T09:00:00-05:00", "2026-03-09T09:00:00-04:00"]),
    # DST, fall back: a fixed time in the repeated hour fires once (first pass); hourly jobs fire in both passes.
    ("30 1 * * *", "America/New_York", "2026-10-31T00:00:00-04:00",
     ["2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
    ("0 * * * *", "America/New_York", "2026-11-01T00:30:00-04:00",
     ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]),
    ("*/30 1 * * *", "America/New_York", "2026-11-01T00:00:00-04:00",
     ["2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
      "2026-11-01T01:30:00-05:00", "2026-11-02T01:00:00-05:00"]),
]


@pytest.mark.parametrize("expression,zone,start,expected", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_preview_matches_hand_computed_runs(client: FlaskClient, world: World, expression: str, zone: str,
                                            start: str, expected: list[str]) -> None:
    response = client.post("/api/jobs/cron-preview", headers=world.headers("victor"),
                           json={"expression": expression, "timezone": zone, "start": start,
                                 "count": len(expected)})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["next_runs"] == expected
    assert body["count"] == len(expected)
    assert body["timezone"] == zone


ENDPOINTS: list[tuple[str, dict[str, Any]]] = [
    ("/api/jobs/validate-cron", {"expression": "0 9 * * 1-5"}),
    ("/api/jobs/cron-preview", {"expression": "0 9 * * 1-5"}),
    ("/api/jobs/cron-description", {"expression": "0 9 * * 1-5"}),
]


@pytest.mark.parametrize("path,body", ENDPOINTS)
@pytest.mark.parametrize("role,status", [("admin", 200), ("user", 200), ("viewer", 200), ("anonymous", 401)])
def test_cron_tools_need_a_login_and_any_role(client: FlaskClient, world: World, path: str, body: dict[str, Any],
                                              role: str, status: int) -> None:
    response = client.post(path, json=body, headers=world.headers(ROLE_USERS[role]))
    assert response.status_code == status
    assert "msg" not in response.get_json()


def test_validate_cron_valid(client: FlaskClient, world: World) -> None:
    body = client.post("/api/jobs/validate-cron", json={"expression": "0 9 * * 1-5"},
                       headers=world.headers("alice")).get_json()
    assert body["valid"] is True
    assert body["message"]
    assert body["description"] == "At 09:00, Monday through Friday"


@pytest.mark.parametrize("expression", ["0 25 * * *", "", "* * * *", "@reboot", "0 0 * * * 2026", "H 0 * * *",
                                        "\u00b2 * * * *", "\u0663 * * * *", "0 0 1 1 \u2077", "*/\u00b2 * * * *",
                                        "\ud800 * * * *", "\x00 * * * *"])
def test_validate_cron_invalid_is_still_200(client: FlaskClient, world: World, expression: str) -> None:
    response = client.post("/api/jobs/validate-cron", json={"cron_expression": expression},
                           headers=world.headers("alice"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is False
    assert body["error"] == "Invalid cron expression"
    assert body["message"]


def test_validate_cron_message_names_the_field(client: FlaskClient, world: World) -> None:
    body = client.post("/api/jobs/validate-cron", json={"expression": "0 25 * * *"},
                       headers=world.headers("alice")).get_json()
    assert "hour" in body["message"]


@pytest.mark.parametrize("path", [p for p, _ in ENDPOINTS])
@pytest.mark.parametrize("body", [{}, {"expression": 5}, {"expression": None}, {"cron_expression": ["* * * * *"]}])
def test_missing_or_non_string_expression_is_400(client: FlaskClient, world: World, path: str,
                                                 body: dict[str, Any]) -> None:
    response = client.post(path, json=body, headers=world.headers("alice"))
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "message"}


def test_cron_description(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs/cron-description", json={"cron_expression": "0 9 * * 1-5"},
                           headers=world.headers("alice"))
    assert response.get_json()["description"] == "At 09:00, Monday through Friday"


def test_cron_description_of_an_invalid_expression_is_400(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs/cron-description", json={"expression": "61 * * * *"},
                           headers=world.headers("alice"))
    assert response.status_code == 400
    assert response.get_json()["error"] == "Invalid cron expression"


def test_preview_defaults_to_five_runs_in_the_scheduler_zone(client: FlaskClient, world: World) -> None:
    body = client.post("/api/jobs/cron-preview", json={"expression": "0 9 * * *"},
                       headers=world.headers("alice")).get_json()
    assert body["timezone"] == "Asia/Tokyo"
    assert body["count"] == 5
    assert all(run.endswith("T09:00:00+09:00") for run in body["next_runs"])


@pytest.mark.parametrize("body,error", [
    ({"expression": "0 9 * * *", "count": 51}, "Validation error"),
    ({"expression": "0 9 * * *", "count": 0}, "Validation error"),
    ({"expression": "0 9 * * *", "count": "many"}, "Validation error"),
    ({"expression": "0 9 * * *", "timezone": "Mars/Base"}, "Validation error"),
    ({"expression": "0 9 * * *", "timezone": "Asia"}, "Validation error"),
    ({"expression": "0 9 * * *", "timezone": "zone.tab"}, "Validation error"),
    ({"expression": "0 9 * * *", "timezone": "../etc/passwd"}, "Validation error"),
    ({"expression": "0 9 * * *", "timezone": ""}, "Validation error"),
    ({"expression": "\u00b2 9 * * *"}, "Invalid cron expression"),
    ({"expression": "0 9 * * *", "start": "yesterday"}, "Validation error"),
    ({"expression": "0 9 * * 9"}, "Invalid cron expression"),
])
def test_bad_preview_requests_are_400(client: FlaskClient, world: World, body: dict[str, Any], error: str) -> None:
    response = client.post("/api/jobs/cron-preview", json=body, headers=world.headers("alice"))
    assert response.status_code == 400
    assert response.get_json()["error"] == error


def test_preview_of_fifty_runs(client: FlaskClient, world: World) -> None:
    body = client.post("/api/jobs/cron-preview", json={"expression": "* * * * *", "count": 50, "start": JAN1},
                       headers=world.headers("alice")).get_json()
    assert body["count"] == 50
    assert body["next_runs"][-1] == "2026-01-01T09:50:00+09:00"


@pytest.mark.parametrize("start", ["9999-12-31T23:59:00+00:00", "9001-01-01T00:00:00", "0001-01-01T00:00:00",
                                   "0001-01-01T00:00:00+14:00", "1969-12-31T23:59:59+00:00"])
def test_preview_start_outside_1970_to_9000_is_400(client: FlaskClient, world: World, start: str) -> None:
    response = client.post("/api/jobs/cron-preview", headers=world.headers("alice"),
                           json={"expression": "0 0 29 2 *", "start": start, "count": 50,
                                 "timezone": "Pacific/Kiritimati"})
    assert response.status_code == 400
    assert "start" in response.get_json()["details"]


def test_fifty_leap_days_from_the_latest_start(client: FlaskClient, world: World) -> None:
    response = client.post("/api/jobs/cron-preview", headers=world.headers("alice"),
                           json={"expression": "0 0 29 2 *", "start": "9000-12-31T23:59:00", "count": 50,
                                 "timezone": "Pacific/Kiritimati"})
    assert response.status_code == 200
    assert response.get_json()["next_runs"][0] == "9004-02-29T00:00:00+14:00"
