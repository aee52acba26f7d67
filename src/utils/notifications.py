"""In-app notifications and the hand-off to email/Slack delivery for every job event.

Each `broadcast_*` adds rows to the current session and never commits or sends: the caller commits with its own
change, and a worker delivers email/Slack from the outbox, so a slow SMTP server never delays the caller.
Who receives what is decided here (README, "Notifications"): the job's owner and the active admins, email by
job settings and the owner's preferences, Slack for failures, missed runs and auto-pauses; repeated failures
are throttled by their execution history (`src.services.alert_streaks`).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from src.models import (Job, JobExecution, Notification, NotificationDelivery, PicTeam, User,
                        UserNotificationPreferences, db)
from src.models.base import new_id, utcnow
from src.models.notification_preferences import PREFERENCE_DEFAULTS
from src.services.alert_streaks import Streak, ended_streak, problem_streak
from src.utils.channels import JobAlert, format_time
from src.utils.email import render_alert_email
from src.utils.slack import current_slack_settings, render_alert_blocks, slack_mention

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., None])
SLACK_RECIPIENT = "slack"


@dataclass
class Recipient:
    id: str
    username: str
    email: str
    prefs: dict[str, bool]


@dataclass
class Audience:
    """The people a job event concerns: its (active) owner and the active admins."""

    owner: Recipient | None
    admins: list[Recipient] = field(default_factory=list)

    def watchers(self, exclude: str | None = None) -> list[Recipient]:
        seen: dict[str, Recipient] = {}
        for person in ([self.owner] if self.owner else []) + self.admins:
            if person.id != exclude:
                seen.setdefault(person.id, person)
        return list(seen.values())

    def owner_wants(self, preference: str, exclude: str | None = None) -> list[str]:
        if self.owner and self.owner.id != exclude and self.owner.prefs[preference]:
            return [self.owner.email]
        return []


def _never_in_the_way(func: F) -> F:
    """A notification bug must not fail the caller's change; database errors still surface (the session is dead).

    No autoflush: the rows are written by the caller's commit in one batch, so on SQLite the database write lock
    is not taken (and held) from the first broadcast of a dispatch batch until its commit.
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            with db.session.no_autoflush:
                func(*args, **kwargs)
        except SQLAlchemyError:
            raise
        except Exception:
            log.exception("notification broadcast %s failed; the event is not notified", func.__name__)

    return wrapper  # type: ignore[return-value]


def audience_for(owner_id: str | None) -> Audience:
    """Owner and active admins with their preferences (defaults when a user never saved any), in one query."""
    prefs = UserNotificationPreferences
    columns = [getattr(prefs, name) for name in PREFERENCE_DEFAULTS]
    condition = User.role == "admin" if owner_id is None else or_(User.role == "admin", User.id == owner_id)
    rows = db.session.execute(
        select(User.id, User.username, User.email, User.role, *columns)
        .outerjoin(prefs, prefs.user_id == User.id)
        .where(User.is_active.is_(True), condition)
        .order_by(User.username)
    ).all()
    audience = Audience(owner=None)
    for row in rows:
        values = {name: (PREFERENCE_DEFAULTS[name] if row[4 + i] is None else bool(row[4 + i]))
                  for i, name in enumerate(PREFERENCE_DEFAULTS)}
        person = Recipient(id=row[0], username=row[1], email=row[2], prefs=values)
        if row[0] == owner_id:
            audience.owner = person
        if row[3] == "admin":
            audience.admins.append(person)
    return audience


def job_link(job_id: str | None) -> str:
    base = current_app.config["FRONTEND_BASE_URL"]
    return f"{base}/jobs/{job_id}" if job_id else f"{base}/jobs"


def _job_alert(job: Job, event: str, level: str, title: str, message: str,
               execution: JobExecution | None = None, mention: str | None = None) -> JobAlert:
    # Rows not flushed yet get their primary key now (the ORM keeps it), so the references below are never empty.
    for row in (job, execution):
        if row is not None and row.id is None:
            row.id = new_id()
    return JobAlert(
        event=event, level=level, title=title, message=message, job_id=job.id, job_name=job.name,
        link=job_link(job.id), mention=mention,
        status=execution.status if execution else None,
        scheduled_for=execution.scheduled_for if execution else None,
        started_at=execution.started_at if execution else None,
        duration_seconds=execution.duration_seconds if execution else None,
        error_message=execution.error_message if execution else None,
        execution_id=execution.id if execution else None,
    )


def _add_in_app(people: Iterable[Recipient], alert: JobAlert, related_job_id: str | None) -> None:
    db.session.add_all([
        Notification(user_id=person.id, title=alert.title[:255], message=alert.message, type=alert.level,
                     related_job_id=related_job_id, related_execution_id=alert.execution_id)
        for person in people
    ])


