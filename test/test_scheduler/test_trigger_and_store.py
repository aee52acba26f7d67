"""The trigger fires exactly what the preview shows, and survives the job store (pickle) and a restart."""
from __future__ import annotations

import pickle
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from src.models import apscheduler_jobs, db
from src.scheduler.store import BatchingJobStore, job_state_row
from src.scheduler.trigger import VixieCronTrigger
from src.utils.cron import CronError, parse_cron

START = datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc)
EXPRESSIONS = [
    ("0 9 * * 1-5", "Asia/Tokyo"),
    ("0 0 * * 0", "Asia/Tokyo"),
    ("0 0 * * 7", "Asia/Tokyo"),
    ("0 0 1 * 1", "Asia/Tokyo"),      # DOM OR DOW: the 1st and every Monday
    ("*/15 * * * *", "Asia/Tokyo"),
    ("30 2 * * *", "America/New_York"),   # in the skipped hour of spring-forward: fires at 03:00 that day
    ("30 1 * * *", "America/New_York"),   # in the repeated hour of fall-back: fires once
    ("0 * * * *", "Europe/London"),
    ("0 0 29 2 *", "UTC"),
    ("5 4 * jan,jul sun", "Asia/Tokyo"),
]


def trigger_runs(trigger: VixieCronTrigger, start: datetime, count: int) -> list[datetime]:
    """What APScheduler would fire: the first time from `now`, then each from the previous one."""
    runs: list[datetime] = []
    previous = None
    now = start + timedelta(microseconds=1)
    while len(runs) < count:
        nxt = trigger.get_next_fire_time(previous, now)
        assert nxt is not None
        runs.append(nxt)
        previous = nxt
    return runs


@pytest.mark.parametrize(("expression", "zone"), EXPRESSIONS)
def test_the_trigger_fires_exactly_the_previewed_times(expression: str, zone: str) -> None:
    trigger = VixieCronTrigger(expression, zone)
    preview = parse_cron(expression).next_runs(START, 60, zone)
    assert trigger_runs(trigger, START, 60) == preview


def test_weekday_numbers_are_vixie_not_apscheduler() -> None:
    sundays = VixieCronTrigger("0 0 * * 0", "UTC")
    also_sundays = VixieCronTrigger("0 0 * * 7", "UTC")
    first = sundays.get_next_fire_time(None, START)
    assert first == also_sundays.get_next_fire_time(None, START)
    assert first is not None and first.weekday() == 6  # Python: Sunday is 6
    either = trigger_runs(VixieCronTrigger("0 0 1 * 1", "UTC"), START, 6)
    # After Thu 2026-01-01 00:00: the Mondays of January, Sun 1 Feb (the 1st), Mon 2 Feb.
    assert [d.day for d in either] == [5, 12, 19, 26, 1, 2]


def test_dst_spring_forward_fires_once_at_the_jump() -> None:
    trigger = VixieCronTrigger("30 2 * * *", "America/New_York")
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc))
    assert fire is not None and fire.isoformat() == "2026-03-08T03:00:00-04:00"


def test_the_trigger_pickles_as_expression_and_zone_only() -> None:
    trigger = VixieCronTrigger("0 9 * * 1-5", "Asia/Tokyo")
    assert trigger.__getstate__() == {"version": 1, "expression": "0 9 * * 1-5", "timezone": "Asia/Tokyo"}
    restored = pickle.loads(pickle.dumps(trigger))
    assert restored == trigger
    assert restored.get_next_fire_time(None, START) == trigger.get_next_fire_time(None, START)


def test_an_invalid_expression_cannot_become_a_trigger() -> None:
    with pytest.raises(CronError):
        VixieCronTrigger("0 9 * *", "Asia/Tokyo")


def test_the_job_store_survives_a_restart(ctx: object) -> None:
    """Rows written in bulk are read back by a fresh store (a new process) through APScheduler's own unpickling."""
    trigger = VixieCronTrigger("0 9 * * 1-5", "Asia/Tokyo")
    first = trigger.get_next_fire_time(None, START)
    with db.engine.begin() as conn:
        conn.execute(apscheduler_jobs.insert(), [job_state_row("job-a", trigger, first, 30)])
    store = BatchingJobStore(db.engine)
    store._scheduler = None
    store._alias = "default"
    [job] = store.get_all_jobs()
    assert job.id == "job-a" and job.trigger == trigger and job.next_run_time == first
    assert job.args == ("job-a",) and job.misfire_grace_time == 30 and job.coalesce is False
    assert job.max_instances == 3
    assert job.func.__name__ == "run_scheduled_job"
    assert store.get_next_run_time() == first
    due = store.get_due_jobs(first)
    assert [j.id for j in due] == ["job-a"]
    job.next_run_time = trigger.get_next_fire_time(first, first)
    store.update_job(job)           # batched during a processing pass ...
    assert store.get_next_run_time() == job.next_run_time  # ... and flushed before the next wake-up time
    with db.engine.connect() as conn:
        stored = conn.execute(select(apscheduler_jobs.c.next_run_time)).scalar_one()
    assert stored == job.next_run_time.timestamp()


def test_an_unreadable_row_is_reported_for_rebuilding(ctx: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(apscheduler_jobs.insert(), [{"id": "broken", "next_run_time": 1.0, "job_state": b"not a pickle"}])
    reported: list[set[str]] = []
    store = BatchingJobStore(db.engine, on_broken=reported.append)
    store._scheduler = None
    store._alias = "default"
    assert store.get_all_jobs() == []
    assert reported == [{"broken"}]
