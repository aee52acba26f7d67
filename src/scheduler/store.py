"""APScheduler's plug-ins: a SQLAlchemy job store adapted to batched writes, bulk loading and no silent deletions,
and an executor that hands due runs to the dispatcher.

- APScheduler writes each fired job back with its own transaction; 1,000 jobs due at once meant 1,000 commits
  (on SQLite ~1 s) racing the execution claims. Here the write-backs of one processing pass are collected and
  flushed in one transaction when APScheduler asks for the next wake-up time.
- A row that cannot be unpickled is logged and dropped by APScheduler; here it is reported to the engine, which
  rebuilds it from the jobs table (the truth) on its next reconcile.
- The engine writes rows in bulk (`job_state_row`) instead of 100,000 `add_job` calls.
"""
from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import MetaData, and_, bindparam, select
from sqlalchemy.engine import Engine

from src.scheduler.db_access import chunks, write_lock
from src.scheduler.trigger import VixieCronTrigger

log = logging.getLogger(__name__)
TABLE = "apscheduler_jobs"
FUNC_REF = "src.scheduler.engine:run_scheduled_job"
EXECUTOR = "default"
MAX_INSTANCES = 3


def job_state_row(job_id: str, trigger: VixieCronTrigger, next_run_time: datetime | None,
                  grace_seconds: int) -> dict[str, Any]:
    """The row APScheduler itself would write for this job (its Job.__getstate__ layout, version 1)."""
    state = {
        "version": 1, "id": job_id, "func": FUNC_REF, "trigger": trigger, "executor": EXECUTOR,
        "args": (job_id,), "kwargs": {}, "name": job_id, "misfire_grace_time": grace_seconds, "coalesce": False,
        "max_instances": MAX_INSTANCES, "next_run_time": next_run_time,
    }
    return {"id": job_id, "next_run_time": datetime_to_utc_timestamp(next_run_time),
            "job_state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL)}


class BatchingJobStore(SQLAlchemyJobStore):
    def __init__(self, engine: Engine, on_broken: Callable[[set[str]], None] | None = None) -> None:
        super().__init__(engine=engine, tablename=TABLE, metadata=MetaData())
        self._write_lock = write_lock(engine)
        self._pending: dict[str, dict[str, Any]] | None = None
        self._on_broken = on_broken

    def start(self, scheduler: Any, alias: str) -> None:
        # The table belongs to the migrations; APScheduler's create_all is not wanted.
        BaseJobStore.start(self, scheduler, alias)

    def shutdown(self) -> None:
        # The engine is the application's: flushing is ours to do, disposing its pool is not.
        self._flush()

    def get_due_jobs(self, now: datetime) -> list[Any]:
        self._flush()
        jobs = super().get_due_jobs(now)
        self._pending = {}
        return jobs

    def update_job(self, job: Any) -> None:
        row = {"b_id": job.id, "b_next": datetime_to_utc_timestamp(job.next_run_time),
               "b_state": pickle.dumps(job.__getstate__(), self.pickle_protocol)}
        if self._pending is not None:
            self._pending[job.id] = row
            return
        self._write([row])

    def add_job(self, job: Any) -> None:
        self._flush()
        with self._write_lock:
            super().add_job(job)

    def remove_job(self, job_id: str) -> None:
        self._flush()
        with self._write_lock:
            super().remove_job(job_id)

    def remove_all_jobs(self) -> None:
        self._flush()
        with self._write_lock:
            super().remove_all_jobs()

    def get_next_run_time(self) -> datetime | None:
        self._flush()
        return super().get_next_run_time()

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending:
            self._write(list(pending.values()))

    def _write(self, rows: list[dict[str, Any]]) -> None:
        t = self.jobs_t
        statement = (t.update().where(t.c.id == bindparam("b_id"))
                     .values(next_run_time=bindparam("b_next"), job_state=bindparam("b_state")))
        with self._write_lock, self.engine.begin() as conn:
            for part in chunks(rows):
                conn.execute(statement, part)

    def _get_jobs(self, *conditions: Any) -> list[Any]:
        jobs = []
        selectable = select(self.jobs_t.c.id, self.jobs_t.c.job_state).order_by(self.jobs_t.c.next_run_time)
        selectable = selectable.where(and_(*conditions)) if conditions else selectable
        broken: set[str] = set()
        with self.engine.connect() as connection:
            for row in connection.execute(selectable):
                try:
                    jobs.append(self._reconstitute_job(row.job_state))
                except Exception:
                    log.exception("job store row %s cannot be restored; it will be rebuilt from the jobs table",
                                  row.id)
                    broken.add(row.id)
        if broken:
            with self._write_lock, self.engine.begin() as connection:
                connection.execute(self.jobs_t.delete().where(self.jobs_t.c.id.in_(broken)))
            if self._on_broken is not None:
                self._on_broken(broken)
        return jobs


class ClaimingExecutor(BaseExecutor):
    """APScheduler executor that passes each run time on to the dispatcher's `submit_due` (APScheduler's own
    `run_job` does not tell the function which fire time it runs for, and checks the grace period itself)."""

    def __init__(self, submit_due: Callable[[str, datetime, Callable[[], None]], None]) -> None:
        super().__init__()
        self.submit_due = submit_due

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
            self.submit_due(job.id, run_time, one_done)
