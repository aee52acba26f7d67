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


def _exit_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def start_scheduling(app: Flask) -> None:
    """Join the leader election when SCHEDULER_ENABLED (API processes); stop gracefully at interpreter exit.

    A server that leaves SIGTERM at its default (the development server) would die without running exit
    handlers, so SIGTERM is turned into a normal exit there; servers with their own handler (gunicorn) keep it.
    """
    if not app.config.get("SCHEDULER_ENABLED"):
        log.info("SCHEDULER_ENABLED=false: this process serves the API only")
        return
    start_engine(app)
    atexit.register(stop_engine, app)
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


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