def _add_emails(addresses: Iterable[str], alert: JobAlert) -> None:
    """One outbox row per distinct address; nothing at all when MAIL_ENABLED is false."""
    if not current_app.config["MAIL_ENABLED"]:
        return
    unique = list({address.strip().lower(): address.strip() for address in addresses if address.strip()}.values())
    if not unique:
        return
    subject, bodies = render_alert_email(alert)
    payload = json.dumps(bodies)
    db.session.add_all([
        NotificationDelivery(channel="email", event=alert.event, recipient=address, subject=subject[:255],
                             payload=payload, related_job_id=alert.job_id, related_execution_id=alert.execution_id)
        for address in unique
    ])


def _add_slack(job: Job, alert: JobAlert) -> None:
    settings = current_slack_settings()
    if settings is None or not settings.is_enabled or not settings.webhook_url:
        return
    mention = None
    if job.pic_team:
        mention = slack_mention(db.session.scalar(select(PicTeam.slack_handle).where(PicTeam.slug == job.pic_team)))
    if mention:
        alert = replace(alert, mention=mention)
    db.session.add(NotificationDelivery(
        channel="slack", event=alert.event, recipient=SLACK_RECIPIENT, subject=alert.title[:255],
        payload=json.dumps(render_alert_blocks(alert)), related_job_id=job.id,
        related_execution_id=alert.execution_id))


def _job_emails(job: Job) -> list[str]:
    return job.email_list if job.enable_email_notifications else []


def _actor_name(actor: User | None) -> str:
    return actor.username if actor is not None else "The system"


def _event_time(execution: JobExecution) -> datetime:
    return execution.started_at or utcnow()


def _repeat_note(streak: Streak) -> str:
    if streak.held_back:
        return (f" It failed {streak.held_back} more time{'s' if streak.held_back != 1 else ''} since the "
                f"last alert ({streak.count} in a row).")
    if streak.count > 1:
        return f" ({streak.count} failures in a row.)"
    return ""


# --- the events --------------------------------------------------------------------------------------------------

def _info_event(job: Job, actor: User | None, event: str, title: str, message: str, level: str = "info") -> None:
    audience = audience_for(job.created_by)
    alert = _job_alert(job, event, level, title, message)
    _add_in_app(audience.watchers(exclude=actor.id if actor else None), alert, job.id)


@_never_in_the_way
def broadcast_job_created(job: Job, actor: User | None) -> None:
    """A job was added."""
    _info_event(job, actor, "job_created", f"Job '{job.name}' created",
                f"{_actor_name(actor)} created job '{job.name}' ({job.cron_expression}).")


@_never_in_the_way
def broadcast_jobs_imported(created: list[Job], changed: list[Job], actor: User | None) -> None:
    """A CSV import: one summary per person (admins and owners of changed jobs), never one notification per row."""
    if not created and not changed:
        return
    owners = {job.created_by for job in [*created, *changed]} or {None}
    exclude = actor.id if actor else None
    people: dict[str, Recipient] = {}
    for owner_id in owners:
        for person in audience_for(owner_id).watchers(exclude=exclude):
            people.setdefault(person.id, person)
    paused = sum(1 for job in changed if not job.is_active)
    message = (f"{_actor_name(actor)} imported jobs from CSV: {len(created)} created, {len(changed)} changed"
               f"{f' ({paused} of them paused)' if paused else ''}.")
    alert = JobAlert(event="jobs_imported", level="info", title="Jobs imported from CSV", message=message,
                     job_id=None, job_name="", link=job_link(None))
    _add_in_app(people.values(), alert, None)


@_never_in_the_way
def broadcast_job_updated(job: Job, actor: User | None, changed_fields: list[str]) -> None:
    """A job's configuration changed."""
    changed = f": {', '.join(sorted(changed_fields))}" if changed_fields else ""
    _info_event(job, actor, "job_updated", f"Job '{job.name}' updated",
                f"{_actor_name(actor)} updated job '{job.name}'{changed}.")


@_never_in_the_way
def broadcast_job_deleted(job_id: str, job_name: str, owner_id: str | None, actor: User | None) -> None:
    """A job was removed (the row is gone, so its fields are passed in)."""
    audience = audience_for(owner_id)
    alert = JobAlert(event="job_deleted", level="info", title=f"Job '{job_name}' deleted",
                     message=f"{_actor_name(actor)} deleted job '{job_name}'.", job_id=None, job_name=job_name,
                     link=job_link(None))
    _add_in_app(audience.watchers(exclude=actor.id if actor else None), alert, None)


