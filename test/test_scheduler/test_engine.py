"""The engine in one process: takes the lease, rebuilds the job store from the jobs table, follows job changes
(its own at once, other processes' by polling), fires through APScheduler, and hands the lease back on stop."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from src.models import JobExecution, SchedulerLease, apscheduler_jobs, db
from src.models.base import utcnow
from src.scheduler import scheduler_status
from src.scheduler.engine import SchedulerEngine, start_engine, stop_engine
from src.services.job_schedule import jobs_changed
from test.test_scheduler.conftest import executions_of, fresh, make_job, wait_until
from test.test_scheduler.receiver import Receiver


def store_times() -> dict[str, float]:
    with db.engine.connect() as conn:
        return dict(conn.execute(select(apscheduler_jobs.c.id, apscheduler_jobs.c.next_run_time)).all())


@pytest.fixture
def leading(fast_app: Flask) -> Iterator[SchedulerEngine]:
    with fast_app.app_context():
        engine = start_engine(fast_app)
        assert wait_until(lambda: engine.is_leader, timeout=10)
        yield engine
        stop_engine(fast_app, timeout=2)


def test_the_engine_leads_and_health_shows_the_lease(leading: SchedulerEngine) -> None:
    status = scheduler_status()
    assert status["scheduler_leader"] is True and status["scheduler_running"] is True
    assert datetime.fromisoformat(status["lease_expires_at"]) > utcnow()
    lease = fresh(SchedulerLease, "scheduler")
    assert lease is not None and lease.holder_id == leading.runner_id


def test_the_health_endpoint_reports_the_leader(fast_app: Flask, leading: SchedulerEngine) -> None:
    body = fast_app.test_client().get("/api/health").get_json()
    assert body["scheduler_leader"] is True and body["scheduler_running"] is True
    assert body["lease_expires_at"] is not None and body["scheduled_jobs_count"] == 0


def test_job_changes_in_this_process_reach_the_job_store_at_once(leading: SchedulerEngine) -> None:
    job = make_job("follow", "0 0 1 1 *", scheduled_since=utcnow())
    jobs_changed([job.id])
    assert wait_until(lambda: job.id in store_times(), timeout=3)
    expected = cron_next("0 0 1 1 *")
    assert store_times()[job.id] == expected.timestamp()
    job.cron_expression = "0 9 * * 1-5"
    db.session.commit()
    jobs_changed([job.id])
    assert wait_until(lambda: store_times().get(job.id) == cron_next("0 9 * * 1-5").timestamp(), timeout=3)
    job.is_active = False
    db.session.commit()
    jobs_changed([job.id])
    assert wait_until(lambda: job.id not in store_times(), timeout=3)
    assert leading.status()["scheduled_jobs_count"] == 0


def test_changes_made_by_another_process_are_noticed_by_polling(leading: SchedulerEngine) -> None:
    job = make_job("elsewhere", "0 0 * * *", scheduled_since=utcnow())  # no jobs_changed: another process wrote it
    assert wait_until(lambda: job.id in store_times(), timeout=4)
    db.session.delete(job)
    db.session.commit()
    assert wait_until(lambda: job.id not in store_times(), timeout=4)


def test_a_due_job_fires_through_apscheduler_with_its_fire_time(leading: SchedulerEngine, receiver: Receiver) -> None:
    job = make_job("fires", "0 0 1 1 *", target_url=receiver.url("/ok"), scheduled_since=utcnow())
    jobs_changed([job.id])
    assert wait_until(lambda: job.id in store_times(), timeout=3)
    fire = (utcnow() + timedelta(milliseconds=500)).replace(microsecond=0) + timedelta(seconds=1)
    assert leading._scheduler is not None
    leading._scheduler.modify_job(job.id, next_run_time=fire)
    [request] = receiver.wait_for(1, timeout=5)
    assert request.headers["X-Cron-Scheduled-For"] == fire.astimezone(leading.zone).isoformat()
    assert 0 <= request.arrived - fire.timestamp() < 1.0
    assert wait_until(lambda: [e.status for e in executions_of(job.id)] == ["success"], timeout=5)
    # The next fire time is the cron's, written back to the store.
    assert wait_until(lambda: store_times()[job.id] == cron_next("0 0 1 1 *").timestamp(), timeout=3)


def test_the_leader_claims_the_next_seconds_ahead_and_moves_the_store_on(leading: SchedulerEngine,
                                                                         receiver: Receiver) -> None:
    job = make_job("ahead", "0 0 1 1 *", target_url=receiver.url("/ok"), scheduled_since=utcnow())
    jobs_changed([job.id])
    assert wait_until(lambda: job.id in store_times(), timeout=3)
    fire = utcnow().replace(microsecond=0) + timedelta(seconds=3)
    assert leading._scheduler is not None
    leading._scheduler.modify_job(job.id, next_run_time=fire)
    # Before the fire time: the run is claimed and the store already points at the next cron time.
    assert wait_until(lambda: [e.status for e in executions_of(job.id)] == ["running"], timeout=3)
    # (the store moves just after the claim commits, so it may take a moment)
    assert wait_until(lambda: store_times()[job.id] == cron_next("0 0 1 1 *").timestamp(), timeout=1)
    assert utcnow() < fire and receiver.received() == []
    [request] = receiver.wait_for(1, timeout=5)
    assert 0 <= request.arrived - fire.timestamp() < 0.5
    assert request.headers["X-Cron-Scheduled-For"] == fire.astimezone(leading.zone).isoformat()
    assert wait_until(lambda: [e.status for e in executions_of(job.id)] == ["success"], timeout=5)


def test_fire_times_passed_while_no_leader_ran_are_recorded_missed(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        since = utcnow() - timedelta(minutes=5)
        job = make_job("gap", "* * * * *", target_url=receiver.url("/ok"), scheduled_since=since)
        engine = start_engine(fast_app)
        try:
            assert wait_until(lambda: engine.is_leader, timeout=10)
            rows = executions_of(job.id)
            bound = utcnow() - timedelta(seconds=30)
            missed = [e for e in rows if e.status == "missed"]
            recorded = [e.scheduled_for for e in missed]
            # The engine's own bound was a moment before ours: a minute mark may fall in between.
            assert recorded in (minute_marks(since, bound), minute_marks(since, bound - timedelta(seconds=3)))
            assert all("no scheduler was running" in (e.error_message or "") for e in missed)
            assert len({e.scheduled_for for e in rows}) == len(rows)
        finally:
            stop_engine(fast_app, timeout=2)


def test_a_dead_leaders_running_rows_end_failed_interrupted(fast_app: Flask) -> None:
    with fast_app.app_context():
        job = make_job("was-running", "0 0 1 1 *", scheduled_since=utcnow())
        db.session.add(SchedulerLease(name="scheduler", holder_id="host:1:dead", acquired_at=utcnow(),
                                      renewed_at=utcnow(), expires_at=utcnow() - timedelta(seconds=1)))
        db.session.add(JobExecution(job_id=job.id, status="running", trigger_type="scheduled",
                                    scheduled_for=utcnow() - timedelta(seconds=5), runner_id="host:1:dead"))
        db.session.add(JobExecution(job_id=job.id, status="running", trigger_type="manual",
                                    runner_id="api:2:alive"))
        db.session.commit()
        engine = start_engine(fast_app)
        try:
            assert wait_until(lambda: engine.is_leader, timeout=10)
            rows = {e.runner_id: e for e in executions_of(job.id)}
            assert rows["host:1:dead"].status == "failed"
            assert "Interrupted: its scheduler process (host:1:dead) stopped" in (rows["host:1:dead"].error_message or "")
            assert rows["api:2:alive"].status == "running"  # another live process's manual run is left alone
        finally:
            stop_engine(fast_app, timeout=2)


def test_stopping_hands_the_lease_over_at_once(fast_app: Flask) -> None:
    with fast_app.app_context():
        engine = start_engine(fast_app)
        assert wait_until(lambda: engine.is_leader, timeout=10)
        stop_engine(fast_app, timeout=1)
        lease = fresh(SchedulerLease, "scheduler")
        assert lease is not None and lease.expires_at <= utcnow()
        assert scheduler_status()["scheduler_leader"] is False


def cron_next(expression: str) -> datetime:
    from src.utils.cron import parse_cron

    nxt = parse_cron(expression).next_run(utcnow(), "Asia/Tokyo")
    assert nxt is not None
    return nxt


def minute_marks(after: datetime, until: datetime) -> list[datetime]:
    first = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    marks = []
    while first <= until:
        marks.append(first)
        first += timedelta(minutes=1)
    return marks




def test_a_dead_leaders_claims_taken_ahead_but_never_started_run_late_or_are_recorded_missed(
        fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        fire = utcnow().replace(second=0, microsecond=0)  # the last minute mark: within the grace or just past it
        job = make_job("claimed-ahead", "* * * * *", target_url=receiver.url("/ok"),
                       scheduled_since=fire - timedelta(minutes=1, seconds=1))
        db.session.add(JobExecution(job_id=job.id, scheduled_for=fire - timedelta(minutes=1), status="success",
                                    trigger_type="scheduled", started_at=fire - timedelta(minutes=1)))
        db.session.add(SchedulerLease(name="scheduler", holder_id="host:1:dead", acquired_at=utcnow(),
                                      renewed_at=utcnow(), expires_at=utcnow() - timedelta(seconds=1)))
        db.session.add(JobExecution(job_id=job.id, status="running", trigger_type="scheduled", scheduled_for=fire,
                                    started_at=fire, runner_id="host:1:dead"))
        db.session.commit()
        engine = start_engine(fast_app)
        try:
            assert wait_until(lambda: engine.is_leader, timeout=10)
            assert wait_until(lambda: [e.status for e in executions_of(job.id) if e.scheduled_for == fire]
                              in (["success"], ["missed"]), timeout=10)
            [row] = [e for e in executions_of(job.id) if e.scheduled_for == fire]
            assert row.runner_id == engine.runner_id
            assert len(receiver.received("/ok")) == (1 if row.status == "success" else 0)
        finally:
            stop_engine(fast_app, timeout=2)
