"""From a due fire time to a finished execution row, with as little between them as possible.

APScheduler hands due runs to `ClaimingExecutor`, which only queues them. One claimer thread takes everything
queued at that moment, reads the jobs in one query and inserts all claims in one transaction (the unique
(job_id, scheduled_for) decides who runs), then hands the claimed calls to a bounded thread pool. Worker threads
only make HTTP calls; one completer thread writes results in batches and adds notifications, so a slow database
or notification never delays the next call. Manual runs use the same pool and completer.

Fire times about to come (within `PREPARE_AHEAD_SECONDS`, read from the job store by the engine) are claimed
ahead by `prepare`; about a second before the instant their connections are opened and their requests serialised,
so at the fire time one thread only writes bytes to open sockets (~15 us a call): 1,000 jobs due at the same
instant reach their targets within tens of milliseconds, and the pool reads the answers afterwards. A call whose
connection could not be opened ahead runs the ordinary way at its time. The engine moves the job store past
prepared fire times; should APScheduler still hand one over, it is already claimed and nothing more happens. A
job paused or deleted inside that short window still runs that once.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select, update

from src.models import Job, JobExecution, db
from src.models.base import new_id, utcnow
from src.models.job_execution import (STATUS_MISSED, STATUS_RUNNING, TRIGGER_SCHEDULED)
from src.scheduler import http_client
from src.scheduler.db_access import chunks, insert_claims, runner_id, write_lock
from src.scheduler.job_executor import (CallResult, CallSettings, PreparedCall, Target, call_target,
                                        discard_prepared, finish_prepared, send_prepared)
from src.scheduler.preopen import OPEN_AHEAD_SECONDS, Opener
from src.scheduler.recorder import Recorder, drain
from src.scheduler.runs import DB_ATTEMPTS, Claim, DueRun, FinishedRun, target_of, with_retries
from src.scheduler.store import MAX_INSTANCES
from src.utils import metrics

log = logging.getLogger(__name__)
CLAIM_CHUNK = 100
PREPARE_AHEAD_SECONDS = 2.0
PREPARED_MEMORY = timedelta(minutes=10)
ONE_MICROSECOND = timedelta(microseconds=1)
# A prepared burst is marked started this long before its fire time (the write takes ~25-75 ms for 1,000 runs);
# a leader dying inside that window leaves runs that end "interrupted" rather than run late.
MARK_STARTED_AHEAD_SECONDS = 0.15
MAX_INSTANCES_REASON = (f"Missed: {MAX_INSTANCES} earlier runs of this job were still running, so this one was "
                        "skipped (max_instances).")


class Dispatcher:
    """Claims, calls and records runs for one app in this process (see the module docstring)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        self.settings = CallSettings.from_config(config)
        self.grace = float(config["SCHEDULER_MISFIRE_GRACE_SECONDS"])
        self.zone = ZoneInfo(config["SCHEDULER_TIMEZONE"])
        self.runner_id = runner_id()
        with app.app_context():
            self.engine = db.engine
        self.write_lock = write_lock(self.engine)
        self._due: queue.SimpleQueue[DueRun | None] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(max_workers=int(config["SCHEDULER_MAX_WORKERS"]),
                                        thread_name_prefix="cron-call")
        self._opener = Opener(self.settings)
        self._inflight = 0
        self._queued = 0  # handed over by APScheduler, not yet claimed
        self._calling = 0  # calls in progress: result writing waits for a burst to end
        self._calling_lock = threading.Lock()
        # Fire times claimed ahead: the key until APScheduler hands it over, the claims until their instant.
        self._prepared: dict[tuple[str, datetime], Claim] = {}
        self._prepared_lock = threading.Lock()
        self._running_per_job: dict[str, int] = {}
        self._idle = threading.Condition()
        self._closed = False
        self._claimer = threading.Thread(target=self._claim_loop, name="cron-claimer", daemon=True)
        self._recorder = Recorder(app, self.engine, self.write_lock, self._busy, self._recorded)
        self._claimer.start()

    # ----- entry points
    def submit_due(self, job_id: str, scheduled_for: datetime, on_done: Callable[[], None] | None = None,
                   missed_reason: str | None = None) -> None:
        """Queue a fire time for claiming (never blocks the scheduler's thread)."""
        with self._idle:
            self._queued += 1
        self._due.put(DueRun(job_id, scheduled_for, on_done, missed_reason))

    def prepare(self, upcoming: list[tuple[str, datetime]]) -> list[tuple[str, datetime]]:
        """Claim fire times that come within seconds and start their calls exactly at the fire time; return the
        (job id, fire time) pairs claimed now.

        A job that already has MAX_INSTANCES calls running is left to the normal path, which applies the limit.
        """
        now = utcnow()
        with self._prepared_lock:
            # Keys go in roughly by fire time: drop the old ones from the front instead of scanning them all.
            while self._prepared and next(iter(self._prepared))[1] < now - PREPARED_MEMORY:
                del self._prepared[next(iter(self._prepared))]
            fresh = [DueRun(job_id, when) for job_id, when in upcoming
                     if (job_id, when) not in self._prepared and when > now
                     and self._running_per_job.get(job_id, 0) < MAX_INSTANCES]
        if not fresh or self._closed:
            return []
        claims: dict[datetime, list[Claim]] = {}
        for part in chunks(fresh, CLAIM_CHUNK):
            for claim in self._claim_chunk(part):  # scheduled claims always carry their fire time
                claims.setdefault(cast(datetime, claim.scheduled_for), []).append(claim)
        with self._prepared_lock:
            for when, group in claims.items():
                for claim in group:
                    self._prepared[(claim.job_id, when)] = claim
        for when, group in claims.items():
            delay = (when - utcnow()).total_seconds() - OPEN_AHEAD_SECONDS
            timer = threading.Timer(max(0.0, delay), self._release, args=(when, group))
            timer.daemon = True
            timer.start()
        return [(claim.job_id, when) for when, group in claims.items() for claim in group]

    def _release(self, when: datetime, group: list[Claim]) -> None:
        """Before the fire time: open the calls' connections, then mark the claims started in the database (a new
        leader gives unstarted claims of a dead one back, so they run late instead of being lost). At the fire time
        send every opened call in one tight loop; the answers, and the calls not opened ahead, go to the pool."""
        opened = self._opener.open(group, (when - utcnow()).total_seconds() - MARK_STARTED_AHEAD_SECONDS)
        started = max(utcnow(), when + ONE_MICROSECOND)  # != scheduled_for: the call is on its way
        try:
            live = with_retries(lambda: self._mark_started([claim.execution_id for claim in group], started))
        except Exception:
            log.exception("marking %d runs due at %s started failed; they did not run", len(group), when)
            live = set()
        while (wait := (when - utcnow()).total_seconds()) > 0:  # never early, whatever the sleep's precision
            time.sleep(wait)
        calls: list[tuple[Claim, PreparedCall | None]] = []
        for claim in group:
            call = opened.pop(claim.execution_id, None)
            if claim.execution_id not in live:
                if call is not None:
                    discard_prepared(call)
                continue
            if call is not None and send_prepared(call):
                claim.started_at = utcnow()
                calls.append((claim, call))
            else:
                calls.append((claim, None))
        for claim, call in calls:
            self._start(claim, call)
        for claim in group:
            if claim.execution_id not in live:  # given back by a new leader, or the database was unavailable
                self._hand_back(claim)

    def _mark_started(self, ids: list[str], started: datetime) -> set[str]:
        table = JobExecution.__table__
        live: set[str] = set()
        with self.write_lock, self.engine.begin() as conn:
            for part in chunks(ids):
                conn.execute(update(table).where(table.c.id.in_(part), table.c.status == STATUS_RUNNING)
                             .values(started_at=started))
                live.update(conn.scalars(select(table.c.id).where(table.c.id.in_(part),
                                                                  table.c.started_at == started)))
        return live

    def run_claimed(self, claim: Claim) -> None:
        """Make the call of an already inserted execution row (manual runs) in the bounded pool."""
        self._start(claim)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every started call is recorded (tests, graceful shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._inflight == 0 and self._queued == 0, timeout)

    def shutdown(self, timeout: float) -> None:
        """Let running calls finish up to `timeout`, record them, and mark what is still running as interrupted."""
        if self._closed:
            return
        self._closed = True
        self._recorder.hurry()
        self._due.put(None)
        self._claimer.join(timeout=5)
        finished = self.wait_idle(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._opener.shutdown()
        self._recorder.close(timeout=10)
        http_client.pool.clear()
        if not finished:
            from src.scheduler.recovery import fail_interrupted

            with self.app.app_context():
                fail_interrupted(runner_ids=[self.runner_id], reason="the process shut down before the call ended")

    # ----- claiming
    def _claim_loop(self) -> None:
        while True:
            first = self._due.get()
            if first is None:
                return
            batch = drain(self._due, first)
            try:
                self._claim_batch(batch)
            except Exception:
                log.exception("claiming %d due runs failed after %d attempts (database unavailable); they did not run",
                              len(batch), DB_ATTEMPTS)
                for due in batch:
                    self._finish_due(due)
            with self._idle:
                self._queued -= len(batch)  # after their calls counted as in flight: no idle gap between
                self._idle.notify_all()

    def _claim_batch(self, batch: list[DueRun]) -> None:
        # Claim in small chunks and start each chunk's calls at once: the first calls go out after one short
        # transaction instead of after the whole burst is claimed.
        batch = self._limit_instances([due for due in batch if not self._take_prepared(due)])
        for part in chunks(batch, CLAIM_CHUNK):
            for claim in self._claim_chunk(part):
                self._start(claim)

    def _limit_instances(self, batch: list[DueRun]) -> list[DueRun]:
        """Apply max_instances over every run of the job in this process, this batch's included (APScheduler
        counts only the runs it handed over itself)."""
        with self._prepared_lock:
            counts = dict(self._running_per_job)
        for due in batch:
            if due.missed_reason is not None:
                continue
            if counts.get(due.job_id, 0) >= MAX_INSTANCES:
                due.missed_reason = MAX_INSTANCES_REASON
            else:
                counts[due.job_id] = counts.get(due.job_id, 0) + 1
        return batch

    def _take_prepared(self, due: DueRun) -> bool:
        """A fire time claimed ahead: hand APScheduler's completion callback to that run."""
        with self._prepared_lock:
            claim = self._prepared.pop((due.job_id, due.scheduled_for), None)
            if claim is None:
                return False
            finished = claim.on_done is not None  # set to a no-op marker when the call already ended
            if not finished:
                claim.on_done = due.on_done
        if finished:
            self._finish_due(due)
        return True

    def _claim_chunk(self, batch: list[DueRun]) -> list[Claim]:
        """Insert the claims of `batch`; the claims this process won and must call (missed ones are recorded)."""
        now = utcnow()
        today = now.astimezone(self.zone).date()
        t = Job.__table__

        def load_jobs() -> dict[str, Any]:
            with self.engine.connect() as conn:
                return {row.id: row for row in conn.execute(
                    select(t).where(t.c.id.in_(list({due.job_id for due in batch}))))}

        jobs = with_retries(load_jobs)
        rows: list[dict[str, Any]] = []
        plans: list[tuple[DueRun, dict[str, Any], Target]] = []
        expired: list[str] = []
        for due in batch:
            job = jobs.get(due.job_id)
            if job is None or not job.is_active:
                self._finish_due(due)
                continue
            if job.end_date is not None and job.end_date < today:
                expired.append(job.id)
                self._finish_due(due)
                continue
            target = target_of(job, self.settings.default_github_owner)
            # A claim taken ahead keeps started_at == scheduled_for until its call starts (see _release).
            row = {"id": new_id(), "job_id": job.id, "trigger_type": TRIGGER_SCHEDULED,
                   "scheduled_for": due.scheduled_for, "started_at": max(now, due.scheduled_for),
                   "execution_type": target.execution_type,
                   "target": target.description, "runner_id": self.runner_id, "status": STATUS_RUNNING,
                   "completed_at": None, "error_message": None}
            lag = (now - due.scheduled_for).total_seconds()
            reason = due.missed_reason or (
                f"Missed: the scheduler reached this fire time {lag:.1f} s late, beyond the "
                f"{self.grace:g} s grace period." if lag > self.grace else None)
            if reason:
                row.update(status=STATUS_MISSED, completed_at=now, error_message=reason)
            rows.append(row)
            plans.append((due, row, target))
        # Idempotent: a retry after a commit whose answer was lost finds its own rows by id.
        claimed = with_retries(lambda: insert_claims(self.engine, rows))
        missed: list[str] = []
        won: list[Claim] = []
        for due, row, target in plans:
            if row["id"] not in claimed:
                self._finish_due(due)
            elif row["status"] == STATUS_MISSED:
                missed.append(row["id"])
                metrics.observe_execution(STATUS_MISSED, row["execution_type"], None)
                self._finish_due(due)
            else:
                won.append(Claim(row["id"], row["job_id"], TRIGGER_SCHEDULED, target, row["started_at"],
                                 due.scheduled_for, due.on_done))
        if missed:
            self._recorder.put(("missed", missed))
        if expired:
            self._pause_expired(expired)
        return won

    def _finish_due(self, due: DueRun) -> None:
        if due.on_done is not None:
            due.on_done()

    def _pause_expired(self, job_ids: list[str]) -> None:
        from src.services.end_date_maintenance import pause_expired_jobs

        with self.app.app_context():
            pause_expired_jobs(utcnow(), job_ids=job_ids)  # tells the engine (jobs_changed) to drop them

    # ----- calling
    def _start(self, claim: Claim, call: PreparedCall | None = None) -> None:
        """Count the run as in flight and let the pool make its call (or read the answer of a sent `call`)."""
        with self._idle:
            self._inflight += 1
        with self._prepared_lock:
            self._running_per_job[claim.job_id] = self._running_per_job.get(claim.job_id, 0) + 1
        try:
            self._pool.submit(self._call, claim, call)
        except RuntimeError:  # pool shut down: record the run as interrupted instead of losing it
            if call is not None:
                discard_prepared(call)
            self._recorder.put(FinishedRun(claim, CallResult(ok=False, error="Interrupted",
                                                       message="Interrupted: the process was shutting down.")))

    def _call(self, claim: Claim, call: PreparedCall | None) -> None:
        with self._calling_lock:
            self._calling += 1
        try:
            self._call_and_queue(claim, call)
        finally:
            with self._calling_lock:
                self._calling -= 1

    def _call_and_queue(self, claim: Claim, call: PreparedCall | None) -> None:
        try:
            if call is not None:
                result = finish_prepared(call)
            else:
                claim.started_at = utcnow()
                result = call_target(claim.target, claim.context(), self.settings)
        except Exception as exc:  # a bug, not the target's fault: still record it
            log.exception("calling job %s failed unexpectedly", claim.job_id)
            result = CallResult(ok=False, error="Internal error", message=f"Internal error: {exc}")
        self._recorder.put(FinishedRun(claim, result))

    # ----- recording
    def _recorded(self, finished: list[FinishedRun]) -> None:
        for item in finished:
            self._ended(item.claim)
        with self._idle:
            self._inflight -= len(finished)
            self._idle.notify_all()

    def _busy(self) -> bool:
        """Calls in progress or due runs waiting: the recorder holds its writes back until the burst is over."""
        return bool(self._calling) or not self._due.empty()

    def _ended(self, claim: Claim) -> None:
        """Release the job's running count and APScheduler's instance (a prepared run whose hand-over from
        APScheduler has not come yet gets a marker instead, and the hand-over completes at once)."""
        with self._prepared_lock:
            remaining = self._running_per_job.get(claim.job_id, 1) - 1
            if remaining > 0:
                self._running_per_job[claim.job_id] = remaining
            else:
                self._running_per_job.pop(claim.job_id, None)
        self._hand_back(claim)

    def _hand_back(self, claim: Claim) -> None:
        """Complete APScheduler's side of a run (its instance count), now or when it hands the fire time over."""
        with self._prepared_lock:
            on_done = claim.on_done
            if on_done is None and claim.scheduled_for is not None:
                claim.on_done = _noop
        if on_done is not None:
            on_done()


def _noop() -> None:
    """Marks a prepared run that ended before APScheduler handed its fire time over."""


def get_dispatcher(app: Flask) -> Dispatcher:
    """The dispatcher of `app` in this process, created on first use."""
    with _dispatchers_lock:
        dispatcher = app.extensions.get("cron_dispatcher")
        if dispatcher is None or dispatcher._closed:
            dispatcher = Dispatcher(app)
            app.extensions["cron_dispatcher"] = dispatcher
        return dispatcher


_dispatchers_lock = threading.Lock()
