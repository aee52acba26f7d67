"""From a due fire time to a finished execution row, with as little between them as possible.

APScheduler hands due runs to `ClaimingExecutor`, which only queues them. One claimer thread takes everything
queued at that moment, reads the jobs in one query and inserts all claims in one transaction (the unique
(job_id, scheduled_for) decides who runs), then hands the claimed calls to a bounded thread pool. Worker threads
only make HTTP calls; one completer thread writes results in batches and adds notifications, so a slow database
or notification never delays the next call. Manual runs use the same pool and completer.

Fire times about to come (within `PREPARE_AHEAD_SECONDS`, read from the job store by the engine) are claimed
ahead by `prepare`, so at the fire time only the calls remain: 1,000 jobs due at the same instant start their
calls at once instead of after 1,000 claims. The engine then moves the job store past those fire times; should
APScheduler still hand one over, it is already claimed and nothing more happens. A job paused or deleted inside
that short window still runs that once.
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

from apscheduler.executors.base import BaseExecutor
from flask import Flask
from sqlalchemy import select, update

from src.models import Job, JobExecution, db
from src.models.base import new_id, utcnow
from src.models.job_execution import (STATUS_MISSED, STATUS_RUNNING, TRIGGER_SCHEDULED)
from src.scheduler.db_access import chunks, insert_claims, runner_id, write_lock
from src.scheduler.job_executor import CallContext, CallResult, CallSettings, Target, call_target
from src.scheduler.runs import (DB_ATTEMPTS, Claim, DueRun, FinishedRun, notify_results, record_results, target_of,
                                with_retries)
from src.scheduler.store import MAX_INSTANCES
from src.utils import metrics

log = logging.getLogger(__name__)
MAX_BATCH = 2000
CLAIM_CHUNK = 100
# Results are written together once a burst of claims and calls is over (at most this much later): fewer
# transactions, and the notification work does not compete with the calls for the interpreter.
RECORD_MIN_DELAY_SECONDS = 0.2
RECORD_MAX_DELAY_SECONDS = 1.0
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
        self._done: queue.SimpleQueue[FinishedRun | tuple[str, list[str]] | None] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(max_workers=int(config["SCHEDULER_MAX_WORKERS"]),
                                        thread_name_prefix="cron-call")
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
        self._completer = threading.Thread(target=self._complete_loop, name="cron-completer", daemon=True)
        self._claimer.start()
        self._completer.start()

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
            delay = (when - utcnow()).total_seconds() - MARK_STARTED_AHEAD_SECONDS
            timer = threading.Timer(max(0.0, delay), self._release, args=(when, group))
            timer.daemon = True
            timer.start()
        return [(claim.job_id, when) for when, group in claims.items() for claim in group]

    def _release(self, when: datetime, group: list[Claim]) -> None:
        """Just before the fire time: mark the claims started in the database (a new leader gives unstarted claims
        of a dead one back, so they run late instead of being lost), then make the calls at the fire time."""
        started = max(utcnow(), when + ONE_MICROSECOND)  # != scheduled_for: the call is on its way
        try:
            live = with_retries(lambda: self._mark_started([claim.execution_id for claim in group], started))
        except Exception:
            log.exception("marking %d runs due at %s started failed; they did not run", len(group), when)
            live = set()
        time.sleep(max(0.0, (when - utcnow()).total_seconds()))
        for claim in group:
            if claim.execution_id in live:
                self._start(claim)
            else:  # given back by a new leader, or the database was unavailable: not ours to call
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
        self._due.put(None)
        self._claimer.join(timeout=5)
        finished = self.wait_idle(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._done.put(None)
        self._completer.join(timeout=10)
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
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._due.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._due.put(None)
                    break
                batch.append(item)
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
            self._done.put(("missed", missed))
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
    def _start(self, claim: Claim) -> None:
        with self._idle:
            self._inflight += 1
        with self._prepared_lock:
            self._running_per_job[claim.job_id] = self._running_per_job.get(claim.job_id, 0) + 1
        try:
            self._pool.submit(self._call, claim)
        except RuntimeError:  # pool shut down: record the run as interrupted instead of losing it
            self._done.put(FinishedRun(claim, CallResult(ok=False, error="Interrupted",
                                                       message="Interrupted: the process was shutting down.")))

    def _call(self, claim: Claim) -> None:
        with self._calling_lock:
            self._calling += 1
        try:
            self._call_and_queue(claim)
        finally:
            with self._calling_lock:
                self._calling -= 1

    def _call_and_queue(self, claim: Claim) -> None:
        claim.started_at = utcnow()
        context = CallContext(trigger=claim.trigger, job_id=claim.job_id, execution_id=claim.execution_id,
                              scheduled_for=claim.scheduled_for)
        try:
            result = call_target(claim.target, context, self.settings)
        except Exception as exc:  # a bug, not the target's fault: still record it
            log.exception("calling job %s failed unexpectedly", claim.job_id)
            result = CallResult(ok=False, error="Internal error", message=f"Internal error: {exc}")
        self._done.put(FinishedRun(claim, result))

    # ----- recording
    def _complete_loop(self) -> None:
        while True:
            first = self._done.get()
            if first is None:
                return
            self._wait_for_quiet()
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._done.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._done.put(None)
                    break
                batch.append(item)
            finished = [item for item in batch if isinstance(item, FinishedRun)]
            missed = [eid for item in batch if isinstance(item, tuple) for eid in item[1]]
            try:
                with_retries(lambda: record_results(self.engine, self.write_lock, finished))
            except Exception:
                log.exception("recording %d finished runs failed", len(finished))
            try:
                notify_results(self.app, self.write_lock, finished, missed)
            except Exception:
                log.exception("notifications for %d runs failed", len(finished) + len(missed))
            for item in finished:
                self._ended(item.claim)
            with self._idle:
                self._inflight -= len(finished)
                self._idle.notify_all()

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

    def _wait_for_quiet(self) -> None:
        if self._closed:
            return
        started = time.monotonic()
        time.sleep(RECORD_MIN_DELAY_SECONDS)
        while (self._calling or not self._due.empty()) and time.monotonic() - started < RECORD_MAX_DELAY_SECONDS:
            time.sleep(0.05)

def _noop() -> None:
    """Marks a prepared run that ended before APScheduler handed its fire time over."""


class ClaimingExecutor(BaseExecutor):
    """APScheduler executor that passes each run time on to the dispatcher (APScheduler's own `run_job` does not
    tell the function which fire time it runs for, and checks the grace period itself)."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        super().__init__()
        self.dispatcher = dispatcher

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        remaining = [len(run_times)]
        guard = threading.Lock()

        def one_done() -> None:
            with guard:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                self._run_job_success(job.id, [])

        for run_time in run_times:
            self.dispatcher.submit_due(job.id, run_time, one_done)


def get_dispatcher(app: Flask) -> Dispatcher:
    """The dispatcher of `app` in this process, created on first use."""
    with _dispatchers_lock:
        dispatcher = app.extensions.get("cron_dispatcher")
        if dispatcher is None or dispatcher._closed:
            dispatcher = Dispatcher(app)
            app.extensions["cron_dispatcher"] = dispatcher
        return dispatcher


_dispatchers_lock = threading.Lock()
