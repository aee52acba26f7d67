"""The scheduler of this process: APScheduler running only while this process holds the leader lease."""
from __future__ import annotations

from typing import Any


def scheduler_status() -> dict[str, Any]:
    """What /api/health reports about scheduling in this process."""
    from src.scheduler.engine import current_engine

    engine = current_engine()
    if engine is None:
        return {
            "scheduler_running": False,
            "scheduled_jobs_count": 0,
            "scheduler_leader": False,
            "lease_expires_at": None,
        }
    return engine.status()