@_never_in_the_way
def broadcast_job_enabled(job: Job, actor: User | None) -> None:
    """A paused job was activated."""
    _info_event(job, actor, "job_enabled", f"Job '{job.name}' enabled",
                f"{_actor_name(actor)} enabled job '{job.name}'; it runs on its schedule again.")


@_never_in_the_way
def broadcast_job_disabled(job: Job, actor: User | None, reason: str) -> None:
    """A job was paused by a person (reason says why)."""
    audience = audience_for(job.created_by)
    actor_id = actor.id if actor else None
    alert = _job_alert(job, "job_disabled", "warning", f"Job '{job.name}' disabled",
                       f"{_actor_name(actor)} disabled job '{job.name}'" + (f": {reason}." if reason else "."))
    _add_in_app(audience.watchers(exclude=actor_id), alert, job.id)
    _add_emails(audience.owner_wants("email_on_job_disabled", exclude=actor_id), alert)


@_never_in_the_way
def broadcast_job_success(job: Job, execution: JobExecution) -> None:
    """An execution succeeded: a recovery message after a failing streak, otherwise only for those who opted in."""
    audience = audience_for(job.created_by)
    streak = ended_streak(job.id, _event_time(execution))
    success_people = [audience.owner] if audience.owner and (
        job.notify_on_success or audience.owner.prefs["email_on_job_success"]) else []
    success_emails = (_job_emails(job) if job.notify_on_success else []) + audience.owner_wants("email_on_job_success")
    if streak is None:
        alert = _job_alert(job, "job_success", "success", f"Job '{job.name}' succeeded",
                           f"Job '{job.name}' ran successfully.", execution)
        _add_in_app(success_people, alert, job.id)
        _add_emails(success_emails, alert)
        return
    failures = streak.count
    alert = _job_alert(job, "job_recovered", "success", f"Job '{job.name}' recovered",
                       f"Job '{job.name}' succeeded again after {failures} failed run{'s' if failures != 1 else ''} "
                       f"(failing since {format_time(streak.since)}).",
                       execution)
    people = {p.id: p for p in audience.watchers() + success_people}
    _add_in_app(people.values(), alert, job.id)
    _add_emails(_job_emails(job) + audience.owner_wants("email_on_job_failure") + success_emails, alert)
    _add_slack(job, alert)


def _problem(job: Job, execution: JobExecution, event: str, level: str, title: str, message: str) -> None:
    streak = problem_streak(job.id, _event_time(execution))
    if not streak.alert:
        return
    audience = audience_for(job.created_by)
    alert = _job_alert(job, event, level, title, message + _repeat_note(streak), execution)
    _add_in_app(audience.watchers(), alert, job.id)
    _add_emails(_job_emails(job) + audience.owner_wants("email_on_job_failure"), alert)
    _add_slack(job, alert)


@_never_in_the_way
def broadcast_job_failure(job: Job, execution: JobExecution) -> None:
    """An execution failed."""
    reason = f": {execution.error_message.splitlines()[0][:300]}" if execution.error_message else "."
    _problem(job, execution, "job_failure", "error", f"Job '{job.name}' failed",
             f"Job '{job.name}' failed{reason}")


@_never_in_the_way
def broadcast_job_missed(job: Job, execution: JobExecution) -> None:
    """A fire time was missed (recorded as an execution with status `missed`)."""
    _problem(job, execution, "job_missed", "warning", f"Job '{job.name}' missed a run",
             f"Job '{job.name}' did not run at its scheduled time (the scheduler was down or overloaded).")


@_never_in_the_way
def broadcast_job_auto_paused(job: Job) -> None:
    """A job passed its end_date and was paused."""
    audience = audience_for(job.created_by)
    end = job.end_date.isoformat() if job.end_date else "-"
    alert = _job_alert(job, "job_auto_paused", "warning", f"Job '{job.name}' auto-paused",
                       f"Job '{job.name}' passed its end date ({end}) and was paused. "
                       "Extend the end date and enable it to keep it running.")
    _add_in_app(audience.watchers(), alert, job.id)
    _add_emails(_job_emails(job) + audience.owner_wants("email_on_job_disabled"), alert)
    _add_slack(job, alert)


@_never_in_the_way
def broadcast_job_end_date_warning(job: Job, days_left: int) -> None:
    """A job's end_date is near."""
    audience = audience_for(job.created_by)
    end = job.end_date.isoformat() if job.end_date else "-"
    when = "today" if days_left <= 0 else f"in {days_left} day{'s' if days_left != 1 else ''}"
    alert = _job_alert(job, "job_end_date_warning", "warning", f"Job '{job.name}' ends {when}",
                       f"Job '{job.name}' reaches its end date ({end}) {when} and will then be paused.")
    _add_in_app(audience.watchers(), alert, job.id)
    _add_emails(audience.owner_wants("email_on_job_disabled"), alert)
