"""In-app notifications and the hand-off to email/Slack delivery for every job event.

Each `broadcast_*` adds rows to the current session and never commits or sends: the caller commits with its own
change, and a worker delivers email/Slack from the outbox, so a slow SMTP server never delays the caller.
(The notifications issue fills these in; the signatures are the contract other modules call.)
"""
from __future__ import annotations

from src.models import Job, JobExecution, User


def broadcast_job_created(job: Job, actor: User | None) -> None:
    """A job was added."""


def broadcast_job_updated(job: Job, actor: User | None, changed_fields: list[str]) -> None:
    """A job's configuration changed."""


def broadcast_job_deleted(job_id: str, job_name: str, owner_id: str | None, actor: User | None) -> None:
    """A job was removed (the row is gone, so its fields are passed in)."""


def broadcast_job_enabled(job: Job, actor: User | None) -> None:
    """A paused job was activated."""


def broadcast_job_disabled(job: Job, actor: User | None, reason: str) -> None:
    """A job was paused by a person (reason says why)."""


def broadcast_job_success(job: Job, execution: JobExecution) -> None:
    """An execution succeeded."""


def broadcast_job_failure(job: Job, execution: JobExecution) -> None:
    """An execution failed."""


def broadcast_job_missed(job: Job, execution: JobExecution) -> None:
    """A fire time was missed (recorded as an execution with status `missed`)."""


def broadcast_job_auto_paused(job: Job) -> None:
    """A job passed its end_date and was paused."""


def broadcast_job_end_date_warning(job: Job, days_left: int) -> None:
    """A job's end_date is near."""
