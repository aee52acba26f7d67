"""`python -m src scheduler` for real: it takes the lease, and SIGTERM makes it exit 0 and release the lease."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from src.config import PROJECT_ROOT
from src.models import SchedulerLease, db
from src.models.base import utcnow
from test.test_scheduler.conftest import wait_until


def lease() -> tuple[str | None, object] | None:
    with db.engine.connect() as conn:
        row = conn.execute(select(SchedulerLease.holder_id, SchedulerLease.expires_at)
                           .where(SchedulerLease.name == "scheduler")).first()
    return (row.holder_id, row.expires_at) if row else None


def test_the_scheduler_process_leads_and_hands_over_on_sigterm(ctx: Flask, database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_ENV": "development", "SCHEDULER_ENABLED": "true",
           "ALLOW_DEFAULT_ADMIN": "false", "MAIL_ENABLED": "false", "LOG_LEVEL": "warning"}
    log = tmp_path / "scheduler.log"
    process = subprocess.Popen([sys.executable, "-m", "src", "scheduler"], cwd=PROJECT_ROOT, env=env,
                               stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        held = wait_until(lambda: (current := lease()) is not None and current[0] is not None
                          and current[0].split(":")[1] == str(process.pid) and current[1] > utcnow(), timeout=30)
        assert held, log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
        current = lease()
        assert current is not None and current[1] <= utcnow()  # released: a standby takes over at once
    finally:
        if process.poll() is None:
            process.kill()
