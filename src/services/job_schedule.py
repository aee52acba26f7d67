"""The bridge from job changes to the scheduler. (The scheduler issue fills this in.)"""
from __future__ import annotations

from collections.abc import Iterable


def jobs_changed(job_ids: Iterable[str]) -> None:
    """Call after committing a create, update, pause, resume or delete of these jobs (the jobs table is the truth);
    the scheduler brings its job store in line, in this process if it leads, otherwise the leader notices."""
