"""Opening a burst's connections before its fire time, so that at the instant only bytes are written.

Opening waits on the network (and a TLS handshake takes a millisecond or two of CPU), so a small pool of threads
does it about a second ahead. What is not open by shortly before the instant is given up and runs the ordinary
way; a connection that opens after that is closed. Each open connection is a file descriptor, so a burst holds at
most as many as the process's limit allows with a reserve left for everything else.
"""
from __future__ import annotations

import resource
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

from src.scheduler.job_executor import CallSettings, PreparedCall, discard_prepared, prepare_call
from src.scheduler.runs import Claim

OPEN_AHEAD_SECONDS = 1.0
OPENER_THREADS = 16
SPARE_DESCRIPTORS = 512
MAX_DESCRIPTORS = 65536


class Opener:
    """Prepares calls (connection opened, request serialised) on its own threads."""

    def __init__(self, settings: CallSettings) -> None:
        self.settings = settings
        self.budget = open_connection_budget()
        self._pool = ThreadPoolExecutor(max_workers=OPENER_THREADS, thread_name_prefix="cron-open")

    def open(self, claims: Sequence[Claim], within: float) -> dict[str, PreparedCall]:
        """Prepare the calls of `claims` for at most `within` seconds (a slow host does not hold an opener thread
        longer either); execution id -> prepared call."""
        futures: dict[str, Future[PreparedCall | None]] = {}
        for claim in claims[:self.budget] if within > 0 else []:
            try:
                futures[claim.execution_id] = self._pool.submit(prepare_call, claim.target, claim.context(),
                                                                self.settings, within)
            except RuntimeError:  # shutting down
                break
        wait(futures.values(), timeout=max(0.0, within))
        opened: dict[str, PreparedCall] = {}
        for execution_id, future in futures.items():
            if not future.done():
                future.cancel()
                future.add_done_callback(_discard_late)
            elif future.exception() is None and (call := future.result()) is not None:
                opened[execution_id] = call
        return opened

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _discard_late(future: Future[PreparedCall | None]) -> None:
    """Close a connection that opened after its burst was sent without it."""
    if not future.cancelled() and future.exception() is None and (call := future.result()) is not None:
        discard_prepared(call)


def open_connection_budget() -> int:
    """How many connections a burst may hold open ahead: the descriptor limit, raised towards its hard cap when
    allowed, less a reserve for database connections, the API's sockets and files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_DESCRIPTORS if hard == resource.RLIM_INFINITY else min(hard, MAX_DESCRIPTORS)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    limit = MAX_DESCRIPTORS if soft == resource.RLIM_INFINITY else soft
    return max(0, limit - SPARE_DESCRIPTORS)
