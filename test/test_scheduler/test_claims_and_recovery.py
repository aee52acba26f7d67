"""Exactly once and nothing lost, with a fixed `now`: claims, missed-run catch-up (capped), interrupted runs,
and the leader lease."""
from __future__ import annotations

import threading
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import func, select

from src.models import Job, JobExecution, db
from src.models.base import new_id
from src.scheduler.db_access import insert_claims, write_lock
from src.scheduler.leader import LeaderLease
from src.scheduler.recovery import (MAX_MISSED_PER_JOB, fail_interrupted, fail_stale_runs,
                                    latest_fire_at_or_before, record_missed_runs)
from src.utils.cron import parse_cron
from test.test_scheduler.conftest import NOW, executions_of, make_job

TOKYO = ZoneInfo("Asia/Tokyo")


def claim_row(job_id: str, when: object) -> dict[str, object]:
    return {"id": new_id(), "job_id": job_id, "status": "running", "trigger_type": "scheduled",
            "scheduled_for": when, "started_at": NOW, "runner_id": "test"}


def test_two_claims_of_one_fire_time_leave_one_row(ctx: object) -> None:
    job = make_job("claimed")
    first, second = claim_row(job.id, NOW), claim_row(job.id, NOW)
    assert insert_claims(db.engine, [first]) == {first["id"]}
    assert insert_claims(db.engine, [second]) == set()
    assert [e.id for e in executions_of(job.id)] == [first["id"]]


def test_concurrent_claimers_let_exactly_one_win_each_fire_time(ctx: Flask) -> None:
    """Four claimers race over the same fire times, round after round: on MariaDB they deadlock on the unique
    index now and then, and the victim must retry rather than fail its claims."""
    job_ids = [make_job(f"race-{i}").id for i in range(100)]
    engine = db.engine
    for round_index in range(5):
        fire_time = NOW + timedelta(minutes=round_index)
        results: list[set[str]] = []
        errors: list[BaseException] = []
        barrier = threading.Barrier(4)

        def claim(order: list[str]) -> None:
            rows = [claim_row(job_id, fire_time) for job_id in order]
            barrier.wait()
            try:
                results.append(insert_claims(engine, rows))
            except BaseException as exc:  # noqa: BLE001 - the test reports it below
                errors.append(exc)

        orders = [job_ids, job_ids[::-1], job_ids[50:] + job_ids[:50], job_ids]
        threads = [threading.Thread(target=claim, args=(order,)) for order in orders]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sum(len(won) for won in results) == len(job_ids)
        with db.engine.connect() as conn:
            assert conn.scalar(select(func.count(JobExecution.id))
                               .where(JobExecution.scheduled_for == fire_time)) == len(job_ids)


def test_a_claim_for_a_deleted_job_is_skipped_not_fatal(ctx: object) -> None:
    job = make_job("kept")
    rows = [claim_row(job.id, NOW), claim_row("deleted-job-id", NOW)]
    assert insert_claims(db.engine, rows) == {rows[0]["id"]}


def test_manual_runs_are_not_deduplicated(ctx: object) -> None:
    job = make_job("manual")
    rows = [{**claim_row(job.id, None), "trigger_type": "manual"} for _ in range(3)]
    assert len(insert_claims(db.engine, rows)) == 3


def test_missed_fire_times_between_schedule_start_and_the_grace_bound_are_recorded(ctx: object) -> None:
    job = make_job("gap", "* * * * *", scheduled_since=NOW - timedelta(minutes=5, seconds=30))
    resume = record_missed_runs(NOW, TOKYO, 30, "leader-2")
    missed = executions_of(job.id)
    # NOW is 10:00:10 JST; since 09:54:40; bound 09:59:40: 09:55 .. 09:59 were missed.
    assert [e.scheduled_for.astimezone(TOKYO).strftime("%H:%M") for e in missed] == [
        "09:55", "09:56", "09:57", "09:58", "09:59"]
    assert {e.status for e in missed} == {"missed"} and {e.runner_id for e in missed} == {"leader-2"}
    assert resume[job.id] == missed[-1].scheduled_for
    # A second catch-up (another leader) records nothing twice.
    record_missed_runs(NOW, TOKYO, 30, "leader-3")
    assert len(executions_of(job.id)) == 5


