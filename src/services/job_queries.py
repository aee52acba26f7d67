"""Reading jobs: search, filters, sorting and paging in SQL, plus each job's last and next execution times.

`last_execution_at` comes from one grouped query over the page's ids (index job_id, started_at).
`next_execution_at` comes from APScheduler's own table (LEFT JOIN, kept current by the scheduler); an active job
with no row there (no scheduler running) gets it computed from its cron expression.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from src.models import Job, JobExecution, apscheduler_jobs, db
from src.utils.cron import CronError, CronSchedule, parse_cron
from src.utils.paging import page_envelope
from src.utils.schema_fields import looks_like_id

SORT_COLUMNS: dict[str, Any] = {
    "name": Job.name,
    "created_at": Job.created_at,
    "next_execution_at": apscheduler_jobs.c.next_run_time,
    "end_date": Job.end_date,
    "is_active": Job.is_active,
}
SEARCH_COLUMNS = (Job.name, Job.github_repo, Job.github_workflow_name, Job.target_url)
NULLABLE_SORTS = ("next_execution_at", "end_date")
ID_CHUNK = 500
NEXT_RUN = apscheduler_jobs.c.next_run_time
# Built once: SQLAlchemy then reuses their cache keys and compiled SQL, and the single-job reads cost one query.
LAST_RUN = (select(func.max(JobExecution.started_at)).where(JobExecution.job_id == Job.id)
            .correlate(Job).scalar_subquery())
JOB_WITH_RUN_TIMES = (select(Job, NEXT_RUN, LAST_RUN).outerjoin(apscheduler_jobs, apscheduler_jobs.c.id == Job.id)
                      .where(Job.id == bindparam("job_id")))


@dataclass(frozen=True)
class JobListQuery:
    search: str | None = None
    is_active: bool | None = None
    category: str | None = None
    pic_team: str | None = None
    github_repo: str | None = None
    created_by: str | None = None
    sort_by: str = "created_at"
    sort_dir: str = "desc"
    page: int | None = None
    limit: int | None = None


def _like_pattern(text: str) -> str:
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _contains(column: Any, pattern: str) -> ColumnElement[bool]:
    """Case-insensitive substring match without lower() on every row where LIKE already ignores case: SQLite's
    (ASCII letters, like its lower()) and MariaDB's utf8mb4 collation; PostgreSQL needs ILIKE."""
    if db.engine.dialect.name == "postgresql":
        return column.ilike(pattern, escape="!")
    return column.like(pattern, escape="!")


def job_filters(query: JobListQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if query.search and query.search.strip():
        pattern = _like_pattern(query.search.strip())
        conditions.append(or_(*(_contains(column, pattern) for column in SEARCH_COLUMNS)))
    if query.is_active is not None:
        conditions.append(Job.is_active == query.is_active)
    for column, value in ((Job.category, query.category), (Job.pic_team, query.pic_team),
                          (Job.github_repo, query.github_repo), (Job.created_by, query.created_by)):
        if value:
            conditions.append(column == value)
    return conditions


def _window(statement: Select[Any], offset: int, limit: int | None) -> list[Any]:
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    return list(db.session.execute(statement).all())


def _rows(base: Select[Any], query: JobListQuery, offset: int, limit: int | None) -> list[Any]:
    """One page in the requested order. Jobs without a value for a nullable sort key come last either way; they
    are read as a second part so each part can walk its index (SQLite/MariaDB would otherwise sort NULL first,
    and an `IS NULL` sort key would force sorting every row)."""
    column = SORT_COLUMNS[query.sort_by]
    desc = query.sort_dir == "desc"
    tie_break = Job.id.desc() if desc else Job.id.asc()
    if query.sort_by not in NULLABLE_SORTS:
        return _window(base.order_by(column.desc() if desc else column.asc(), tie_break), offset, limit)
    first = base.where(column.is_not(None))
    rows = _window(first.order_by(column.desc() if desc else column.asc(), tie_break), offset, limit)
    if limit is not None and len(rows) == limit:
        return rows
    if rows or offset == 0:
        rest_offset = 0
    else:
        rest_offset = offset - (db.session.scalar(select(func.count()).select_from(first.subquery())) or 0)
    rest = base.where(column.is_(None)).order_by(Job.created_at.desc(), Job.id.desc())
    return rows + _window(rest, rest_offset, None if limit is None else limit - len(rows))


def list_jobs(query: JobListQuery) -> dict[str, Any]:
    """The contract's envelope: `count` and `jobs`, plus `total/page/limit/total_pages` when paged."""
    conditions = job_filters(query)
    base = select(Job, NEXT_RUN).outerjoin(apscheduler_jobs, apscheduler_jobs.c.id == Job.id).where(*conditions)
    envelope: dict[str, Any] = {}
    offset = 0
    if query.page is not None and query.limit is not None:
        total = db.session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0
        offset = (query.page - 1) * query.limit
        envelope = page_envelope(total, query.page, query.limit)
    rows = _rows(base, query, offset, query.limit)
    jobs = serialize_jobs([(job, next_run) for job, next_run in rows])
    return {"count": len(jobs), "jobs": jobs, **envelope}


def find_job_details(job_id: str) -> dict[str, Any] | None:
    """One job in the contract's shape, with its next and last run, in one prepared query (the API's hottest read)."""
    if not looks_like_id(job_id):
        return None
    row = db.session.execute(JOB_WITH_RUN_TIMES, {"job_id": job_id}).first()
    if row is None:
        return None
    job, next_run, last_run = row
    return serialize_jobs([(job, next_run)], {job.id: last_run})[0]


def serialize_jobs(rows: list[tuple[Job, float | None]],
                   last_runs: dict[str, datetime | None] | None = None) -> list[dict[str, Any]]:
    """`last_runs` when the caller has read them already, else one grouped query over the rows' ids."""
    if last_runs is None:
        last_runs = last_execution_times([job.id for job, _ in rows])
    tz = ZoneInfo(current_app.config["SCHEDULER_TIMEZONE"])
    now = datetime.now(timezone.utc)
    return [job.to_dict(last_execution_at=last_runs.get(job.id),
                        next_execution_at=next_execution_time(job, next_run, tz, now))
            for job, next_run in rows]


def last_execution_times(job_ids: list[str]) -> dict[str, datetime]:
    found: dict[str, datetime] = {}
    for start in range(0, len(job_ids), ID_CHUNK):
        chunk = job_ids[start:start + ID_CHUNK]
        statement = (select(JobExecution.job_id, func.max(JobExecution.started_at))
                     .where(JobExecution.job_id.in_(chunk)).group_by(JobExecution.job_id))
        found.update({job_id: started for job_id, started in db.session.execute(statement)})
    return found


def next_execution_time(job: Job, next_run: float | None, tz: ZoneInfo, now: datetime) -> datetime | None:
    if not job.is_active:
        return None
    if next_run is not None:
        return datetime.fromtimestamp(next_run, tz)
    schedule = _schedule(job.cron_expression)
    return schedule.next_run(now, tz) if schedule is not None else None


@lru_cache(maxsize=4096)
def _schedule(expression: str) -> CronSchedule | None:
    try:
        return parse_cron(expression)
    except CronError:
        return None
