"""Alert throttling derived from execution history: no state of its own, so recording an event writes nothing.

A streak is the run of failed/missed executions of a job since its last success. Its first problem alerts; after
that, time since the streak began is cut into windows of NOTIFICATION_ALERT_INTERVAL_MINUTES and the first problem
in each new window alerts again. The first success after a streak is its recovery. Because the decision is a pure
function of the (committed) history, every process reaches the same one, and broadcasts stay read-only until the
caller commits: on SQLite nothing takes the write lock early.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from src.models import JobExecution, db
from src.models.job_execution import STATUS_FAILED, STATUS_MISSED, STATUS_SUCCESS

PROBLEMS = (STATUS_FAILED, STATUS_MISSED)


@dataclass(frozen=True)
class Streak:
    alert: bool
    count: int
    since: datetime
    held_back: int


def _streak_problems(job_id: str, before: datetime, from_: datetime | None = None) -> tuple[int, datetime | None,
                                                                                   datetime | None]:
    """Count, first and last start time of the problems since the last success before `before` (one query);
    `from_` narrows them to those started at or after it."""
    last_ok = (select(JobExecution.started_at)
               .where(JobExecution.job_id == job_id, JobExecution.status == STATUS_SUCCESS,
                      JobExecution.started_at < before)
               .order_by(JobExecution.started_at.desc()).limit(1).scalar_subquery())
    conditions = [JobExecution.job_id == job_id, JobExecution.status.in_(PROBLEMS), JobExecution.started_at < before,
                  or_(last_ok.is_(None), JobExecution.started_at > last_ok)]
    if from_ is not None:
        conditions.append(JobExecution.started_at >= from_)
    row = db.session.execute(select(func.count(), func.min(JobExecution.started_at),
                                    func.max(JobExecution.started_at)).where(*conditions)).one()
    return int(row[0]), row[1], row[2]


def problem_streak(job_id: str, at: datetime) -> Streak:
    """Whether a failed/missed execution started at `at` alerts, and what its streak looks like."""
    interval = timedelta(minutes=current_app.config["NOTIFICATION_ALERT_INTERVAL_MINUTES"])
    count, first, last = _streak_problems(job_id, at)
    if count == 0 or first is None or last is None:
        return Streak(alert=True, count=1, since=at, held_back=0)
    if not interval:
        return Streak(alert=True, count=count + 1, since=first, held_back=0)
    window = (at - first) // interval
    previous_window = (last - first) // interval
    if window == previous_window:
        return Streak(alert=False, count=count + 1, since=first, held_back=0)
    in_previous_window, _, _ = _streak_problems(job_id, at, from_=first + previous_window * interval)
    return Streak(alert=True, count=count + 1, since=first, held_back=max(in_previous_window - 1, 0))


def ended_streak(job_id: str, at: datetime) -> Streak | None:
    """The streak a success started at `at` ends (for its recovery message), or None when the job was healthy."""
    count, first, _ = _streak_problems(job_id, at)
    if count == 0 or first is None:
        return None
    return Streak(alert=True, count=count, since=first, held_back=0)
