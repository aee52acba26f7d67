"""End dates (specification phase 15) and the daily maintenance task the scheduling leader runs.

A job runs through its `end_date` (inclusive, in the scheduler's time zone) and is paused from the day after:
at execution time by the dispatcher, and by the daily task for jobs that would not fire soon. Owners are warned
`END_DATE_WARNING_DAYS` days before, and once more on the last day before it (days_left 1) when the window is longer.
The daily task is claimed once per local day through a marker row in `scheduler_leases`, so a leader change does
not run it twice.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from src.models import Job, SchedulerLease, db
from src.scheduler.db_access import write_lock
from src.services.job_schedule import jobs_changed
from src.utils import notifications

log = logging.getLogger(__name__)
DAILY_MARKER = "daily-maintenance"


def scheduler_today(now: datetime) -> date:
    return now.astimezone(ZoneInfo(current_app.config["SCHEDULER_TIMEZONE"])).date()


def is_expired(job: Job, now: datetime) -> bool:
    return job.end_date is not None and job.end_date < scheduler_today(now)


def pause_expired_jobs(now: datetime, job_ids: Iterable[str] | None = None) -> list[str]:
    """Pause active jobs whose end_date has passed (all, or among `job_ids`); notify; return their ids."""
    query = select(Job).where(Job.is_active.is_(True), Job.end_date.is_not(None),
                              Job.end_date < scheduler_today(now))
    if job_ids is not None:
        query = query.where(Job.id.in_(list(job_ids)))
    paused = []
    for job in db.session.scalars(query):
        job.is_active = False
        notifications.broadcast_job_auto_paused(job)
        paused.append(job.id)
    with write_lock(db.engine):
        db.session.commit()
    if paused:
        log.info("auto-paused %d jobs past their end date", len(paused))
        jobs_changed(paused)
    return paused


def send_end_date_warnings(now: datetime, warning_days: int) -> int:
    """Warn owners of active jobs ending in `warning_days` days (and, if that is more than 1, in 1 day)."""
    today = scheduler_today(now)
    days = {warning_days, 1} if warning_days > 1 else {warning_days}
    dates = [today + timedelta(days=d) for d in sorted(days)]
    jobs = db.session.scalars(select(Job).where(Job.is_active.is_(True), Job.end_date.in_(dates))).all()
    for job in jobs:
        assert job.end_date is not None
        notifications.broadcast_job_end_date_warning(job, (job.end_date - today).days)
    with write_lock(db.engine):
        db.session.commit()
    return len(jobs)


def run_daily_maintenance(now: datetime) -> dict[str, int]:
    """End dates, execution retention, notification retention and the digests; each step on its own."""
    from src.services.digests import send_daily_digests, send_weekly_reports
    from src.services.executions import purge_old_executions
    from src.services.notifications import prune_read_notifications

    config = current_app.config
    steps = {
        "auto_paused": lambda: len(pause_expired_jobs(now)),
        "end_date_warnings": lambda: send_end_date_warnings(now, int(config["END_DATE_WARNING_DAYS"])),
        "executions_purged": lambda: purge_old_executions(now, int(config["EXECUTION_RETENTION_DAYS"])),
        "notifications_pruned": lambda: sum(prune_read_notifications(
            now, int(config["NOTIFICATION_RETENTION_DAYS"])).values()),
        "daily_digests": lambda: send_daily_digests(now),
        "weekly_reports": lambda: send_weekly_reports(now),
    }
    report: dict[str, int] = {}
    for name, step in steps.items():
        try:
            report[name] = int(step())
        except Exception:
            db.session.rollback()
            log.exception("daily maintenance step %s failed", name)
            report[name] = -1
    log.info("daily maintenance: %s", report)
    return report


def claim_daily_run(now: datetime, holder: str) -> bool:
    """True once per local day across all processes (a conditional UPDATE on the marker row)."""
    zone = ZoneInfo(current_app.config["SCHEDULER_TIMEZONE"])
    next_midnight = datetime.combine(scheduler_today(now) + timedelta(days=1), time(0), zone)
    t = SchedulerLease.__table__
    with write_lock(db.engine), db.engine.begin() as conn:
        exists = conn.execute(select(t.c.name).where(t.c.name == DAILY_MARKER)).first()
        if exists is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(t).values(name=DAILY_MARKER, holder_id=holder, acquired_at=now,
                                                  renewed_at=now, expires_at=next_midnight))
                return True
            except IntegrityError:
                return False
        result = conn.execute(update(t).where(t.c.name == DAILY_MARKER, t.c.expires_at <= now)
                              .values(holder_id=holder, acquired_at=now, renewed_at=now, expires_at=next_midnight))
        return result.rowcount == 1


def run_daily_maintenance_if_due(now: datetime, holder: str) -> dict[str, int] | None:
    if not claim_daily_run(now, holder):
        return None
    return run_daily_maintenance(now)
