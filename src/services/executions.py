"""Executions: manual runs, test runs, history queries and statistics (in SQL), retention."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, case, delete, func, select

from src.models import Job, JobExecution, User, db
from src.models.base import isoformat, utcnow
from src.models.job_execution import (STATUS_FAILED, STATUS_MISSED, STATUS_RUNNING, STATUS_SUCCESS,
                                      TRIGGER_MANUAL)
from src.scheduler.db_access import runner_id, write_lock
from src.scheduler.dispatch import get_dispatcher
from src.scheduler.job_executor import CallContext, CallSettings, Target, call_target
from src.scheduler.runs import Claim, target_of
from src.services.end_date_maintenance import is_expired
from src.services.jobs import get_job
from src.utils.api_errors import ApiError, NotFoundError
from src.utils.auth import ensure_owner_or_admin
from src.utils.paging import page_envelope

PURGE_CHUNK = 5000


@dataclass
class ExecutionQuery:
    job_id: str | None = None
    statuses: list[str] | None = None
    trigger_type: str | None = None
    execution_type: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def trigger_manual_run(job_id: str, actor: User) -> JobExecution:
    """Record a manual run and start its call in the bounded pool; the request returns at once."""
    job = get_job(job_id)
    ensure_owner_or_admin(job.created_by, "run this job")
    now = utcnow()
    if is_expired(job, now):
        raise ApiError(f"The job ended on {job.end_date.isoformat()}; move or clear its end date to run it.",  # type: ignore[union-attr]
                       error="Job expired", status=400)
    target = target_of(job, current_app.config.get("DEFAULT_GITHUB_OWNER"))
    execution = JobExecution(job_id=job.id, status=STATUS_RUNNING, trigger_type=TRIGGER_MANUAL, started_at=now,
                             execution_type=target.execution_type, target=target.description, runner_id=runner_id())
    db.session.add(execution)
    with write_lock(db.engine):
        db.session.commit()
    get_dispatcher(current_app._get_current_object()).run_claimed(  # type: ignore[attr-defined]
        Claim(execution.id, job.id, TRIGGER_MANUAL, target, now))
    return execution


def test_run(body: dict[str, Any]) -> dict[str, Any]:
    """Make the real call once, through the same code as a run, and store nothing."""
    config = current_app.config
    target = Target.from_fields(target_url=body.get("target_url"), github_owner=body.get("github_owner"),
                                github_repo=body.get("github_repo"),
                                github_workflow_name=body.get("github_workflow_name"),
                                metadata=body.get("metadata"), default_owner=config.get("DEFAULT_GITHUB_OWNER"))
    kind = "github" if target.github_repo else "webhook"
    if kind == "webhook" and not target.url:
        raise ApiError("Give target_url, or github_repo and github_workflow_name (github_owner optional).",
                       error="Missing target configuration", status=400)
    result = call_target(target, CallContext(trigger=TRIGGER_MANUAL), CallSettings.from_config(config),
                         timeout=float(body["timeout_seconds"]))
    if result.ok:
        return {"ok": True, "type": kind, "status_code": result.status_code, "message": result.message,
                "duration_seconds": result.duration_seconds}
    return {"ok": False, "type": kind, "error": result.error, "message": result.message,
            "status_code": result.status_code, "duration_seconds": result.duration_seconds}


def _filtered(statement: Select[Any], query: ExecutionQuery) -> Select[Any]:
    e = JobExecution
    if query.job_id:
        statement = statement.where(e.job_id == query.job_id)
    if query.statuses:
        statement = statement.where(e.status.in_(query.statuses))
    if query.trigger_type:
        statement = statement.where(e.trigger_type == query.trigger_type)
    if query.execution_type:
        statement = statement.where(e.execution_type == query.execution_type)
    if query.start is not None:
        statement = statement.where(e.started_at >= query.start)
    if query.end is not None:
        statement = statement.where(e.started_at < query.end)
    return statement


def execution_dict(execution: JobExecution, job_name: str | None, github_repo: str | None) -> dict[str, Any]:
    lag = None
    if execution.scheduled_for is not None:
        lag = round((execution.started_at - execution.scheduled_for).total_seconds(), 3)
    return {**execution.to_dict(), "job_name": job_name, "github_repo": github_repo, "lag_seconds": lag,
            "runner_id": execution.runner_id}


def list_executions(query: ExecutionQuery, page: int, limit: int) -> dict[str, Any]:
    """Newest first, paged (the contract's envelope); each row carries its job's name and repository."""
    total = db.session.scalar(_filtered(select(func.count(JobExecution.id)), query)) or 0
    rows = db.session.execute(
        _filtered(select(JobExecution, Job.name, Job.github_repo).join(Job, Job.id == JobExecution.job_id), query)
        .order_by(JobExecution.started_at.desc(), JobExecution.id.desc())
        .offset((page - 1) * limit).limit(limit)).all()
    return {"executions": [execution_dict(e, name, repo) for e, name, repo in rows],
            **page_envelope(total, page, limit)}


def get_execution(execution_id: str, job_id: str | None = None) -> dict[str, Any]:
    row = db.session.execute(
        select(JobExecution, Job.name, Job.github_repo).join(Job, Job.id == JobExecution.job_id)
        .where(JobExecution.id == execution_id)).first()
    if row is None or (job_id is not None and row[0].job_id != job_id):
        raise NotFoundError(f"No execution has the id {execution_id}" + (" for this job." if job_id else "."),
                            error="Execution not found")
    return execution_dict(*row)


def _counts(query: ExecutionQuery) -> dict[str, Any]:
    e = JobExecution

    def count_of(status: str) -> Any:
        return func.coalesce(func.sum(case((e.status == status, 1), else_=0)), 0)

    total, success, failed, running, missed, average = db.session.execute(_filtered(select(
        func.count(e.id), count_of(STATUS_SUCCESS), count_of(STATUS_FAILED), count_of(STATUS_RUNNING),
        count_of(STATUS_MISSED), func.avg(e.duration_seconds)), query)).one()
    finished = int(success) + int(failed) + int(missed)
    return {"total": int(total), "success": int(success), "failed": int(failed), "running": int(running),
            "missed": int(missed),
            "success_rate": round(100.0 * int(success) / finished, 2) if finished else 0.0,
            "average": round(float(average), 3) if average is not None else None}


def job_statistics(job_id: str) -> dict[str, Any]:
    job = get_job(job_id)
    counts = _counts(ExecutionQuery(job_id=job.id))
    latest = db.session.scalars(select(JobExecution).where(JobExecution.job_id == job.id)
                                .order_by(JobExecution.started_at.desc(), JobExecution.id.desc()).limit(1)).first()
    return {
        "job_id": job.id,
        "job_name": job.name,
        "statistics": {"total_executions": counts["total"], "success_count": counts["success"],
                       "failed_count": counts["failed"], "running_count": counts["running"],
                       "missed_count": counts["missed"], "success_rate": counts["success_rate"],
                       "average_duration_seconds": counts["average"]},
        "latest_execution": execution_dict(latest, job.name, job.github_repo) if latest else None,
    }


def global_statistics(query: ExecutionQuery, range_name: str) -> dict[str, Any]:
    counts = _counts(query)
    return {"total_executions": counts["total"], "successful_executions": counts["success"],
            "failed_executions": counts["failed"], "running_executions": counts["running"],
            "missed_executions": counts["missed"], "success_rate": counts["success_rate"],
            "average_duration_seconds": counts["average"], "range": range_name,
            "from": isoformat(query.start), "to": isoformat(query.end)}


def ensure_job_exists(job_id: str) -> Job:
    return get_job(job_id)


def purge_old_executions(now: datetime, retention_days: int) -> int:
    """Delete finished executions that started more than `retention_days` ago, in bounded chunks."""
    cutoff = now - timedelta(days=retention_days)
    removed = 0
    while True:
        ids = db.session.scalars(select(JobExecution.id).where(JobExecution.started_at < cutoff,
                                                               JobExecution.status != STATUS_RUNNING)
                                 .limit(PURGE_CHUNK)).all()
        if not ids:
            return removed
        with write_lock(db.engine):
            db.session.execute(delete(JobExecution).where(JobExecution.id.in_(ids))
                               .execution_options(synchronize_session=False))
            db.session.commit()
        removed += len(ids)
