"""Benchmark: the cost of notifications on the dispatch path, and that delivery happens off it.

    .venv/bin/python -m test.perf.bench_notifications [--jobs 1000] [--users 50] [--database URL]

Builds 1,000 jobs owned by 45 users (plus 5 admins), each with two notification emails and a PIC team, Slack on.
Then, as the dispatcher does (all broadcasts of a batch, one commit):
  A. 1,000 first failures with the SMTP server DOWN: broadcast_job_failure's time per call, and the commit;
  B. 1,000 repeat failures (throttled: no new alerts);
  C. 1,000 first failures of other jobs while a delivery worker thread drains A's outbox through a slow SMTP
     server (50 ms per message): per-call times match A, so sending never slows the dispatch path;
  D. the worker's delivery rate to a real SMTP server and Slack receiver;
  E. (--dispatch) the real scheduler with 1,000 `* * * * *` jobs failing (connection refused) at two consecutive
     fire times, notifications off and then on (50 users, Slack on, SMTP answering in 50 ms, worker running):
     dispatch lag = started_at - fire time. Waits for real minute boundaries (about 5 minutes).
Default database: a fresh SQLite file; pass a MariaDB/PostgreSQL server URL to create a throw-away database there.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from src.app import create_app
from src.models import (Job, JobExecution, Notification, NotificationDelivery, PicTeam, SlackSettings, User, db)
from src.models.base import utcnow
from src.scheduler.db_access import write_lock
from src.services.notification_delivery import DeliveryWorker, process_due_deliveries
from src.utils.db_migrations import upgrade_database
from src.utils.notifications import broadcast_job_failure
from test.conftest import _server_database
from test.conftest import test_config as app_config
from test.test_notifications.conftest import free_port


class SlowSink:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
        self.count += 1
        return "250 OK"


@contextmanager
def smtp_server(port: int, delay: float) -> Iterator[SlowSink]:
    sink = SlowSink(delay)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@contextmanager
def slack_receiver() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T/B/bench"
    finally:
        server.shutdown()
        server.server_close()


def build_world(jobs: int, users: int, slack_url: str) -> list[str]:
    admins = max(1, users // 10)
    people = [User(username=f"u{i:03d}", email=f"u{i:03d}@example.com", role="admin" if i < admins else "user",
                   password_hash="x") for i in range(users)]
    db.session.add_all(people)
    db.session.add(PicTeam(slug="ops", name="Ops", slack_handle="S0BENCH01"))
    db.session.add(SlackSettings(is_enabled=True, webhook_url=slack_url))
    db.session.flush()
    owners = [p.id for p in people[admins:]] or [people[0].id]
    rows = [Job(name=f"job-{i:05d}", cron_expression="* * * * *", target_url="http://127.0.0.1:9/x",
                created_by=owners[i % len(owners)], pic_team="ops", enable_email_notifications=True,
                notification_emails=f"team{i % 20}@example.com, oncall@example.com") for i in range(jobs)]
    db.session.add_all(rows)
    db.session.commit()
    return [job.id for job in rows]


def failing_batch(job_ids: list[str], at: Any) -> tuple[list[float], float]:
    """One dispatcher batch: executions recorded, then every broadcast, then one commit. Returns per-call ms."""
    jobs = {j.id: j for j in db.session.scalars(select(Job).where(Job.id.in_(job_ids)))}
    executions = [JobExecution(job_id=job_id, status="failed", trigger_type="scheduled", scheduled_for=at,
                               started_at=at, completed_at=at + timedelta(seconds=2), duration_seconds=2.0,
                               execution_type="webhook", target="http://127.0.0.1:9/x", response_status=500,
                               error_message="HTTP 500: upstream exploded") for job_id in job_ids]
    db.session.add_all(executions)
    db.session.commit()
    for execution in executions:
        _ = execution.job_id  # load before timing, as the dispatcher has them loaded
    calls = []
    for execution in executions:
        started = time.perf_counter()
        broadcast_job_failure(jobs[execution.job_id], execution)
        calls.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    with write_lock(db.engine):  # as the dispatcher commits
        db.session.commit()
    return calls, (time.perf_counter() - started) * 1000


def report(label: str, calls: list[float], commit_ms: float) -> None:
    ordered = sorted(calls)
    print(f"{label}: {len(calls)} calls  mean {statistics.mean(calls):.2f} ms  p50 {ordered[len(ordered) // 2]:.2f}"
          f"  p95 {ordered[int(len(ordered) * 0.95)]:.2f}  max {ordered[-1]:.2f} ms  total {sum(calls):.0f} ms"
          f"  + commit {commit_ms:.0f} ms")


def counts() -> str:
    notes = db.session.scalar(select(func.count()).select_from(Notification))
    by_status = dict(db.session.execute(select(NotificationDelivery.status, func.count())
                                        .group_by(NotificationDelivery.status)).all())
    db.session.commit()
    return f"in-app rows {notes}, outbox {by_status}"


def drain(until: Callable[[], bool], timeout: float = 600) -> float:
    started = time.perf_counter()
    while not until() and time.perf_counter() - started < timeout:
        process_due_deliveries(utcnow() + timedelta(hours=2), limit=200)  # retries scheduled for later are due
    return time.perf_counter() - started


def lag_stats(values: list[float]) -> str:
    if not values:
        return "no executions"
    ordered = sorted(values)
    return (f"{len(values)} runs, p50 {ordered[len(ordered) // 2] * 1000:.0f} ms, "
            f"p99 {ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms")


def dispatch_lag(url: str, jobs: int, users: int, notify: bool) -> None:
    """Two consecutive fire times of `jobs` failing jobs under the real engine; prints the lag of each."""
    from src.scheduler.engine import start_engine, stop_engine

    port = free_port()
    app = create_app(app_config(url, SCHEDULER_ENABLED=True, MAIL_ENABLED=notify, MAIL_SERVER="127.0.0.1",
                                MAIL_PORT=port, MAIL_USE_TLS=False, LOG_LEVEL="warning",
                                NOTIFICATION_ALERT_INTERVAL_MINUTES=0))
    upgrade_database(app)
    with slack_receiver() as slack_url, smtp_server(port, delay=0.05), app.app_context():
        build_world(jobs, users, slack_url)
        if not notify:
            db.session.execute(db.delete(SlackSettings))
            db.session.execute(db.delete(User))
            db.session.commit()
        worker = DeliveryWorker(app, interval=1.0)
        if notify:
            worker.start()
        engine = start_engine(app)
        try:
            while not engine.is_leader:
                time.sleep(0.05)
            now = utcnow()
            first = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            if (first - now).total_seconds() < 5:
                first += timedelta(minutes=1)
            second = first + timedelta(minutes=1)
            time.sleep(max(0.0, (second - utcnow()).total_seconds()) + 15)
            engine.dispatcher.wait_idle(60)
        finally:
            stop_engine(app, timeout=5)
            if notify:
                worker.stop()
        label = "on " if notify else "off"
        for fire in (first, second):
            rows = db.session.execute(select(JobExecution.started_at, JobExecution.completed_at)
                                      .where(JobExecution.scheduled_for == fire)).all()
            claimed = [(started - fire).total_seconds() for started, _ in rows]
            finished = [(completed - fire).total_seconds() for _, completed in rows if completed]
            print(f"E  notifications {label}, fire {fire:%H:%M}: claimed {lag_stats(claimed)}; "
                  f"call finished {lag_stats(finished)}")
        print(f"   {counts()}")
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--database", default="", help="MariaDB/PostgreSQL server URL (default: SQLite file)")
    parser.add_argument("--dispatch", action="store_true", help="also run E (real scheduler, about 5 minutes)")
    parser.add_argument("--skip-outbox", action="store_true", help="skip A-D")
    args = parser.parse_args()
    if not args.skip_outbox:
        with fresh_database(args.database) as url:
            run(url, args.jobs, args.users)
    if args.dispatch:
        for notify in (False, True):
            with fresh_database(args.database) as url:
                dispatch_lag(url, args.jobs, args.users, notify)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A throw-away database: a SQLite file, or a new database on the given MariaDB/PostgreSQL server."""
    if server_url:
        yield from _server_database(server_url)
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db"


