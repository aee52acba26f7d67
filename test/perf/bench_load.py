"""Load benchmark: gunicorn (production settings) with 10,000 jobs while the scheduler fires 1,000 jobs a minute.

    .venv/bin/python test/perf/bench_load.py [--duration 60] [--connections 4] [--scheduler in-workers|separate]
                                             [--workers 2] [--threads 8] [--database-url URL]

Seeds a scratch database (a temporary SQLite file unless --database-url names an empty scratch database) with
10,000 jobs, 1,000 of them `* * * * *` calling a webhook receiver on loopback; starts gunicorn with
src/gunicorn.conf.py; waits until the leader has scheduled every job; then drives wrk (Debian package `wrk`)
against authenticated GET /api/jobs/{id} (random ids), GET /api/jobs?page=1&limit=50 and POST /api/auth/login,
one after the other, and prints requests/s, p50/p99 and errors of each, plus the calls of the bursts due during
the run and their dispatch lag as the receiver saw it (arrival of a request's first bytes - fire time; the
receiver is bench_dispatch's asyncio one with a large accept backlog). Targets: GET /api/jobs/{id} >= 500
requests/s with p99 < 50 ms, and no error.
Traffic stays on 127.0.0.1; everything it starts is stopped at the end.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from test.perf.bench_dispatch import percentile, receiver_process  # noqa: E402  (needs the project root)
PY = sys.executable
PASSWORD = "bench-load-password-0123"
TARGET_RPS, TARGET_P99_MS = 500.0, 50.0


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed(env: dict[str, str], total: int, firing: int, receiver_url: str) -> list[str]:
    """Schema, an admin and `total` jobs (`firing` of them every minute); returns the job ids."""
    subprocess.run([PY, "-m", "src", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(env)
    from src.app import create_app
    from src.models import Job, User, db

    app = create_app()
    with app.app_context():
        admin = User(username="bench", email="bench@example.com", role="admin", is_active=True)
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.flush()
        ids = []
        for start in range(0, total, 1000):
            batch = [Job(name=f"bench-job-{index:05d}", cron_expression="* * * * *" if index < firing else "0 3 1 1 *",
                         target_url=receiver_url, created_by=admin.id, job_metadata=json.dumps({"n": index}))
                     for index in range(start, min(start + 1000, total))]
            db.session.add_all(batch)
            db.session.flush()
            ids.extend(job.id for job in batch)
        db.session.commit()
        db.engine.dispose()
    return ids


def wrk(name: str, url: str, script: Path, duration: int, connections: int) -> Result:
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
               url]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"wrk failed on {name}: {run.stdout}{run.stderr}")
    out = run.stdout

    def millis(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups())) if socket_errors else 0)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return Result(name, rps, millis("50%"), millis("99%"), total, errors)


def lua(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


def scrape(base: str, token: str) -> dict[str, float]:
    text = requests.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10).text
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("cron_scheduled_jobs"):
            key, value = line.rsplit(" ", 1)
            values[key] = values.get(key, 0.0) + float(value)
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--firing", type=int, default=1_000, help="jobs that fire every minute")
    parser.add_argument("--duration", type=int, default=60, help="seconds per endpoint (a minute holds one firing burst)")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", default=os.environ.get("GUNICORN_WORKERS", "2"))
    parser.add_argument("--threads", default=os.environ.get("GUNICORN_THREADS", "8"))
    parser.add_argument("--database-url", help="an empty scratch database (default: a temporary SQLite file)")
    parser.add_argument("--scheduler", choices=("in-workers", "separate"), default="in-workers",
                        help="in-workers: every gunicorn worker stands for leader (the default deployment); "
                             "separate: API workers with SCHEDULER_ENABLED=false and one `python -m src scheduler`")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    processes: list[subprocess.Popen[bytes]] = []
    stack = ExitStack()
    try:
        receiver_port, collect = stack.enter_context(receiver_process())
        receiver = f"http://127.0.0.1:{receiver_port}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        metrics_token = secrets.token_urlsafe(24)
        env = {**os.environ, "FLASK_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48),
               "DATABASE_URL": args.database_url or f"sqlite:///{work / 'bench.db'}", "HOST": "127.0.0.1",
               "PORT": str(port), "GUNICORN_WORKERS": args.workers,
               "GUNICORN_THREADS": args.threads, "MAIL_ENABLED": "false",
               "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true", "METRICS_TOKEN": metrics_token,
               "PROMETHEUS_MULTIPROC_DIR": str(work / "prometheus"), "LOG_LEVEL": "warning"}
        started = time.monotonic()
        ids = seed(env, args.jobs, args.firing, f"{receiver}/hook")
        print(f"seeded {len(ids)} jobs ({args.firing} every minute) in {time.monotonic() - started:.1f} s")

        log = (work / "server.log").open("wb")
        api_env = {**env, "SCHEDULER_ENABLED": "false"} if args.scheduler == "separate" else env
        processes.append(subprocess.Popen([PY, "-m", "gunicorn", "--config", "src/gunicorn.conf.py"], cwd=ROOT,
                                          env=api_env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/api/health", timeout=5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        if args.scheduler == "separate":
            # Started after gunicorn, which empties the metrics directory; its gauges then show in /metrics.
            processes.append(subprocess.Popen([PY, "-m", "src", "scheduler"], cwd=ROOT, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
        scheduled = 0.0
        while time.monotonic() < deadline and scheduled < args.jobs:
            time.sleep(0.5)
            scheduled = scrape(base, metrics_token).get("cron_scheduled_jobs", 0.0)
        print(f"gunicorn: {args.workers} workers x {args.threads} threads, scheduler {args.scheduler}; leader "
              f"scheduled {scheduled:.0f} jobs {time.monotonic() - started:.1f} s after start")

        token = requests.post(f"{base}/api/auth/login", json={"username": "bench", "password": PASSWORD},
                              timeout=10).json()["access_token"]
        auth = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
        sample = random.Random(7).sample(ids, 2000)
        by_id = lua(work / "by_id.lua", auth + "local ids = {" + ",".join(f'"{i}"' for i in sample) + "}\n"
                    "request = function()\n  return wrk.format(nil, \"/api/jobs/\" .. ids[math.random(#ids)])\nend\n")
        page = lua(work / "page.lua", auth)
        login = lua(work / "login.lua", 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.body = \'{{"username": "bench", "password": "{PASSWORD}"}}\'\n')

        run_started = time.time()
        results = [
            wrk("GET /api/jobs/{id}", base, by_id, args.duration, args.connections),
            wrk("GET /api/jobs?page=1&limit=50", f"{base}/api/jobs?page=1&limit=50", page, args.duration,
                args.connections),
            wrk("POST /api/auth/login", f"{base}/api/auth/login", login, args.duration, args.connections),
        ]
        run_ended = time.time()
        # Bursts due within the run; one that fell due just before its end gets a few seconds to arrive.
        time.sleep(5)
        # Every firing job is `* * * * *`: each whole minute of the run is a burst, whether or not any call came.
        bursts = len(range(math.ceil(run_started / 60) * 60, math.floor(run_ended) + 1, 60))
        lags: list[float] = []
        for _job, when_text, arrived in collect():
            when = datetime.fromisoformat(when_text).timestamp() if when_text else None
            if when is not None and run_started <= when <= run_ended:
                lags.append(arrived - when)
        calls = len(lags)

        print(f"\nload: wrk -t{min(2, args.connections)} -c{args.connections}, {args.duration} s per endpoint, "
              f"{len(ids)} jobs, {os.cpu_count()} CPUs")
        print(f"{'endpoint':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}")
        for r in results:
            print(f"{r.name:<32}{r.rps:>9.0f}{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.requests:>10}{r.errors:>8}")
        print(f"scheduler during the run: {bursts} bursts of {args.firing} jobs, {calls} calls received "
              f"({bursts * args.firing - calls} missing)", end="")
        if lags:
            print(f"; dispatch lag at the target p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
                  f"p99 {percentile(lags, 0.99) * 1000:.0f} ms, max {max(lags) * 1000:.0f} ms")
        else:
            print()
        by_id_result = results[0]
        ok = by_id_result.rps >= TARGET_RPS and by_id_result.p99_ms < TARGET_P99_MS and not any(
            r.errors for r in results)
        print(f"target GET /api/jobs/{{id}} >= {TARGET_RPS:.0f} req/s, p99 < {TARGET_P99_MS:.0f} ms, no errors: "
              f"{'met' if ok else 'NOT met'}")
        return 0 if ok else 1
    finally:
        for process in reversed(processes):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        stack.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