def test_catch_up_starts_after_the_last_claimed_fire_time(ctx: object) -> None:
    job = make_job("claimed-before", "* * * * *", scheduled_since=NOW - timedelta(hours=1))
    last = NOW - timedelta(minutes=2, seconds=10)  # 09:58:00
    db.session.add(JobExecution(job_id=job.id, status="success", trigger_type="scheduled", scheduled_for=last,
                                started_at=last))
    db.session.commit()
    record_missed_runs(NOW, TOKYO, 30, "leader")
    assert [e.scheduled_for.astimezone(TOKYO).strftime("%H:%M") for e in executions_of(job.id)] == ["09:58", "09:59"]


def test_missed_runs_are_capped_per_job_with_the_latest_fire_time_last(ctx: object) -> None:
    job = make_job("long-outage", "* * * * *", scheduled_since=NOW - timedelta(days=3))
    record_missed_runs(NOW, TOKYO, 30, "leader")
    rows = executions_of(job.id)
    assert len(rows) == MAX_MISSED_PER_JOB
    assert rows[-1].scheduled_for.astimezone(TOKYO).strftime("%H:%M") == "09:59"
    assert "only 1000 are listed per job" in (rows[-1].error_message or "")
    # The next leader continues after the latest one: nothing more to record.
    record_missed_runs(NOW + timedelta(seconds=15), TOKYO, 30, "leader")
    assert len(executions_of(job.id)) == MAX_MISSED_PER_JOB


def test_fire_times_after_the_end_date_are_not_missed(ctx: object) -> None:
    job = make_job("ended", "0 12 * * *", scheduled_since=NOW - timedelta(days=5), end_date=date(2026, 11, 23))
    record_missed_runs(NOW, TOKYO, 30, "leader")
    assert [e.scheduled_for.astimezone(TOKYO).date().isoformat() for e in executions_of(job.id)] == [
        "2026-11-21", "2026-11-22", "2026-11-23"]


def test_latest_fire_time_search_is_exact() -> None:
    schedule = parse_cron("15 9 * * 1")
    latest = latest_fire_at_or_before(schedule, NOW, NOW - timedelta(days=60), TOKYO)
    assert latest.astimezone(TOKYO).isoformat() == "2026-11-23T09:15:00+09:00"


def test_interrupted_runs_of_a_dead_runner_and_stale_runs_end_failed(ctx: object) -> None:
    job = make_job("interrupted")
    dead = JobExecution(job_id=job.id, status="running", trigger_type="scheduled", scheduled_for=NOW,
                        started_at=NOW, runner_id="dead")
    stale = JobExecution(job_id=job.id, status="running", trigger_type="manual", started_at=NOW - timedelta(minutes=5),
                         runner_id="api")
    fresh = JobExecution(job_id=job.id, status="running", trigger_type="manual", started_at=NOW, runner_id="api")
    db.session.add_all([dead, stale, fresh])
    db.session.commit()
    assert fail_interrupted(runner_ids=["dead"], reason="its scheduler process (dead) stopped") == 1
    assert fail_stale_runs(NOW + timedelta(seconds=10), 30) == 1
    by_id = {e.id: e for e in executions_of(job.id)}
    assert by_id[dead.id].status == "failed" and by_id[dead.id].error_message.startswith("Interrupted:")
    assert by_id[stale.id].status == "failed" and "no result 90 s after it started" in by_id[stale.id].error_message
    assert by_id[fresh.id].status == "running"


def test_the_lease_has_one_holder_and_passes_on_only_after_expiry(ctx: object) -> None:
    lock = write_lock(db.engine)
    a = LeaderLease(db.engine, "a", 15, lock)
    b = LeaderLease(db.engine, "b", 15, lock)
    assert a.try_acquire(NOW).held
    assert not b.try_acquire(NOW + timedelta(seconds=5)).held
    assert a.renew(NOW + timedelta(seconds=5))
    assert not b.try_acquire(NOW + timedelta(seconds=19)).held
    taken = b.try_acquire(NOW + timedelta(seconds=21))
    assert taken.held and taken.previous_holder == "a"
    assert not a.renew(NOW + timedelta(seconds=22))
    b.release()
    assert a.try_acquire().held


def test_a_job_row_is_the_truth_for_missed_runs_of_inactive_jobs(ctx: object) -> None:
    job = make_job("paused-gap", "* * * * *", scheduled_since=NOW - timedelta(minutes=10), is_active=False)
    record_missed_runs(NOW, TOKYO, 30, "leader")
    assert executions_of(job.id) == []
    assert db.session.get(Job, job.id) is not None