def run(url: str, jobs: int, users: int) -> None:
    port = free_port()
    app = create_app(app_config(url, MAIL_ENABLED=True, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                                MAIL_USE_TLS=False, LOG_LEVEL="warning", NOTIFICATION_MAX_ATTEMPTS=50))
    upgrade_database(app)
    with slack_receiver() as slack_url, app.app_context():
        job_ids = build_world(2 * jobs, users, slack_url)
        first, second = job_ids[:jobs], job_ids[jobs:]
        now = utcnow()
        print(f"database {db.engine.dialect.name}; {jobs} failing jobs, {users} users "
              f"({max(1, users // 10)} admins), 2 notification emails per job, Slack on")

        calls, commit_ms = failing_batch(first, now)
        report("A  first failures, SMTP down      ", calls, commit_ms)
        print(f"   {counts()}")
        calls, commit_ms = failing_batch(first, now + timedelta(minutes=1))
        report("B  repeat failures (throttled)    ", calls, commit_ms)
        outcome = process_due_deliveries(now + timedelta(minutes=1), limit=100)
        print(f"   worker with SMTP down: {outcome} (one email tried, the other emails deferred, Slack sent)")

        with smtp_server(port, delay=0.05) as sink:
            worker = DeliveryWorker(app, interval=0.1)
            worker.start()
            try:
                time.sleep(0.5)
                calls, commit_ms = failing_batch(second, now + timedelta(minutes=2))
                report("C  first failures, worker sending ", calls, commit_ms)
                print(f"   emails the worker sent meanwhile (50 ms each): {sink.count}")
            finally:
                worker.stop()

        with smtp_server(port, delay=0.0) as sink:
            pending = db.session.scalar(select(func.count()).select_from(NotificationDelivery)
                                        .where(NotificationDelivery.status != "sent"))
            db.session.commit()

            def done() -> bool:
                left = db.session.scalar(select(func.count()).select_from(NotificationDelivery)
                                         .where(NotificationDelivery.status.in_(("pending", "sending"))))
                db.session.commit()
                return left == 0

            seconds = drain(done, timeout=900)
            print(f"D  worker delivered {pending} deliveries in {seconds:.1f} s "
                  f"({pending / seconds:.0f}/s, one SMTP connection per email)")
            print(f"   {counts()}")
    with app.app_context():
        db.engine.dispose()


if __name__ == "__main__":
    main()
