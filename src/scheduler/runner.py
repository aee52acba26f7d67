"""Run modes: scheduling beside the API (`start_background_services`) or alone (`python -m src scheduler`)."""
from __future__ import annotations

import atexit
import logging
import signal
import threading
from types import FrameType

from flask import Flask

from src.scheduler.engine import start_engine, stop_engine

log = logging.getLogger(__name__)


def start_scheduling(app: Flask) -> None:
    """Join the leader election when SCHEDULER_ENABLED (API processes); stop gracefully at interpreter exit."""
    if not app.config.get("SCHEDULER_ENABLED"):
        log.info("SCHEDULER_ENABLED=false: this process serves the API only")
        return
    start_engine(app)
    atexit.register(stop_engine, app)


def run_scheduler_only(app: Flask) -> int:
    """A process that only schedules: runs until SIGTERM/SIGINT, then finishes running calls and hands over."""
    stopping = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping the scheduler", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    from src.services.bootstrap import ensure_reference_data

    with app.app_context():
        ensure_reference_data()
    start_engine(app)
    while not stopping.wait(1.0):
        pass
    stop_engine(app)
    return 0
