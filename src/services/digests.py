"""Daily digests and weekly reports: a summary of the period's executions, emailed to users who turned them on.

The maintenance task calls `send_daily_digests(now)` once a day and `send_weekly_reports(now)` once a day too: a
report goes to a user at most once per period (a repeat call, a second process or a restart sends nothing twice).
Both only queue outbox rows (the delivery worker sends them) and commit; they return how many they queued.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from src.models import Job, JobExecution, NotificationDelivery, User, UserNotificationPreferences, db
from src.models.job_execution import STATUS_FAILED, STATUS_MISSED, STATUS_RUNNING, STATUS_SUCCESS
from src.utils.channels import format_duration, format_time
from src.utils.email import render_summary_email

TOP = 5
# A little short of the period, so a maintenance run a few seconds earlier than yesterday's still sends.
REPEAT_SLACK = timedelta(hours=1)


@dataclass
class PeriodSummary:
    start: datetime
    end: datetime
    counts: dict[str, int]
    failing_jobs: list[tuple[str, str, int]]
    slowest_jobs: list[tuple[str, str, float]]

    def lines(self) -> list[str]:
        total = sum(self.counts.values())
        rate = f"{100 * self.counts[STATUS_SUCCESS] / total:.1f}%" if total else "-"
        base = current_app.config["FRONTEND_BASE_URL"]
        lines = [f"Period: {format_time(self.start)} to {format_time(self.end)}", "",
                 f"Executions: {total}", f"Succeeded: {self.counts[STATUS_SUCCESS]}",
                 f"Failed: {self.counts[STATUS_FAILED]}", f"Missed: {self.counts[STATUS_MISSED]}",
                 f"Running: {self.counts[STATUS_RUNNING]}", f"Success rate: {rate}", ""]
        lines.append("Jobs with the most failures:" if self.failing_jobs else "No failures.")
        lines += [f"  {name}: {count} failed  {base}/jobs/{job_id}" for job_id, name, count in self.failing_jobs]
        if self.slowest_jobs:
            lines += ["", "Slowest jobs (longest run):"]
            lines += [f"  {name}: {format_duration(seconds)}  {base}/jobs/{job_id}"
                      for job_id, name, seconds in self.slowest_jobs]
        return lines


def summarise(start: datetime, end: datetime) -> PeriodSummary:
    """Counts by status, the jobs failing most and the slowest jobs among executions started in [start, end)."""
    in_period = (JobExecution.started_at >= start, JobExecution.started_at < end)
    counts = {status: 0 for status in (STATUS_SUCCESS, STATUS_FAILED, STATUS_MISSED, STATUS_RUNNING)}
    for status, count in db.session.execute(
            select(JobExecution.status, func.count()).where(*in_period).group_by(JobExecution.status)):
        counts[status] = counts.get(status, 0) + count
    failures = func.count().label("failures")
    failing = db.session.execute(
        select(Job.id, Job.name, failures).join(JobExecution, JobExecution.job_id == Job.id)
        .where(*in_period, JobExecution.status == STATUS_FAILED)
        .group_by(Job.id, Job.name).order_by(failures.desc(), Job.name).limit(TOP)).all()
    longest = func.max(JobExecution.duration_seconds).label("longest")
    slowest = db.session.execute(
        select(Job.id, Job.name, longest).join(JobExecution, JobExecution.job_id == Job.id)
        .where(*in_period, JobExecution.duration_seconds.is_not(None))
        .group_by(Job.id, Job.name).order_by(longest.desc(), Job.name).limit(TOP)).all()
    return PeriodSummary(start, end, counts, [tuple(r) for r in failing],  # type: ignore[misc]
                         [(r[0], r[1], float(r[2])) for r in slowest])


def _send(now: datetime, period: timedelta, preference: str, event: str, title: str) -> int:
    if not current_app.config["MAIL_ENABLED"]:
        return 0
    prefs = UserNotificationPreferences
    recipients = db.session.scalars(
        select(User.email).join(prefs, prefs.user_id == User.id)
        .where(User.is_active.is_(True), getattr(prefs, preference).is_(True)).order_by(User.email)).all()
    already = set(db.session.scalars(
        select(NotificationDelivery.recipient).where(NotificationDelivery.event == event,
                                                     NotificationDelivery.created_at > now - period + REPEAT_SLACK)))
    due = [address for address in recipients if address not in already]
    if not due:
        return 0
    subject, bodies = render_summary_email(title, summarise(now - period, now).lines())
    db.session.add_all([
        NotificationDelivery(channel="email", event=event, recipient=address, subject=subject[:255],
                             payload=json.dumps(bodies), created_at=now, next_attempt_at=now)
        for address in due
    ])
    db.session.commit()
    return len(due)


def send_daily_digests(now: datetime) -> int:
    """Email the last 24 hours' summary to active users with `daily_digest` on."""
    return _send(now, timedelta(days=1), "daily_digest", "daily_digest", "Daily digest")


def send_weekly_reports(now: datetime) -> int:
    """Email the last 7 days' summary to active users with `weekly_report` on (at most once a week each)."""
    return _send(now, timedelta(days=7), "weekly_report", "weekly_report", "Weekly report")
