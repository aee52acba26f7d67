"""Prometheus metrics. (The operations issue fills these in; the signatures are what other modules call.)"""
from __future__ import annotations


def observe_execution(status: str, execution_type: str | None, lag_seconds: float | None) -> None:
    """Count a finished execution and, for scheduled runs, record its dispatch lag."""


def set_scheduler_state(is_leader: bool, scheduled_jobs: int) -> None:
    """Publish whether this process leads and how many jobs its scheduler holds."""
