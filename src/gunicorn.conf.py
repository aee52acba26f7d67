"""gunicorn settings for FLASK_ENV=production (`./start_server.sh`; see README, Deployment).

Every worker is a full service process: it serves requests with a thread pool and starts the background services
(scheduler, notification worker). The scheduler's leader lease lets exactly one process of all workers on all
hosts fire jobs, so any number of workers is safe. Tunables: GUNICORN_WORKERS, GUNICORN_THREADS,
GUNICORN_TIMEOUT, GUNICORN_GRACEFUL_TIMEOUT, FORWARDED_ALLOW_IPS, PROMETHEUS_MULTIPROC_DIR.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from gunicorn.glogging import Logger

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from src.config import ConfigError, load_settings  # noqa: E402  (needs the project root on sys.path)
from src.utils.logging import RedactingFormatter, RequestIdFilter, make_formatter  # noqa: E402

try:
    SETTINGS = load_settings()
except ConfigError as exc:
    # One clear line and a non-zero exit instead of a traceback from every worker.
    print(f"configuration error: {exc}", file=sys.stderr)
    sys.exit(2)

wsgi_app = "src.wsgi:app"
chdir = str(PROJECT_ROOT)
bind = f"{SETTINGS['HOST']}:{SETTINGS['PORT']}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
# SIGTERM: stop accepting, finish in-flight requests (and release the scheduler lease) within this many seconds.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# gunicorn's largest request line (its default, 4094, answers longer URLs with its own HTML 414 before the app
# can give its JSON error); requests with long filter values reach the app and get the contract's 400.
limit_request_line = 8190
# gunicorn's control socket is one fixed path per user: several servers on one host would fight over it.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
loglevel = SETTINGS["LOG_LEVEL"]
errorlog = "-"
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" request_id=%({x-request-id}o)s'

# prometheus-client's multiprocess mode: each worker writes its values to files in one directory that /metrics
# merges. It must be set before a worker imports prometheus_client, so it is set here, in the master.
OWN_PROMETHEUS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if OWN_PROMETHEUS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cron-scheduler-prometheus-")
PROMETHEUS_DIR = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])


class ServiceLogger(Logger):
    """gunicorn's own lines in the service's format: request id on access lines, JSON with LOG_FORMAT=json."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = make_formatter(SETTINGS["LOG_FORMAT"])
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter)
            handler.addFilter(RequestIdFilter())
        # Access lines keep gunicorn's text layout in text mode, but are scrubbed like every other line.
        access_formatter = formatter if SETTINGS["LOG_FORMAT"] == "json" else RedactingFormatter("%(message)s")
        for handler in self.access_log.handlers:
            handler.setFormatter(access_formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if SETTINGS["LOG_FORMAT"] != "json":
            super().access(resp, req, environ, request_time)
            return
        atoms = self.atoms(resp, req, environ, request_time)
        fields = {
            "type": "access", "remote_addr": atoms["h"], "method": atoms["m"], "path": atoms["U"],
            "status": resp.status_code, "bytes": atoms["B"], "duration_ms": int(atoms["M"]),
            "user_agent": atoms["a"],
        }
        request_id = next((value for name, value in resp.headers if name.lower() == "x-request-id"), "-")
        self.access_log.info("%s %s %s", atoms["m"], atoms["U"], resp.status_code,
                             extra={"fields": fields, "request_id": request_id})


logger_class = ServiceLogger


def on_starting(server: Any) -> None:
    """Start from an empty metrics directory: values of a previous run's processes must not be merged in."""
    PROMETHEUS_DIR.mkdir(parents=True, exist_ok=True)
    for stale in PROMETHEUS_DIR.glob("*.db"):
        stale.unlink()


def post_worker_init(worker: Any) -> None:
    """Each worker starts the scheduler and notification worker; leader election keeps one of them firing."""
    from src.app import start_background_services

    start_background_services(worker.wsgi)


def child_exit(server: Any, worker: Any) -> None:
    """A dead worker's live gauges (leader, scheduled jobs) must stop counting."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if OWN_PROMETHEUS_DIR:
        shutil.rmtree(PROMETHEUS_DIR, ignore_errors=True)
