"""Scheduler fixtures: a real HTTP receiver on loopback, jobs made directly through the models, and apps with
short timeouts for the failure cases."""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from src.app import create_app
from src.models import Job, JobExecution, User, db
from test.conftest import test_config
from test.test_scheduler.receiver import Receiver, start_receiver

NOW = datetime(2026, 11, 26, 1, 0, 10, tzinfo=timezone.utc)  # 10:00:10 in Asia/Tokyo


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = start_receiver()
    yield server
    server.stop()


@pytest.fixture
def fast_app(database_url: str) -> Iterator[Flask]:
    """The same database with a 2 s call timeout and 4 workers, so failure cases finish quickly."""
    application = create_app(test_config(database_url, WEBHOOK_TIMEOUT_SECONDS=2.0, SCHEDULER_MAX_WORKERS=4,
                                         SCHEDULER_LEASE_SECONDS=3))
    yield application
    dispatcher = application.extensions.get("cron_dispatcher")
    if dispatcher is not None:
        dispatcher.shutdown(5)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def make_owner(name: str = "owner") -> str:
    user = User(username=name, email=f"{name}@example.com", role="user")
    user.set_password("correct-horse-battery")
    db.session.add(user)
    db.session.commit()
    return user.id


def make_job(name: str, cron: str = "* * * * *", **values: Any) -> Job:
    values.setdefault("scheduled_since", NOW - timedelta(hours=1))
    job = Job(name=name, cron_expression=cron, **values)
    if "target_url" not in values and "github_repo" not in values:
        job.target_url = "http://127.0.0.1:9/unused"
    db.session.add(job)
    db.session.commit()
    return job


def executions_of(job_id: str) -> list[JobExecution]:
    """Read through a new session: the test's own session may hold an old snapshot (MariaDB repeatable read)."""
    with Session(db.engine, expire_on_commit=False) as session:
        return list(session.scalars(select(JobExecution).where(JobExecution.job_id == job_id)
                                    .order_by(JobExecution.scheduled_for, JobExecution.started_at)))


def fresh(model: type[Any], key: str) -> Any:
    """A row as committed now (see executions_of)."""
    with Session(db.engine, expire_on_commit=False) as session:
        return session.get(model, key)


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
