"""GET /api/jobs: the envelope, paging, search, filters and sorting in SQL, last/next execution times."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert

from src.models import Job, JobExecution, apscheduler_jobs, db
from test.conftest import ROLE_USERS, World


def listing(client: FlaskClient, world: World, query: str = "", user: str = "victor") -> dict[str, Any]:
    response = client.get(f"/api/jobs{query}", headers=world.headers(user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def names(body: dict[str, Any]) -> list[str]:
    return [job["name"] for job in body["jobs"]]


def seed(app: Flask, world: World, count: int, **fields: Any) -> list[str]:
    """Insert jobs directly with created_at one minute apart (job-00 oldest)."""
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with app.app_context():
        jobs = [Job(name=f"job-{i:02d}", cron_expression="0 9 * * *", target_url=f"http://127.0.0.1/{i}",
                    created_by=world.id("alice"), created_at=base + timedelta(minutes=i), **fields)
                for i in range(count)]
        db.session.add_all(jobs)
        db.session.commit()
        return [job.id for job in jobs]


@pytest.mark.parametrize("role,status", [("admin", 200), ("user", 200), ("viewer", 200), ("anonymous", 401)])
def test_every_role_lists_jobs(client: FlaskClient, world: World, make_job, role: str, status: int) -> None:
    make_job()
    response = client.get("/api/jobs", headers=world.headers(ROLE_USERS[role]))
    assert response.status_code == status


def test_without_paging_everything_newest_first(client: FlaskClient, world: World, app: Flask) -> None:
    seed(app, world, 5)
    body = listing(client, world)
    assert set(body) == {"count", "jobs"}
    assert body["count"] == 5
    assert names(body) == ["job-04", "job-03", "job-02", "job-01", "job-00"]


def test_empty_list(client: FlaskClient, world: World) -> None:
    assert listing(client, world) == {"count": 0, "jobs": []}


def test_paging_adds_totals(client: FlaskClient, world: World, app: Flask) -> None:
    seed(app, world, 5)
    body = listing(client, world, "?page=2&limit=2")
    assert {k: body[k] for k in ("count", "total", "page", "limit", "total_pages")} == \
        {"count": 2, "total": 5, "page": 2, "limit": 2, "total_pages": 3}
    assert names(body) == ["job-02", "job-01"]
    assert names(listing(client, world, "?page=3&per_page=2")) == ["job-00"]
    assert listing(client, world, "?page=9&limit=2")["jobs"] == []
    assert listing(client, world, "?page=1")["limit"] == 50


@pytest.mark.parametrize("query", ["?page=0&limit=5", "?page=1&limit=0", "?page=1&limit=201", "?page=x",
                                   "?page=1&limit=5&per_page=6", "?sort_by=password", "?sort_dir=up",
                                   "?is_active=maybe", "?search=%00", "?category=a%00b", "?created_by=%00",
                                   "?search=" + "s" * 256])
def test_bad_list_parameters_are_400(client: FlaskClient, world: World, query: str) -> None:
    response = client.get(f"/api/jobs{query}", headers=world.headers("victor"))
    assert response.status_code == 400
    assert set(response.get_json()) >= {"error", "message"}


def test_search_covers_name_repo_workflow_and_url_case_insensitively(client: FlaskClient, world: World,
                                                                     make_job) -> None:
    make_job(name="Billing Export")
    make_job(name="a", target_url=None, github_owner="acme", github_repo="Warehouse-Loader",
             github_workflow_name="ci.yml")
    make_job(name="b", target_url=None, github_owner="acme", github_repo="x", github_workflow_name="NIGHTLY.yml")
    make_job(name="c", target_url="https://hooks.example.com/Billing")
    assert sorted(names(listing(client, world, "?search=billing"))) == ["Billing Export", "c"]
    assert names(listing(client, world, "?search=warehouse")) == ["a"]
    assert names(listing(client, world, "?search=nightly")) == ["b"]
    assert listing(client, world, "?search=zzz")["count"] == 0


def test_search_wildcards_are_literal(client: FlaskClient, world: World, make_job) -> None:
    make_job(name="100% done")
    make_job(name="1000 done")
    make_job(name="a_b")
    make_job(name="axb")
    assert names(listing(client, world, "?search=100%25")) == ["100% done"]
    assert names(listing(client, world, "?search=a_b")) == ["a_b"]


def test_filters(client: FlaskClient, world: World, make_job, make_reference) -> None:
    make_reference("job-categories", "Finance")
    make_reference("pic-teams", "Data Team")
    make_job("alice", name="one", category="finance", pic_team="data-team")
    make_job("bob", name="two", is_active=False, target_url=None, github_owner="acme", github_repo="tools",
             github_workflow_name="ci.yml")
    make_job("root", name="three")
    assert names(listing(client, world, "?category=finance")) == ["one"]
    assert names(listing(client, world, "?pic_team=data-team")) == ["one"]
    assert names(listing(client, world, "?is_active=false")) == ["two"]
    assert sorted(names(listing(client, world, "?is_active=true"))) == ["one", "three"]
    assert names(listing(client, world, "?github_repo=tools")) == ["two"]
    assert names(listing(client, world, f"?created_by={world.id('root')}")) == ["three"]
    assert names(listing(client, world, "?category=finance&is_active=false")) == []
    assert listing(client, world, "?category=finance&page=1&limit=10")["total"] == 1


@pytest.mark.parametrize("sort_by", ["name", "created_at", "end_date", "is_active", "next_execution_at"])
def test_every_sort_key_sorts_both_ways(client: FlaskClient, world: World, app: Flask, sort_by: str) -> None:
    ids = seed(app, world, 4)
    with app.app_context():
        for i, job_id in enumerate(ids):
            job = db.session.get(Job, job_id)
            job.name = f"n{3 - i}"
            job.end_date = datetime(2030, 1, 1 + i).date()
            job.is_active = i % 2 == 0
        db.session.execute(insert(apscheduler_jobs), [{"id": job_id, "next_run_time": 2_000_000_000.0 + i * 60,
                                                        "job_state": b"x"} for i, job_id in enumerate(ids)])
        db.session.commit()
    asc = [job["id"] for job in listing(client, world, f"?sort_by={sort_by}&sort_dir=asc")["jobs"]]
    desc = [job["id"] for job in listing(client, world, f"?sort_by={sort_by}&sort_dir=desc")["jobs"]]
    key = {"name": lambda i: 3 - i, "created_at": lambda i: i, "end_date": lambda i: i,
           "is_active": lambda i: (i % 2 == 0, -i), "next_execution_at": lambda i: i}[sort_by]
    if sort_by == "is_active":  # ties broken by id, so compare the flag sequence only
        flags = {job_id: i % 2 == 0 for i, job_id in enumerate(ids)}
        assert [flags[i] for i in asc] == [False, False, True, True]
        assert [flags[i] for i in desc] == [True, True, False, False]
        return
    expected = [ids[i] for i in sorted(range(4), key=key)]
    assert asc == expected
    assert desc == expected[::-1]


def test_last_execution_is_the_latest_start(client: FlaskClient, world: World, app: Flask) -> None:
    first, second = seed(app, world, 2)
    latest = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
    with app.app_context():
        for hours in (48, 0, 24):
            db.session.add(JobExecution(job_id=first, status="success", trigger_type="manual",
                                        started_at=latest - timedelta(hours=hours)))
        db.session.commit()
    jobs = {job["id"]: job for job in listing(client, world)["jobs"]}
    assert datetime.fromisoformat(jobs[first]["last_execution_at"]) == latest
    assert jobs[second]["last_execution_at"] is None
    detail = client.get(f"/api/jobs/{first}", headers=world.headers("victor")).get_json()["job"]
    assert datetime.fromisoformat(detail["last_execution_at"]) == latest


def test_next_execution_comes_from_the_scheduler_table_in_the_scheduler_zone(client: FlaskClient, world: World,
                                                                             app: Flask) -> None:
    held, computed, paused = seed(app, world, 3)
    with app.app_context():
        db.session.get(Job, paused).is_active = False
        db.session.execute(insert(apscheduler_jobs), [
            {"id": held, "next_run_time": datetime(2030, 1, 1, 0, 0, tzinfo=timezone.utc).timestamp(),
             "job_state": b"x"}])
        db.session.commit()
    jobs = {job["id"]: job for job in listing(client, world)["jobs"]}
    assert jobs[held]["next_execution_at"] == "2030-01-01T09:00:00+09:00"
    # No scheduler row: computed from the cron expression ("0 9 * * *" in Asia/Tokyo).
    computed_at = datetime.fromisoformat(jobs[computed]["next_execution_at"])
    assert computed_at.utcoffset() == timedelta(hours=9)
    assert (computed_at.hour, computed_at.minute) == (9, 0)
    assert timedelta(0) < computed_at - datetime.now(timezone.utc) <= timedelta(days=1)
    assert jobs[paused]["next_execution_at"] is None
    for job_id in (held, computed, paused):
        detail = client.get(f"/api/jobs/{job_id}", headers=world.headers("victor")).get_json()["job"]
        assert detail["next_execution_at"] == jobs[job_id]["next_execution_at"]


@contextmanager
def counted_statements(app: Flask) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_number_of_queries_does_not_grow_with_the_page(client: FlaskClient, world: World, app: Flask) -> None:
    ids = seed(app, world, 40)
    with app.app_context():
        db.session.add_all([JobExecution(job_id=job_id, status="success", trigger_type="manual") for job_id in ids])
        db.session.commit()
    with counted_statements(app) as small:
        listing(client, world, "?page=1&limit=2")
    with counted_statements(app) as large:
        listing(client, world, "?page=1&limit=40")
    assert len(large) == len(small)


def test_reading_one_job_costs_one_query_for_the_token_and_one_for_the_job(client: FlaskClient, world: World,
                                                                            app: Flask) -> None:
    job_id = seed(app, world, 1)[0]
    with app.app_context():
        db.session.add(JobExecution(job_id=job_id, status="success", trigger_type="manual"))
        db.session.commit()
    with counted_statements(app) as statements:
        response = client.get(f"/api/jobs/{job_id}", headers=world.headers("victor"))
    assert response.status_code == 200 and response.get_json()["job"]["last_execution_at"] is not None
    assert len(statements) == 2, statements


@pytest.mark.parametrize("sort_by", ["next_execution_at", "end_date"])
@pytest.mark.parametrize("sort_dir", ["asc", "desc"])
def test_jobs_without_a_sort_value_come_last_and_pages_join_up(client: FlaskClient, world: World, app: Flask,
                                                                sort_by: str, sort_dir: str) -> None:
    ids = seed(app, world, 7)
    with_value = ids[1::2]
    with app.app_context():
        for i, job_id in enumerate(with_value):
            db.session.get(Job, job_id).end_date = datetime(2030, 1, 1 + i).date()
        db.session.execute(insert(apscheduler_jobs), [
            {"id": job_id, "next_run_time": 2_000_000_000.0 + i * 60, "job_state": b"x"}
            for i, job_id in enumerate(with_value)])
        db.session.commit()
    query = f"?sort_by={sort_by}&sort_dir={sort_dir}"
    everything = [job["id"] for job in listing(client, world, query)["jobs"]]
    ordered_values = with_value if sort_dir == "asc" else with_value[::-1]
    without = [job_id for job_id in reversed(ids) if job_id not in with_value]  # newest first
    assert everything == ordered_values + without
    for limit in (2, 3):
        paged = []
        for page in range(1, 5):
            paged += [job["id"] for job in listing(client, world, f"{query}&page={page}&limit={limit}")["jobs"]]
        assert paged == everything
