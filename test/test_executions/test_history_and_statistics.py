"""GET /api/executions, /api/executions/{id}, /api/executions/statistics and the per-job history and stats:
filters, paging, SQL statistics, every role, bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from test.conftest import ROLE_USERS, World
from test.test_executions.conftest import T0, add_execution, add_job


@pytest.fixture
def history(app: Flask, world: World) -> dict[str, str]:
    """Two jobs; executions across 19-21 Nov (Tokyo), of every status and trigger."""
    web = add_job(app, "web", world.id("alice"))
    gh = add_job(app, "gh", world.id("bob"), github_owner="octo", github_repo="repo", github_workflow_name="ci.yml")
    ids = {
        "web-ok-19": add_execution(app, web, "success", T0 - timedelta(days=1), duration_seconds=1.0),
        "web-fail-20": add_execution(app, web, "failed", T0, duration_seconds=3.0, error_message="HTTP 500"),
        "web-manual-20": add_execution(app, web, "success", T0 + timedelta(hours=13, minutes=30), trigger_type="manual",
                                       scheduled_for=None, duration_seconds=2.0),  # 23:30 JST on the 20th
        "gh-ok-21": add_execution(app, gh, "success", T0 + timedelta(days=1), execution_type="github_actions",
                                  duration_seconds=4.0),
        "gh-missed-21": add_execution(app, gh, "missed", T0 + timedelta(days=1, minutes=1),
                                      execution_type="github_actions"),
        "gh-running-21": add_execution(app, gh, "running", T0 + timedelta(days=1, minutes=2),
                                       execution_type="github_actions"),
    }
    return {"web": web, "gh": gh, **ids}


def names(response: object) -> list[str]:
    return [e["id"] for e in response.get_json()["executions"]]  # type: ignore[attr-defined]


def test_the_list_is_newest_first_with_job_names_and_the_paging_envelope(client: FlaskClient, world: World,
                                                                        history: dict[str, str]) -> None:
    response = client.get("/api/executions", headers=world.headers("victor"))
    body = response.get_json()
    assert response.status_code == 200
    assert body["total"] == 6 and body["page"] == 1 and body["limit"] == 20 and body["total_pages"] == 1
    assert names(response) == [history[k] for k in ("gh-running-21", "gh-missed-21", "gh-ok-21", "web-manual-20",
                                                     "web-fail-20", "web-ok-19")]
    first = body["executions"][0]
    assert first["job_name"] == "gh" and first["github_repo"] == "repo"
    assert set(first) >= {"id", "job_id", "status", "trigger_type", "scheduled_for", "started_at", "completed_at",
                          "duration_seconds", "execution_type", "target", "response_status", "error_message", "output"}
    paged = client.get("/api/executions?page=2&per_page=4", headers=world.headers("victor")).get_json()
    assert paged["total"] == 6 and paged["limit"] == 4 and paged["total_pages"] == 2 and len(paged["executions"]) == 2


def test_filters_combine(client: FlaskClient, world: World, history: dict[str, str]) -> None:
    def query(qs: str) -> list[str]:
        response = client.get(f"/api/executions?{qs}", headers=world.headers("alice"))
        assert response.status_code == 200, response.get_json()
        return sorted(names(response))

    def ids(*keys: str) -> list[str]:
        return sorted(history[k] for k in keys)

    assert query("status=failed,missed") == ids("web-fail-20", "gh-missed-21")
    assert query("trigger_type=manual") == ids("web-manual-20")
    assert query("execution_type=github_actions&status=success") == ids("gh-ok-21")
    assert query(f"job_id={history['web']}") == ids("web-ok-19", "web-fail-20", "web-manual-20")
    # A date-only `to` covers the whole day (Asia/Tokyo): the 23:30 manual run is included.
    assert query("from=2026-11-20&to=2026-11-20") == ids("web-fail-20", "web-manual-20")
    assert query("from=2026-11-21T10:00:30%2B09:00") == ids("gh-missed-21", "gh-running-21")


@pytest.mark.parametrize("qs", ["status=bogus", "status=success,nope", "trigger_type=cron", "execution_type=ftp",
                                "limit=0", "limit=201", "page=0", "page=x", "from=yesterday", "to=2026-13-01",
                                "from=2026-11-21&to=2026-11-20", "limit=5&per_page=6", "to=9999-12-31",
                                "to=9999-12-31T23:59:59.999999", "from=0001-01-01T00:00:00%2B14:00",
                                "from=" + "1" * 50])
def test_bad_list_filters_are_400(client: FlaskClient, world: World, history: dict[str, str], qs: str) -> None:
    response = client.get(f"/api/executions?{qs}", headers=world.headers("alice"))
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "message"}


@pytest.mark.parametrize(("caller", "status"), [("admin", 200), ("user", 200), ("viewer", 200), ("anonymous", 401)])
def test_every_logged_in_role_reads_history(client: FlaskClient, world: World, history: dict[str, str], caller: str,
                                            status: int) -> None:
    headers = world.headers(ROLE_USERS[caller])
    job = history["web"]
    for url in ("/api/executions", f"/api/executions/{history['web-ok-19']}", "/api/executions/statistics",
                f"/api/jobs/{job}/executions", f"/api/jobs/{job}/executions/stats",
                f"/api/jobs/{job}/executions/{history['web-ok-19']}"):
        assert client.get(url, headers=headers).status_code == status, url


def test_one_execution_and_unknown_ids(client: FlaskClient, world: World, history: dict[str, str]) -> None:
    headers = world.headers("victor")
    one = client.get(f"/api/executions/{history['web-fail-20']}", headers=headers).get_json()["execution"]
    assert one["status"] == "failed" and one["error_message"] == "HTTP 500" and one["job_name"] == "web"
    assert one["lag_seconds"] == 0.0
    missing = client.get("/api/executions/nope", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"] == "Execution not found"
    wrong_job = client.get(f"/api/jobs/{history['gh']}/executions/{history['web-fail-20']}", headers=headers)
    assert wrong_job.status_code == 404 and wrong_job.get_json()["error"] == "Execution not found"
    no_job = client.get("/api/jobs/nope/executions", headers=headers)
    assert no_job.status_code == 404 and no_job.get_json()["error"] == "Job not found"
    assert client.get("/api/jobs/nope/executions/stats", headers=headers).status_code == 404


def test_a_jobs_history_is_only_its_own(client: FlaskClient, world: World, history: dict[str, str]) -> None:
    response = client.get(f"/api/jobs/{history['gh']}/executions?status=success,missed",
                          headers=world.headers("alice"))
    assert sorted(names(response)) == sorted([history["gh-ok-21"], history["gh-missed-21"]])
    assert response.get_json()["total"] == 2


def test_job_statistics_are_counted_in_sql(client: FlaskClient, world: World, history: dict[str, str]) -> None:
    body = client.get(f"/api/jobs/{history['web']}/executions/stats", headers=world.headers("victor")).get_json()
    assert body["job_id"] == history["web"] and body["job_name"] == "web"
    assert body["statistics"] == {"total_executions": 3, "success_count": 2, "failed_count": 1, "running_count": 0,
                                  "missed_count": 0, "success_rate": 66.67, "average_duration_seconds": 2.0}
    assert body["latest_execution"]["id"] == history["web-manual-20"]


def test_a_job_without_runs_has_empty_statistics(app: Flask, client: FlaskClient, world: World) -> None:
    job = add_job(app, "idle", world.id("alice"))
    body = client.get(f"/api/jobs/{job}/executions/stats", headers=world.headers("alice")).get_json()
    assert body["statistics"]["total_executions"] == 0 and body["statistics"]["success_rate"] == 0.0
    assert body["statistics"]["average_duration_seconds"] is None and body["latest_execution"] is None


def test_global_statistics_over_all_time_a_range_and_from_to(client: FlaskClient, world: World,
                                                            history: dict[str, str]) -> None:
    everything = client.get("/api/executions/statistics", headers=world.headers("victor")).get_json()
    assert everything == {"total_executions": 6, "successful_executions": 3, "failed_executions": 1,
                          "running_executions": 1, "missed_executions": 1, "success_rate": 60.0,
                          "average_duration_seconds": 2.5, "range": "all", "from": None, "to": None}
    day = client.get("/api/executions/statistics?from=2026-11-21&to=2026-11-21",
                     headers=world.headers("victor")).get_json()
    assert day["total_executions"] == 3 and day["successful_executions"] == 1 and day["running_executions"] == 1
    assert day["from"] == "2026-11-21T00:00:00+09:00" and day["to"] == "2026-11-22T00:00:00+09:00"
    recent = client.get("/api/executions/statistics?range=24h", headers=world.headers("victor")).get_json()
    assert recent["range"] == "24h" and recent["total_executions"] == 0
    assert client.get("/api/executions/statistics?range=1y", headers=world.headers("victor")).status_code == 400
