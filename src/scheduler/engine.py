"""The scheduling engine of one process: lease keeping, APScheduler while leading, reconciliation, maintenance.

Threads: the lease thread renews (leader) or tries to take (standby) the lease; the coordinator thread starts
APScheduler when the lease is won and stops it when lost, reconciles the job store with the jobs table (on
`jobs_changed` in this process at once, and by polling a cheap count/max(updated_at) every second for changes
made by other processes), and runs maintenance; the prepare thread, while leading, hands the fire times of the
next seconds to the dispatcher to claim ahead. APScheduler runs only in the leading process; its due runs go to
the dispatcher, which claims each fire time in the database before calling.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import bindparam, delete, func, select, update

from src.models import Job, apscheduler_jobs, db
from src.models.base import utcnow
from src.scheduler.db_access import chunks, runner_id, write_lock
from src.scheduler.dispatch import MAX_INSTANCES_REASON, PREPARE_AHEAD_SECONDS, Dispatcher, get_dispatcher
from src.scheduler.leader import LeaderLease
from src.scheduler.recovery import fail_interrupted, fail_stale_runs, record_missed_runs, release_unstarted
from src.scheduler.store import MAX_INSTANCES, BatchingJobStore, ClaimingExecutor, job_state_row
from src.scheduler.trigger import VixieCronTrigger
from src.utils import metrics
from src.utils.cron import CronError

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0
STANDBY_RETRY_SECONDS = 1.0
MAINTENANCE_SECONDS = 30.0
PREPARE_POLL_SECONDS = 0.25
INSERT_CHUNK = 5000


def run_scheduled_job(job_id: str) -> None:
    """The callable named in every job store row. The engine's executor never calls it (it needs the fire time,
    which APScheduler does not pass); it exists so rows unpickle and stay meaningful to APScheduler tools."""
    engine = current_engine()
    if engine is not None:
        engine.dispatcher.submit_due(job_id, utcnow())


class SchedulerEngine:
    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        self.zone = ZoneInfo(config["SCHEDULER_TIMEZONE"])
        self.timezone_name = config["SCHEDULER_TIMEZONE"]
        self.grace = int(config["SCHEDULER_MISFIRE_GRACE_SECONDS"])
        self.timeout = float(config["WEBHOOK_TIMEOUT_SECONDS"])
        self.runner_id = runner_id()
        self.dispatcher: Dispatcher = get_dispatcher(app)
        with app.app_context():
            self.engine = db.engine
        self.write_lock = write_lock(self.engine)
        self.lease = LeaderLease(self.engine, self.runner_id, int(config["SCHEDULER_LEASE_SECONDS"]),
                                 self.write_lock)
        self._held = False
        self._previous_holder: str | None = None
        self._scheduler: BackgroundScheduler | None = None
        self._known: dict[str, str] = {}
        self._marker: tuple[Any, ...] | None = None
        self._lease_seen: datetime | None = None
        self._changed = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_maintenance = 0.0
        self._threads = [threading.Thread(target=self._lease_loop, name="cron-lease", daemon=True),
                         threading.Thread(target=self._coordinate_loop, name="cron-coordinator", daemon=True),
                         threading.Thread(target=self._prepare_loop, name="cron-prepare", daemon=True)]

    # ----- public
    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop scheduling, let running calls finish (bounded), record them, and hand the lease over at once."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._stop_scheduler()
        bound = timeout if timeout is not None else min(self.timeout, 30.0)
        self.dispatcher.shutdown(bound)
        if self._held:
            try:
                self.lease.release()
            except Exception:
                log.exception("releasing the scheduler lease failed; it expires by itself")
            self._held = False

    def notify_changed(self) -> None:
        self._changed.set()
        self._wake.set()

    @property
    def is_leader(self) -> bool:
        return self._held and self._scheduler is not None

    def status(self) -> dict[str, Any]:
        leader = self.is_leader
        expiry = self.lease.expires_at if self._held else self._lease_seen
        return {
            "scheduler_running": bool(self._scheduler is not None and self._scheduler.running),
            "scheduled_jobs_count": len(self._known) if leader else 0,
            "scheduler_leader": leader,
            "lease_expires_at": expiry.isoformat() if expiry else None,
        }

    # ----- lease thread
    def _lease_loop(self) -> None:
        renew_every = max(1.0, self.lease.seconds / 3)
        while not self._stop.is_set():
            try:
                if self._held:
                    if not self.lease.renew():
                        log.warning("scheduler lease lost; stopping scheduling in this process")
                        self._held = False
                        self._wake.set()
                else:
                    state = self.lease.try_acquire()
                    self._lease_seen = state.expires_at
                    if state.held:
                        log.info("scheduler lease acquired by %s", self.runner_id)
                        self._previous_holder = state.previous_holder
                        self._held = True
                        self._wake.set()
            except Exception:
                log.exception("scheduler lease check failed")
                if self._held and (self.lease.expires_at is None or utcnow() >= self.lease.expires_at):
                    self._held = False
                    self._wake.set()
            self._stop.wait(renew_every if self._held else STANDBY_RETRY_SECONDS)

    # ----- coordinator thread
    def _coordinate_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(POLL_SECONDS)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                with self.app.app_context():
                    if self._held and self._scheduler is None:
                        self._become_leader()
                    elif not self._held and self._scheduler is not None:
                        self._stop_scheduler()
                    if self._scheduler is not None:
                        self._reconcile_if_changed()
                        self._maintain()
                    db.session.remove()
            except Exception:
                log.exception("scheduler coordination step failed; retrying")

    # ----- prepare thread
    def _prepare_loop(self) -> None:
        while not self._stop.is_set():
            if self.is_leader:
                try:
                    self._advance(self.dispatcher.prepare(self._upcoming()))
                except Exception:
                    log.exception("claiming upcoming fire times ahead failed; they are claimed when due")
            self._stop.wait(PREPARE_POLL_SECONDS)

    def _upcoming(self) -> list[tuple[str, datetime]]:
        """(job id, fire time) of the job store's fire times in the next PREPARE_AHEAD_SECONDS."""
        now = utcnow().timestamp()
        column = apscheduler_jobs.c.next_run_time
        with self.engine.connect() as conn:
            rows = conn.execute(select(apscheduler_jobs.c.id, column)
                                .where(column > now, column <= now + PREPARE_AHEAD_SECONDS)).all()
        # In the scheduler's zone, as APScheduler hands fire times over (X-Cron-Scheduled-For shows that offset).
        return [(job_id, datetime.fromtimestamp(when, self.zone)) for job_id, when in rows]

    def _advance(self, prepared: list[tuple[str, datetime]]) -> None:
        """Move the job store past fire times claimed ahead, as APScheduler would after firing them, so at the
        fire time APScheduler has nothing left to do and the calls have the interpreter to themselves. The
        update only applies while the row still points at that fire time."""
        scheduler = self._scheduler
        if not prepared or scheduler is None:
            return
        rows = []
        for job_id, when in prepared:
            trigger = self._trigger(job_id, self._known[job_id]) if job_id in self._known else None
            if trigger is None:
                continue
            state = job_state_row(job_id, trigger, trigger.get_next_fire_time(when, when), self.grace)
            rows.append({"b_id": job_id, "b_when": when.timestamp(), "b_next": state["next_run_time"],
                         "b_state": state["job_state"]})
        table = apscheduler_jobs
        statement = (update(table).where(table.c.id == bindparam("b_id"), table.c.next_run_time == bindparam("b_when"))
                     .values(next_run_time=bindparam("b_next"), job_state=bindparam("b_state")))
        with scheduler._jobstores_lock, self.write_lock, self.engine.begin() as conn:
            for part in chunks(rows):
                conn.execute(statement, part)

    def _become_leader(self) -> None:
        started = utcnow()
        previous, self._previous_holder = self._previous_holder, None
        if previous and previous != self.runner_id:
            release_unstarted([previous])
            fail_interrupted(runner_ids=[previous], reason=f"its scheduler process ({previous}) stopped")
        fail_stale_runs(started, self.timeout)
        self._marker = self._read_marker()
        resume = record_missed_runs(started, self.zone, self.grace, self.runner_id)
        self._rebuild(resume)
        if not self._held:
            return
        scheduler = BackgroundScheduler(
            jobstores={"default": BatchingJobStore(self.engine, on_broken=self._forget)},
            executors={"default": ClaimingExecutor(self.dispatcher.submit_due)},
            job_defaults={"coalesce": False, "max_instances": MAX_INSTANCES, "misfire_grace_time": self.grace},
            timezone=self.zone, daemon=True)
        scheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
        scheduler.start()
        self._scheduler = scheduler
        self._last_maintenance = 0.0
        metrics.set_scheduler_state(True, len(self._known))
        log.info("scheduling %d jobs (leader %s, ready in %.2f s)", len(self._known), self.runner_id,
                 (utcnow() - started).total_seconds())

    def _stop_scheduler(self) -> None:
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            try:
                scheduler.shutdown(wait=False)
            except Exception:
                log.exception("stopping APScheduler failed")
        self._known.clear()
        metrics.set_scheduler_state(False, 0)

    def _on_max_instances(self, event: JobSubmissionEvent) -> None:
        for run_time in event.scheduled_run_times:
            self.dispatcher.submit_due(event.job_id, run_time, missed_reason=MAX_INSTANCES_REASON)

    def _forget(self, job_ids: set[str]) -> None:
        for job_id in job_ids:
            self._known.pop(job_id, None)
        self.notify_changed()

    # ----- reconciliation
    def _read_marker(self) -> tuple[Any, ...]:
        with self.engine.connect() as conn:
            return tuple(conn.execute(select(func.count(Job.id), func.max(Job.updated_at))).one())

    def _desired(self) -> list[Any]:
        with self.engine.connect() as conn:
            return conn.execute(select(Job.id, Job.cron_expression).where(Job.is_active.is_(True))).all()

    def _trigger(self, job_id: str, expression: str) -> VixieCronTrigger | None:
        try:
            return VixieCronTrigger(expression, self.timezone_name)
        except CronError as exc:
            log.error("job %s has an invalid cron expression %r and is not scheduled: %s", job_id, expression, exc)
            return None

    def _rebuild(self, resume: dict[str, datetime]) -> None:
        """Replace the whole job store with the active jobs (one transaction, no unpickling)."""
        now = utcnow()
        floor = now - timedelta(seconds=self.grace)
        rows = []
        known: dict[str, str] = {}
        for job_id, expression in self._desired():
            known[job_id] = expression
            trigger = self._trigger(job_id, expression)
            if trigger is None:
                continue
            after = max(resume.get(job_id, now), floor)
            rows.append(job_state_row(job_id, trigger, trigger.get_next_fire_time(after, now), self.grace))
        with self.write_lock, self.engine.begin() as conn:
            conn.execute(delete(apscheduler_jobs))
            for part in chunks(rows, INSERT_CHUNK):
                conn.execute(apscheduler_jobs.insert(), part)
        self._known = known

    def _reconcile_if_changed(self) -> None:
        forced = self._changed.is_set()
        self._changed.clear()
        marker = self._read_marker()
        if not forced and marker == self._marker:
            return
        self._marker = marker
        self.reconcile()

    def reconcile(self) -> None:
        """Bring the job store in line with the jobs table: add missing, remove stale, replace changed."""
        scheduler = self._scheduler
        if scheduler is None:
            return
        desired = {job_id: expression for job_id, expression in self._desired()}
        stale = [job_id for job_id in self._known if job_id not in desired]
        changed = [job_id for job_id, expression in desired.items() if self._known.get(job_id) != expression]
        if not stale and not changed:
            return
        now = utcnow()
        rows = []
        for job_id in changed:
            trigger = self._trigger(job_id, desired[job_id])
            if trigger is not None:
                rows.append(job_state_row(job_id, trigger, trigger.get_next_fire_time(None, now), self.grace))
        with scheduler._jobstores_lock, self.write_lock, self.engine.begin() as conn:
            for part in chunks(stale + changed):
                conn.execute(delete(apscheduler_jobs).where(apscheduler_jobs.c.id.in_(part)))
            for part in chunks(rows, INSERT_CHUNK):
                conn.execute(apscheduler_jobs.insert(), part)
        for job_id in stale:
            self._known.pop(job_id, None)
        for job_id in changed:
            # An invalid expression is remembered too, so it is reported once, not on every poll.
            self._known[job_id] = desired[job_id]
        scheduler.wakeup()
        metrics.set_scheduler_state(True, len(self._known))
        log.info("job store reconciled: %d added or replaced, %d removed", len(rows), len(stale))

    # ----- maintenance
    def _maintain(self) -> None:
        import time

        if time.monotonic() - self._last_maintenance < MAINTENANCE_SECONDS:
            return
        self._last_maintenance = time.monotonic()
        now = utcnow()
        fail_stale_runs(now, self.timeout)
        from src.services.end_date_maintenance import run_daily_maintenance_if_due

        run_daily_maintenance_if_due(now, self.runner_id)


_engines: dict[int, SchedulerEngine] = {}
_engines_lock = threading.Lock()


def start_engine(app: Flask) -> SchedulerEngine:
    """Start scheduling for `app` in this process (idempotent)."""
    with _engines_lock:
        engine = _engines.get(id(app))
        if engine is None:
            engine = SchedulerEngine(app)
            _engines[id(app)] = engine
            app.extensions["cron_engine"] = engine
            engine.start()
        return engine


def stop_engine(app: Flask, timeout: float | None = None) -> None:
    with _engines_lock:
        engine = _engines.pop(id(app), None)
        app.extensions.pop("cron_engine", None)
    if engine is not None:
        engine.stop(timeout)


def current_engine() -> SchedulerEngine | None:
    from flask import current_app, has_app_context

    if has_app_context():
        return current_app.extensions.get("cron_engine")
    with _engines_lock:
        return next(iter(_engines.values()), None)
