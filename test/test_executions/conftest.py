"""Execution endpoint fixtures: a loopback receiver and jobs/executions made directly through the models."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from src.models import Job, JobExecution, db
from test.test_scheduler.receiver import Receiver, start_receiver

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=timezone.utc)  # 10:00 on 20 Nov in Asia/Tokyo


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = start_receiver()
    yield server
    server.stop()


def add_job(app: Any, name: str, owner_id: str | None, **values: Any) -> str:
    with app.app_context():
        job = Job(name=name, cron_expression=values.pop("cron", "0 9 * * *"), created_by=owner_id, **values)
        if "target_url" not in values and "github_repo" not in values:
            job.target_url = "http://127.0.0.1:9/unused"
        db.session.add(job)
        db.session.commit()
        return job.id


def add_execution(app: Any, job_id: str, status: str, started: datetime, **values: Any) -> str:
    with app.app_context():
        execution = JobExecution(job_id=job_id, status=status, trigger_type=values.pop("trigger_type", "scheduled"),
                                 started_at=started, scheduled_for=values.pop("scheduled_for", started),
                                 execution_type=values.pop("execution_type", "webhook"), **values)
        if status != "running":
            execution.completed_at = started + timedelta(seconds=values.get("duration_seconds") or 1)
        db.session.add(execution)
        db.session.commit()
        return execution.id
