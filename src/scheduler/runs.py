"""The runs the dispatcher moves along: claims, due fire times, finished calls, and how results are written.

Split from `src.scheduler.dispatch`, which keeps the threads that move them.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from src.models import Job, JobExecution, db
from src.models.base import utcnow
from src.models.job_execution import STATUS_FAILED, STATUS_MISSED, STATUS_SUCCESS
from src.scheduler.db_access import chunks
from src.scheduler.job_executor import CallContext, CallResult, Target
from src.utils import metrics

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_ATTEMPTS = 3
DB_RETRY_SECONDS = 0.5


@dataclass
class Claim:
    """An execution row already inserted (claimed) whose call is still to be made."""

    execution_id: str
    job_id: str
    trigger: str
    target: Target
    started_at: datetime
    scheduled_for: datetime | None = None
    on_done: Callable[[], None] | None = None

    def context(self) -> CallContext:
        """What the call tells its target about this run (the X-Cron-* headers)."""
        return CallContext(trigger=self.trigger, job_id=self.job_id, execution_id=self.execution_id,
                           scheduled_for=self.scheduled_for)


@dataclass
class DueRun:
    """A fire time handed over by APScheduler (or a missed one to record), not claimed yet."""

    job_id: str
    scheduled_for: datetime
    on_done: Callable[[], None] | None = None
    missed_reason: str | None = None


@dataclass
class FinishedRun:
    """A claim whose call ended, waiting to be written."""

    claim: Claim
    result: CallResult
    completed_at: datetime = field(default_factory=utcnow)


def with_retries(step: Callable[[], T]) -> T:
    """Run a database step again after a short pause when it fails (a restarting server, a lost connection)."""
    attempt = 1
    while True:
        try:
            return step()
        except SQLAlchemyError:
            if attempt >= DB_ATTEMPTS:
                raise
            log.warning("database step failed (attempt %d of %d); retrying", attempt, DB_ATTEMPTS, exc_info=True)
            time.sleep(DB_RETRY_SECONDS * attempt)
            attempt += 1


def target_of(job: Any, default_owner: str | None) -> Target:
    """The call target of a Job row (ORM object or Core row)."""
    try:
        meta = json.loads(job.job_metadata) if job.job_metadata else {}
    except ValueError:
        meta = {}
    return Target.from_fields(target_url=job.target_url, github_owner=job.github_owner, github_repo=job.github_repo,
                              github_workflow_name=job.github_workflow_name,
                              metadata=meta if isinstance(meta, dict) else {}, default_owner=default_owner)


def record_results(engine: Engine, lock: Any, finished: list[FinishedRun]) -> None:
    """Write the outcome of finished calls in one transaction."""
    if not finished:
        return
    table = JobExecution.__table__
    params = []
    for item in finished:
        result = item.result
        duration = max((item.completed_at - item.claim.started_at).total_seconds(), result.duration_seconds)
        params.append({"b_id": item.claim.execution_id, "b_started_at": item.claim.started_at,
                       "b_status": STATUS_SUCCESS if result.ok else STATUS_FAILED,
                       "b_completed_at": item.completed_at, "b_duration": round(duration, 6),
                       "b_response_status": result.status_code,
                       "b_error_message": None if result.ok else result.message,
                       "b_output": result.output})
        lag = None
        if item.claim.scheduled_for is not None:
            lag = (item.claim.started_at - item.claim.scheduled_for).total_seconds()
        metrics.observe_execution(params[-1]["b_status"], item.claim.target.execution_type, lag)
    statement = (update(table).where(table.c.id == bindparam("b_id"))
                 .values(status=bindparam("b_status"), started_at=bindparam("b_started_at"),
                         completed_at=bindparam("b_completed_at"),
                         duration_seconds=bindparam("b_duration"),
                         response_status=bindparam("b_response_status"),
                         error_message=bindparam("b_error_message"), output=bindparam("b_output")))
    with lock, engine.begin() as conn:
        conn.execute(statement, params)


def notify_results(app: Flask, lock: Any, finished: list[FinishedRun], missed: list[str]) -> None:
    """Hand finished and missed runs to the notifications (they only add rows; one commit)."""
    from src.utils import notifications

    ids = [item.claim.execution_id for item in finished] + missed
    if not ids:
        return
    with app.app_context():
        executions = {e.id: e for part in chunks(ids)
                      for e in db.session.scalars(select(JobExecution).where(JobExecution.id.in_(part)))}
        job_ids = list({e.job_id for e in executions.values()})
        jobs = {j.id: j for part in chunks(job_ids) for j in db.session.scalars(select(Job).where(Job.id.in_(part)))}
        for execution in executions.values():
            job = jobs.get(execution.job_id)
            if job is None:
                continue
            if execution.status == STATUS_SUCCESS:
                notifications.broadcast_job_success(job, execution)
            elif execution.status == STATUS_FAILED:
                notifications.broadcast_job_failure(job, execution)
            elif execution.status == STATUS_MISSED:
                notifications.broadcast_job_missed(job, execution)
        with lock:
            db.session.commit()
        db.session.remove()
