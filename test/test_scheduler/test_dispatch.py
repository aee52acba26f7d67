"""Due fire times through the dispatcher: claimed once, called, recorded; late ones missed; failures don't pile up."""
from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from flask import Flask

from src.models import Job
from src.models.base import utcnow
from src.scheduler.dispatch import get_dispatcher
from test.test_scheduler.conftest import executions_of, fresh, make_job
from test.test_scheduler.receiver import Receiver


def test_a_due_run_is_claimed_called_and_recorded_with_its_lag(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        job = make_job("on-time", target_url=receiver.url("/ok"), job_metadata='{"k":"v"}')
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow() - timedelta(seconds=1)
        dispatcher.submit_due(job.id, fire)
        assert dispatcher.wait_idle(10)
        [execution] = executions_of(job.id)
    assert execution.status == "success" and execution.trigger_type == "scheduled"
    assert execution.scheduled_for == fire
    assert 1.0 <= (execution.started_at - fire).total_seconds() < 5
    assert execution.response_status == 200 and execution.completed_at is not None
    assert execution.duration_seconds is not None and execution.runner_id == dispatcher.runner_id
    request = receiver.received("/ok")[0]
    assert request.json() == {"k": "v"}
    assert request.headers["X-Cron-Execution-Id"] == execution.id
    assert request.headers["X-Cron-Scheduled-For"] == fire.isoformat()


def test_the_same_fire_time_submitted_twice_runs_once(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        job = make_job("twice", target_url=receiver.url("/ok"))
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow().replace(microsecond=0)
        dispatcher.submit_due(job.id, fire)
        dispatcher.submit_due(job.id, fire)
        assert dispatcher.wait_idle(10)
        dispatcher.submit_due(job.id, fire)
        assert dispatcher.wait_idle(10)
        assert len(executions_of(job.id)) == 1
    assert len(receiver.received()) == 1


def test_a_run_later_than_the_grace_period_is_recorded_missed_not_called(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        job = make_job("late", target_url=receiver.url("/ok"))
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow() - timedelta(seconds=45)
        dispatcher.submit_due(job.id, fire)
        assert dispatcher.wait_idle(10)
        [execution] = executions_of(job.id)
    assert execution.status == "missed"
    assert "beyond the 30 s grace period" in (execution.error_message or "")
    assert receiver.received() == []


def test_hanging_failing_and_refused_targets_end_failed_without_starving_the_pool(fast_app: Flask,
                                                                                  receiver: Receiver) -> None:
    with fast_app.app_context():
        hanging = [make_job(f"hang-{i}", target_url=receiver.url("/hang/30")) for i in range(6)]
        failing = make_job("fails", target_url=receiver.url("/status/500"))
        refused = make_job("refused", target_url="http://127.0.0.1:9/nothing")
        fine = make_job("fine", target_url=receiver.url("/ok"))
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow()
        started = time.monotonic()
        for job in [*hanging, failing, refused, fine]:
            dispatcher.submit_due(job.id, fire)
        assert dispatcher.wait_idle(15)
        elapsed = time.monotonic() - started
        results = {job.name: executions_of(job.id)[0] for job in [*hanging, failing, refused, fine]}
    # 4 workers, 2 s timeout: two rounds of hanging calls, then the rest.
    assert elapsed < 8
    assert all(results[f"hang-{i}"].status == "failed" for i in range(6))
    assert "Timed out after 2 s" in (results["hang-0"].error_message or "")
    assert results["fails"].status == "failed" and results["fails"].response_status == 500
    assert results["refused"].status == "failed" and "Connection refused" in (results["refused"].error_message or "")
    assert results["fine"].status == "success"


def test_an_inactive_or_deleted_job_is_skipped(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        paused = make_job("paused", target_url=receiver.url("/ok"), is_active=False)
        dispatcher = get_dispatcher(fast_app)
        dispatcher.submit_due(paused.id, utcnow())
        dispatcher.submit_due("no-such-job", utcnow())
        assert dispatcher.wait_idle(10)
        assert executions_of(paused.id) == []
    assert receiver.received() == []


def test_a_job_past_its_end_date_is_paused_at_execution_time(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        job = make_job("ended", target_url=receiver.url("/ok"), end_date=date(2020, 1, 1))
        dispatcher = get_dispatcher(fast_app)
        dispatcher.submit_due(job.id, utcnow())
        assert dispatcher.wait_idle(10)
        assert fresh(Job, job.id).is_active is False
        assert executions_of(job.id) == []
    assert receiver.received() == []


def test_graceful_shutdown_waits_for_running_calls_up_to_the_bound(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        quick = make_job("quick", target_url=receiver.url("/hang/0.5"))
        stuck = make_job("stuck", target_url=receiver.url("/hang/30"))
        dispatcher = get_dispatcher(fast_app)
        dispatcher.submit_due(quick.id, utcnow())
        dispatcher.submit_due(stuck.id, utcnow())
        receiver.wait_for(2)
        started = time.monotonic()
        dispatcher.shutdown(1.0)
        assert time.monotonic() - started < 5
        assert executions_of(quick.id)[0].status == "success"
        assert executions_of(stuck.id)[0].status == "failed"


def test_a_database_step_is_retried_after_a_transient_failure() -> None:
    from sqlalchemy.exc import OperationalError

    from src.scheduler.runs import with_retries

    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("INSERT", {}, Exception("server has gone away"))
        return "claimed"

    assert with_retries(flaky) == "claimed" and len(calls) == 3
    calls.clear()

    def down() -> str:
        calls.append(1)
        raise OperationalError("INSERT", {}, Exception("connection refused"))

    with pytest.raises(OperationalError):
        with_retries(down)
    assert len(calls) == 3


def test_a_run_skipped_for_max_instances_is_recorded_missed_with_the_reason(fast_app: Flask,
                                                                            receiver: Receiver) -> None:
    with fast_app.app_context():
        job = make_job("busy", target_url=receiver.url("/ok"))
        dispatcher = get_dispatcher(fast_app)
        dispatcher.submit_due(job.id, utcnow(), missed_reason="Missed: 3 earlier runs of this job were still running")
        assert dispatcher.wait_idle(10)
        [execution] = executions_of(job.id)
    assert execution.status == "missed" and "3 earlier runs" in (execution.error_message or "")
    assert receiver.received() == []


def test_a_fire_time_claimed_ahead_is_called_at_its_instant_and_the_hand_over_adds_nothing(
        fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        job = make_job("ahead", target_url=receiver.url("/ok"))
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow().replace(microsecond=0) + timedelta(seconds=2)
        assert dispatcher.prepare([(job.id, fire)]) == [(job.id, fire)]
        [claim] = executions_of(job.id)
        assert claim.status == "running" and claim.scheduled_for == fire
        assert receiver.received() == []
        assert dispatcher.prepare([(job.id, fire)]) == []  # already claimed: not again
        time.sleep(max(0.0, (fire - utcnow()).total_seconds()) + 0.5)
        [request] = receiver.received("/ok")
        assert 0 <= request.arrived - fire.timestamp() < 0.5
        handed_over = []
        dispatcher.submit_due(job.id, fire, lambda: handed_over.append(True))
        assert dispatcher.wait_idle(10)
        [execution] = executions_of(job.id)
    assert handed_over == [True]
    assert execution.status == "success"
    assert 0 <= (execution.started_at - fire).total_seconds() < 0.5
    assert len(receiver.received()) == 1


def test_max_instances_counts_every_running_call_of_the_job(fast_app: Flask, receiver: Receiver) -> None:
    with fast_app.app_context():
        job = make_job("slow", target_url=receiver.url("/hang/3"))
        dispatcher = get_dispatcher(fast_app)
        base = utcnow().replace(microsecond=0)
        for offset in range(4):
            dispatcher.submit_due(job.id, base - timedelta(seconds=offset))
        assert dispatcher.wait_idle(15)
        statuses = sorted(e.status for e in executions_of(job.id))
    assert statuses == ["failed", "failed", "failed", "missed"]


def test_a_claim_given_back_before_its_fire_time_is_not_called(fast_app: Flask, receiver: Receiver) -> None:
    from src.scheduler.recovery import release_unstarted

    with fast_app.app_context():
        job = make_job("given-back", target_url=receiver.url("/ok"))
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow().replace(microsecond=0) + timedelta(seconds=2)
        assert dispatcher.prepare([(job.id, fire)]) == [(job.id, fire)]
        assert release_unstarted([dispatcher.runner_id]) == 1  # what a new leader does with a dead one's claims
        time.sleep(max(0.0, (fire - utcnow()).total_seconds()) + 0.5)
        assert executions_of(job.id) == []
    assert receiver.received() == []


def test_a_started_claim_is_not_given_back(fast_app: Flask, receiver: Receiver) -> None:
    from src.scheduler.recovery import release_unstarted

    with fast_app.app_context():
        job = make_job("started", target_url=receiver.url("/hang/3"))
        dispatcher = get_dispatcher(fast_app)
        fire = utcnow().replace(microsecond=0) + timedelta(seconds=2)
        dispatcher.prepare([(job.id, fire)])
        time.sleep(max(0.0, (fire - utcnow()).total_seconds()) + 0.5)
        assert release_unstarted([dispatcher.runner_id]) == 0
        assert dispatcher.wait_idle(10)
        [execution] = executions_of(job.id)
    assert execution.status == "failed" and len(receiver.received()) == 1
