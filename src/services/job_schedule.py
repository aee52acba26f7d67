"""The bridge from job changes to the scheduler (the jobs table is the truth, the job store follows it)."""
from __future__ import annotations

from collections.abc import Iterable


def jobs_changed(job_ids: Iterable[str]) -> None:
    """Call after committing a create, update, pause, resume or delete of these jobs (the jobs table is the truth);
    the scheduler brings its job store in line, in this process if it leads, otherwise the leader notices.

    The leader reconciles by comparing the whole jobs table with its job store, so the ids only matter as a
    signal; another process's leader sees the change through its one-second poll of count/max(updated_at).
    """
    from src.scheduler.engine import current_engine

    if not list(job_ids):
        return
    engine = current_engine()
    if engine is not None:
        engine.notify_changed()
