"""What a new leader repairs before it schedules: runs left `running` by a dead process, and fire times that
passed while no leader ran (recorded as `missed`, never silently dropped).

Missed runs are capped at MAX_MISSED_PER_JOB rows per job and catch-up: the first 999 fire times of the gap get a
row each and the last row is the gap's latest fire time, saying that the ones between were not listed; one
notification per job and catch-up (not one per row) tells the owner.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select, update

from src.models import Job, JobExecution, db
from src.models.base import new_id, utcnow
from src.models.job_execution import STATUS_FAILED, STATUS_MISSED, STATUS_RUNNING, TRIGGER_SCHEDULED
from src.scheduler.db_access import chunks, insert_claims, write_lock
from src.utils.cron import CronError, CronSchedule, parse_cron

log = logging.getLogger(__name__)
MAX_MISSED_PER_JOB = 1000
STALE_MARGIN_SECONDS = 60


def fail_interrupted(*, runner_ids: Iterable[str] | None = None, started_before: datetime | None = None,
                     reason: str) -> int:
    """Mark `running` rows of the given runners (or started before a bound) failed; notify their owners."""
    from src.utils import notifications

    t = JobExecution.__table__
    condition = t.c.status == STATUS_RUNNING
    if runner_ids is not None:
        ids = [r for r in runner_ids if r]
        if not ids:
            return 0
        condition = condition & t.c.runner_id.in_(ids)
    if started_before is not None:
        condition = condition & (t.c.started_at < started_before)
    now = utcnow()
    with db.engine.connect() as conn:
        found = list(conn.scalars(select(t.c.id).where(condition)))
    if not found:
        return 0
    message = f"Interrupted: {reason}; the target may or may not have received the call."
    with write_lock(db.engine), db.engine.begin() as conn:
        for part in chunks(found):
            conn.execute(update(t).where(t.c.id.in_(part), t.c.status == STATUS_RUNNING)
                         .values(status=STATUS_FAILED, completed_at=now, error_message=message))
    for part in chunks(found):
        for execution in db.session.scalars(select(JobExecution).where(JobExecution.id.in_(part))):
            job = db.session.get(Job, execution.job_id)
            if job is not None and execution.status == STATUS_FAILED:
                notifications.broadcast_job_failure(job, execution)
    with write_lock(db.engine):
        db.session.commit()
    log.warning("marked %d interrupted executions failed (%s)", len(found), reason)
    return len(found)


def release_unstarted(runner_ids: Iterable[str]) -> int:
    """Give back the fire times a dead leader claimed ahead but never started (started_at still equals
    scheduled_for): this leader then runs them late within the grace period, or records them missed."""
    ids = [r for r in runner_ids if r]
    if not ids:
        return 0
    t = JobExecution.__table__
    with write_lock(db.engine), db.engine.begin() as conn:
        released = conn.execute(t.delete().where(t.c.status == STATUS_RUNNING, t.c.runner_id.in_(ids),
                                                 t.c.started_at == t.c.scheduled_for)).rowcount
    if released:
        log.warning("gave back %d fire times claimed ahead by a stopped scheduler (%s)", released, ", ".join(ids))
    return released


def fail_stale_runs(now: datetime, timeout_seconds: float) -> int:
    """Any run still `running` well past the call timeout belongs to a process that died."""
    bound = now - timedelta(seconds=timeout_seconds + STALE_MARGIN_SECONDS)
    return fail_interrupted(started_before=bound,
                            reason=f"no result {timeout_seconds + STALE_MARGIN_SECONDS:g} s after it started "
                                   "(the process running it stopped)")


def latest_fire_at_or_before(schedule: CronSchedule, end: datetime, floor: datetime, zone: tzinfo) -> datetime:
    """The last fire time in (floor, end], or `floor` if none, without walking the whole gap."""
    window = timedelta(minutes=2)
    while True:
        start = max(end - window, floor)
        first = schedule.next_run(start, zone)
        if first is not None and first <= end:
            last = first
            while (nxt := schedule.next_run(last, zone)) is not None and nxt <= end:
                last = nxt
            return last
        if start == floor:
            return floor
        window *= 4


def _gap_fire_times(schedule: CronSchedule, since: datetime, end: datetime, zone: tzinfo,
                    end_date: date | None) -> tuple[list[datetime], bool]:
    times = schedule.runs_between(since, end, zone, limit=MAX_MISSED_PER_JOB)
    capped = False
    if len(times) == MAX_MISSED_PER_JOB:
        last = latest_fire_at_or_before(schedule, end, times[-1], zone)
        if last > times[-1]:
            times[-1] = last
            capped = True
    if end_date is not None:
        times = [t for t in times if t.astimezone(zone).date() <= end_date]
    return times, capped


def record_missed_runs(now: datetime, zone: tzinfo, grace_seconds: float, runner: str) -> dict[str, datetime]:
    """Record fire times of active jobs that passed unclaimed before `now - grace` as `missed`.

    Returns, per active job, the instant after which scheduling continues: its latest claimed or recorded fire
    time, or when its schedule started (`scheduled_since`) if later.
    """
    from src.utils import notifications

    end = now - timedelta(seconds=grace_seconds)
    e = JobExecution.__table__
    j = Job.__table__
    with db.engine.connect() as conn:
        last_claimed = dict(conn.execute(
            select(e.c.job_id, func.max(e.c.scheduled_for)).where(e.c.scheduled_for.is_not(None))
            .group_by(e.c.job_id)).all())
        jobs = conn.execute(select(j.c.id, j.c.cron_expression, j.c.scheduled_since, j.c.end_date,
                                   j.c.target_url, j.c.github_repo, j.c.github_workflow_name)
                            .where(j.c.is_active.is_(True))).all()
    resume: dict[str, datetime] = {}
    rows: list[dict[str, Any]] = []
    latest_row: dict[str, str] = {}
    for job in jobs:
        since = job.scheduled_since
        claimed = last_claimed.get(job.id)
        if claimed is not None and claimed > since:
            since = claimed
        resume[job.id] = since
        if since >= end:
            continue
        try:
            schedule = parse_cron(job.cron_expression)
        except CronError:
            continue
        times, capped = _gap_fire_times(schedule, since, end, zone, job.end_date)
        if not times:
            continue
        kind = "github_actions" if job.github_repo and job.github_workflow_name else "webhook"
        for index, fire_time in enumerate(times):
            last = index == len(times) - 1
            message = "Missed: no scheduler was running (or leading) at this fire time."
            if last and capped:
                message += (f" More fire times between {times[-2].isoformat()} and this one were missed too; only "
                            f"{MAX_MISSED_PER_JOB} are listed per job.")
            row_id = new_id()
            rows.append({"id": row_id, "job_id": job.id, "status": STATUS_MISSED, "trigger_type": TRIGGER_SCHEDULED,
                         "scheduled_for": fire_time, "started_at": now, "completed_at": now,
                         "execution_type": kind, "error_message": message, "runner_id": runner})
        latest_row[job.id] = rows[-1]["id"]
        resume[job.id] = max(since, times[-1])
    inserted = insert_claims(db.engine, rows)
    notify_ids = [row_id for row_id in latest_row.values() if row_id in inserted]
    for part in chunks(notify_ids):
        for execution in db.session.scalars(select(JobExecution).where(JobExecution.id.in_(part))):
            job_obj = db.session.get(Job, execution.job_id)
            if job_obj is not None:
                notifications.broadcast_job_missed(job_obj, execution)
    with write_lock(db.engine):
        db.session.commit()
    if inserted:
        log.warning("recorded %d missed fire times of %d jobs", len(inserted), len(latest_row))
    return resume
