"""Two `python -m src scheduler` processes on one MariaDB database, on the wall clock for three minutes (slow).

Both run through two minute boundaries (the standby must not fire anything); then the leader is SIGKILLed two
seconds before the third. The standby takes over within the lease, fires that minute late but exactly once, and
marks the dead leader's still-running call failed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from src.config import PROJECT_ROOT
from src.models import JobExecution, SchedulerLease, db
from src.models.base import utcnow
from test.test_scheduler.conftest import make_job, wait_until
from test.test_scheduler.receiver import Receiver

pytestmark = pytest.mark.slow
LEASE_SECONDS = 5


@pytest.fixture
def mariadb(database_url: str) -> str:
    if not database_url.startswith("mysql"):
        pytest.skip("runs on MariaDB only (TEST_DATABASE_URL=mysql://...)")
    return database_url


def start_scheduler(database_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_ENV": "development", "SCHEDULER_ENABLED": "true",
           "SCHEDULER_LEASE_SECONDS": str(LEASE_SECONDS), "WEBHOOK_TIMEOUT_SECONDS": "120",
           "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "ALLOW_DEFAULT_ADMIN": "false", "MAIL_ENABLED": "false",
           "LOG_LEVEL": "warning", "SCHEDULER_TIMEZONE": "Asia/Tokyo"}
    return subprocess.Popen([sys.executable, "-m", "src", "scheduler"], cwd=PROJECT_ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def lease_holder_pid() -> int | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(SchedulerLease.holder_id, SchedulerLease.expires_at)
                           .where(SchedulerLease.name == "scheduler")).first()
    if row is None or row.holder_id is None or row.expires_at <= utcnow():
        return None
    return int(row.holder_id.split(":")[1])


def next_boundary(after: datetime, margin: float) -> datetime:
    boundary = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return boundary if (boundary - after).total_seconds() >= margin else boundary + timedelta(minutes=1)


def sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - utcnow()).total_seconds()))


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()


def test_two_processes_fire_each_minute_once_and_hand_over_after_sigkill(
        ctx: Flask, mariadb: str, receiver: Receiver, processes: list[subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    first_minute = next_boundary(utcnow(), margin=20)
    minutes = [first_minute + timedelta(minutes=i) for i in range(3)]
    last_minute = minutes[-1]
    jobs = [make_job(f"every-minute-{i:02d}", "* * * * *", target_url=receiver.url(f"/ok/{i}"),
                     scheduled_since=utcnow()).id for i in range(20)]
    minute_jst = minutes[1].astimezone(ZoneInfo("Asia/Tokyo")).minute  # still hanging when the leader dies
    hanging = make_job("hangs-once", f"{minute_jst} * * * *", target_url=receiver.url("/hang/100"),
                       scheduled_since=utcnow()).id

    processes.append(start_scheduler(mariadb, tmp_path / "a.log"))
    assert wait_until(lambda: lease_holder_pid() == processes[0].pid, timeout=20), (tmp_path / "a.log").read_text()
    processes.append(start_scheduler(mariadb, tmp_path / "b.log"))

    sleep_until(last_minute - timedelta(seconds=2))
    assert lease_holder_pid() == processes[0].pid  # the standby never took over while the leader lived
    processes[0].send_signal(signal.SIGKILL)
    processes[0].wait(timeout=5)
    killed_at = utcnow()
    assert wait_until(lambda: lease_holder_pid() == processes[1].pid, timeout=LEASE_SECONDS + 10)
    took_over = (utcnow() - killed_at).total_seconds()
    assert took_over <= LEASE_SECONDS + 3, took_over
    sleep_until(last_minute + timedelta(seconds=LEASE_SECONDS + 8))

    with db.engine.connect() as conn:
        rows = conn.execute(select(JobExecution.job_id, JobExecution.scheduled_for, JobExecution.status,
                                   JobExecution.started_at, JobExecution.runner_id, JobExecution.error_message)
                            .where(JobExecution.scheduled_for.in_(minutes))).all()
    per_fire = Counter((row.job_id, row.scheduled_for) for row in rows)
    for job_id in jobs:
        for minute in minutes:
            assert per_fire[(job_id, minute)] == 1, (job_id, minute)
    every_minute = [row for row in rows if row.job_id in jobs]
    assert {row.status for row in every_minute} == {"success"}
    late = [(row.started_at - row.scheduled_for).total_seconds() for row in every_minute
            if row.scheduled_for == last_minute]
    assert max(late) <= LEASE_SECONDS + 5  # the hand-over shows as lag, not as a lost or doubled run
    arrivals = Counter((r.path, r.headers["X-Cron-Scheduled-For"]) for r in receiver.received("/ok/"))
    assert set(arrivals.values()) == {1}  # no target ever got a fire time twice
    checked = {minute.astimezone(ZoneInfo("Asia/Tokyo")).isoformat() for minute in minutes}
    assert len([key for key in arrivals if key[1] in checked]) == 60
    [interrupted] = [row for row in rows if row.job_id == hanging]
    assert interrupted.status == "failed" and interrupted.runner_id.split(":")[1] == str(processes[0].pid)
    assert (interrupted.error_message or "").startswith("Interrupted:")
