"""Job use cases: create, update (pause/resume included), delete. Each one validates, writes, adds its
notifications to the same transaction, commits, then tells the scheduler."""
from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from src.models import Job, User, db
from src.models.base import utcnow
from src.services.job_input import JobContext, check_job_values
from src.services.job_queries import find_job_details
from src.services.job_schedule import jobs_changed
from src.utils import notifications
from src.utils.api_errors import ConflictError, NotFoundError, ValidationError
from src.utils.auth import ensure_owner_or_admin
from src.utils.schema_fields import looks_like_id

# Fields whose change is reported as "updated" (is_active changes are reported as enabled/disabled instead).
CONFIG_FIELDS = ("name", "cron_expression", "target_url", "github_owner", "github_repo", "github_workflow_name",
                 "job_metadata", "category", "pic_team", "end_date", "enable_email_notifications",
                 "notification_emails", "notify_on_success")


def get_job(job_id: str) -> Job:
    job = db.session.get(Job, job_id) if looks_like_id(job_id) else None
    if job is None:
        raise job_not_found(job_id)
    return job


def get_job_details(job_id: str) -> dict[str, Any]:
    details = find_job_details(job_id)
    if details is None:
        raise job_not_found(job_id)
    return details


def job_not_found(job_id: str) -> NotFoundError:
    return NotFoundError(f"No job has the id {job_id}.", error="Job not found")


def duplicate_name(name: str) -> ConflictError:
    return ConflictError(f"A job named '{name}' already exists; choose another name.", error="Duplicate job name")


def ensure_name_free(name: str, exclude_id: str | None = None) -> None:
    query = select(Job.id).where(Job.name == name)
    if exclude_id is not None:
        query = query.where(Job.id != exclude_id)
    if db.session.scalar(query.limit(1)) is not None:
        raise duplicate_name(name)


def context() -> JobContext:
    return JobContext.load(current_app.config)


def new_job(values: dict[str, Any], owner: User | None) -> Job:
    """A Job built from checked values (not added to the session)."""
    return Job(created_by=owner.id if owner else None, scheduled_since=utcnow(), **values)


def apply_changes(job: Job, values: dict[str, Any], ctx: JobContext) -> list[str]:
    """Set checked values on `job`; returns the names of the fields that really changed (is_active included)."""
    changed = [key for key, value in values.items() if getattr(job, key) != value]
    end_date = values["end_date"] if "end_date" in values else job.end_date
    if "is_active" in changed and values["is_active"] and end_date is not None and end_date < ctx.today:
        raise ValidationError(f"The job ended on {end_date.isoformat()}; move end_date before resuming it.",
                              error="Job expired")
    for key in changed:
        setattr(job, key, values[key])
    if ("is_active" in changed and job.is_active) or "cron_expression" in changed:
        job.scheduled_since = utcnow()  # earlier fire times were not due under this schedule: not "missed"
    return changed


def announce_changes(job: Job, changed: list[str], actor: User | None) -> None:
    """Add the notifications of an update to the session (before commit, so they commit with it)."""
    config_changed = [key for key in changed if key in CONFIG_FIELDS]
    if config_changed:
        notifications.broadcast_job_updated(job, actor, config_changed)
    if "is_active" in changed:
        if job.is_active:
            notifications.broadcast_job_enabled(job, actor)
        else:
            name = actor.username if actor else "someone"
            notifications.broadcast_job_disabled(job, actor, f"Paused by {name}")


def commit_or_duplicate(name: str) -> None:
    """Two requests racing for one name: the unique constraint decides, the loser gets the contract's 409."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise duplicate_name(name) from None


def create_job(values: dict[str, Any], actor: User) -> Job:
    values = check_job_values(values, None, context())
    ensure_name_free(values["name"])
    job = new_job(values, actor)
    db.session.add(job)
    db.session.flush()
    notifications.broadcast_job_created(job, actor)
    commit_or_duplicate(job.name)
    jobs_changed([job.id])
    return job


def update_job(job_id: str, values: dict[str, Any], actor: User) -> Job:
    job = get_job(job_id)
    ensure_owner_or_admin(job.created_by, "update this job")
    ctx = context()
    values = check_job_values(values, job, ctx)
    if "name" in values and values["name"] != job.name:
        ensure_name_free(values["name"], exclude_id=job.id)
    changed = apply_changes(job, values, ctx)
    if not changed:
        return job
    announce_changes(job, changed, actor)
    commit_or_duplicate(job.name)
    jobs_changed([job.id])
    return job


def delete_job(job_id: str, actor: User) -> dict[str, str]:
    job = get_job(job_id)
    ensure_owner_or_admin(job.created_by, "delete this job")
    deleted = {"id": job.id, "name": job.name}
    notifications.broadcast_job_deleted(job.id, job.name, job.created_by, actor)
    db.session.delete(job)
    db.session.commit()
    jobs_changed([deleted["id"]])
    return deleted
