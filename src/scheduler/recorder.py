"""Writing finished runs: one thread, batches, after the burst.

Results are written together once a burst of claims and calls is over (at most `RECORD_MAX_DELAY_SECONDS` later):
fewer transactions, and the notification work does not compete with the calls for the interpreter. A slow
database or notification therefore never delays the next call.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy.engine import Engine

from src.scheduler.runs import FinishedRun, notify_results, record_results, with_retries

log = logging.getLogger(__name__)
MAX_BATCH = 2000
RECORD_MIN_DELAY_SECONDS = 0.2
RECORD_MAX_DELAY_SECONDS = 1.0
Item = FinishedRun | tuple[str, list[str]]  # a finished call, or ("missed", execution ids) to notify about
T = TypeVar("T")


def drain(source: queue.SimpleQueue[T | None], first: T) -> list[T]:
    """`first` and what else is queued, up to MAX_BATCH; a stop marker (None) is left in the queue."""
    batch = [first]
    while len(batch) < MAX_BATCH:
        try:
            item = source.get_nowait()
        except queue.Empty:
            break
        if item is None:
            source.put(None)
            break
        batch.append(item)
    return batch


class Recorder:
    """Records finished runs and notifies about them, then reports them back through `on_recorded`."""

    def __init__(self, app: Flask, engine: Engine, write_lock: Any, busy: Callable[[], bool],
                 on_recorded: Callable[[list[FinishedRun]], None]) -> None:
        self.app = app
        self.engine = engine
        self.write_lock = write_lock
        self._busy = busy
        self._on_recorded = on_recorded
        self._queue: queue.SimpleQueue[Item | None] = queue.SimpleQueue()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="cron-recorder", daemon=True)
        self._thread.start()

    def put(self, item: Item) -> None:
        self._queue.put(item)

    def hurry(self) -> None:
        """Stop holding writes back for quiet: the process is shutting down and waits for them."""
        self._closing = True

    def close(self, timeout: float) -> None:
        """Write what is queued (without waiting for quiet) and stop."""
        self.hurry()
        self._queue.put(None)
        self._thread.join(timeout=timeout)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            self._wait_for_quiet()
            batch = drain(self._queue, first)
            finished = [item for item in batch if isinstance(item, FinishedRun)]
            missed = [eid for item in batch if isinstance(item, tuple) for eid in item[1]]
            try:
                with_retries(lambda: record_results(self.engine, self.write_lock, finished))
            except Exception:
                log.exception("recording %d finished runs failed", len(finished))
            try:
                notify_results(self.app, self.write_lock, finished, missed)
            except Exception:
                log.exception("notifications for %d runs failed", len(finished) + len(missed))
            self._on_recorded(finished)

    def _wait_for_quiet(self) -> None:
        if self._closing:
            return
        started = time.monotonic()
        time.sleep(RECORD_MIN_DELAY_SECONDS)
        while self._busy() and time.monotonic() - started < RECORD_MAX_DELAY_SECONDS:
            time.sleep(0.05)
