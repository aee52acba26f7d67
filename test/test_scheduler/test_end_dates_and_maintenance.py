"""End dates (paused the day after, warnings before) and the once-a-day maintenance task, with a fixed `now`."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from src.models import Job, JobExecution, Notification, db
from src.services.end_date_maintenance import (claim_daily_run, pause_expired_jobs, run_daily_maintenance,
                                               send_end_date_warnings)
from src.services.executions import purge_old_executions
from test.test_scheduler.conftest import NOW, executions_of, fresh, make_job, make_owner

TODAY = date(2026, 11, 26)  # NOW in Asia/Tokyo


def notifications_about(job_id: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.related_job_id == job_id)))


def test_a_job_runs_through_its_end_date_and_is_paused_the_day_after(ctx: object) -> None:
    owner = make_owner()
    ends_today = make_job("ends-today", end_date=TODAY, created_by=owner)
    ended = make_job("ended", end_date=TODAY - timedelta(days=1), created_by=owner)
    assert pause_expired_jobs(NOW) == [ended.id]
    assert fresh(Job, ended.id).is_active is False
    assert fresh(Job, ends_today.id).is_active is True
    [notice] = notifications_about(ended.id)
    assert notice.type == "warning" and "auto-paused" in notice.title
    assert pause_expired_jobs(NOW) == []  # idempotent


def test_owners_are_warned_the_configured_days_before_and_on_the_last_day(ctx: object) -> None:
    owner = make_owner()
    in_seven = make_job("in-seven", end_date=TODAY + timedelta(days=7), created_by=owner)
    tomorrow = make_job("tomorrow", end_date=TODAY + timedelta(days=1), created_by=owner)
    in_three = make_job("in-three", end_date=TODAY + timedelta(days=3), created_by=owner)
    assert send_end_date_warnings(NOW, 7) == 2
    assert "in 7 days" in notifications_about(in_seven.id)[0].title
    assert "in 1 day" in notifications_about(tomorrow.id)[0].title
    assert notifications_about(in_three.id) == []


def test_the_daily_task_is_claimed_once_per_local_day(ctx: object) -> None:
    assert claim_daily_run(NOW, "a") is True
    assert claim_daily_run(NOW + timedelta(hours=5), "b") is False
    # NOW is 10:00 JST: the next claim is possible from local midnight (15:00 UTC).
    assert claim_daily_run(NOW + timedelta(hours=13, minutes=59), "b") is False
    assert claim_daily_run(NOW + timedelta(hours=14, minutes=1), "b") is True


def test_old_finished_executions_are_purged_and_running_ones_kept(ctx: object) -> None:
    job = make_job("history")
    old = NOW - timedelta(days=91)
    db.session.add_all([
        JobExecution(job_id=job.id, status="success", trigger_type="scheduled", scheduled_for=old, started_at=old),
        JobExecution(job_id=job.id, status="running", trigger_type="manual", started_at=old),
        JobExecution(job_id=job.id, status="failed", trigger_type="manual", started_at=NOW - timedelta(days=89)),
    ])
    db.session.commit()
    assert purge_old_executions(NOW, 90) == 1
    assert sorted(e.status for e in executions_of(job.id)) == ["failed", "running"]


def test_the_daily_maintenance_runs_every_step(ctx: object) -> None:
    owner = make_owner()
    ended = make_job("ended", end_date=TODAY - timedelta(days=2), created_by=owner)
    make_job("warned", end_date=TODAY + timedelta(days=7), created_by=owner)
    report = run_daily_maintenance(NOW)
    assert report["auto_paused"] == 1 and report["end_date_warnings"] == 1
    assert report["executions_purged"] == 0
    assert all(value >= 0 for value in report.values()), report
    assert fresh(Job, ended.id).is_active is False
