"""Benchmark of the jobs API on SQLite at scale (a script, not a test): `.venv/bin/python test/perf/bench_jobs_api.py`.

Seeds 100,000 jobs (10 categories, 5 teams, one APScheduler row each) and 1,000,000 executions into a fresh SQLite
file, then measures through the Flask test client (the whole request: routing, JWT, database, JSON):
- GET /api/jobs?page=1&limit=50 with a search and a category filter (target p99 < 50 ms), and other list shapes;
- GET /api/jobs/{id} (target p99 < 10 ms);
- POST /api/jobs/bulk-upload with 10,000 new rows (target < 10 s), then the same file again (10,000 updates).
Options: --jobs, --executions, --requests, --keep (keep the database file).
"""
from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.app import create_app  # noqa: E402
from src.models import User, db  # noqa: E402
from src.models.base import new_id  # noqa: E402
from src.services.auth_tokens import issue_tokens  # noqa: E402
from src.services.bootstrap import ensure_reference_data  # noqa: E402
from src.utils.db_migrations import upgrade_database  # noqa: E402

CATEGORIES = [f"cat-{i}" for i in range(10)]
TEAMS = [f"team-{i}" for i in range(5)]
WORDS = ["report", "sync", "backup", "etl", "cleanup", "billing", "export", "index", "digest", "audit"]
CRONS = ["0 9 * * 1-5", "*/15 * * * *", "0 0 * * *", "30 2 * * 0", "0 */6 * * *"]
SQL_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy's SQLite DateTime stores values


def seed(path: Path, owner_id: str, jobs: int, executions: int) -> list[str]:
    """Bulk inserts with the sqlite3 module: the fastest honest way to build the data set."""
    rng = random.Random(42)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")  # 256 MiB: six indexes on a million random UUID rows
    conn.executemany("INSERT INTO job_categories (id, slug, name, is_active, created_at, updated_at) "
                     "VALUES (?, ?, ?, 1, ?, ?)",
                     [(new_id(), slug, slug.title(), now.strftime(SQL_TIME), now.strftime(SQL_TIME))
                      for slug in CATEGORIES])
    conn.executemany("INSERT INTO pic_teams (id, slug, name, is_active, created_at, updated_at) "
                     "VALUES (?, ?, ?, 1, ?, ?)",
                     [(new_id(), slug, slug.title(), now.strftime(SQL_TIME), now.strftime(SQL_TIME))
                      for slug in TEAMS])
    ids = [new_id() for _ in range(jobs)]
    rows = []
    for i, job_id in enumerate(ids):
        word = WORDS[i % len(WORDS)]
        created = (now - timedelta(seconds=jobs - i)).strftime(SQL_TIME)
        github = i % 2 == 0
        rows.append((job_id, f"{word}-job-{i:06d}", CRONS[i % len(CRONS)],
                     None if github else f"https://hooks.example.com/{word}/{i}",
                     "acme" if github else None, f"{word}-repo-{i % 500}" if github else None,
                     "run.yml" if github else None, CATEGORIES[rng.randrange(len(CATEGORIES))],
                     TEAMS[i % len(TEAMS)], i % 7 != 0, owner_id, created, created, created))
    conn.executemany(
        "INSERT INTO jobs (id, name, cron_expression, target_url, github_owner, github_repo, github_workflow_name, "
        "category, pic_team, is_active, created_by, scheduled_since, created_at, updated_at, "
        "enable_email_notifications, notify_on_success) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0)", rows)
    epoch = now.replace(tzinfo=timezone.utc).timestamp()
    conn.executemany("INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (?, ?, x'00')",
                     [(job_id, epoch + rng.randrange(86400)) for i, job_id in enumerate(ids) if i % 7 != 0])
    batch = []
    for n in range(executions):
        started = now - timedelta(microseconds=rng.randrange(90 * 86400 * 10**6))
        batch.append((new_id(), ids[rng.randrange(jobs)], "success" if n % 10 else "failed", "scheduled",
                      started.strftime(SQL_TIME), started.strftime(SQL_TIME)))
        if len(batch) == 100_000:
            conn.executemany("INSERT INTO job_executions (id, job_id, status, trigger_type, scheduled_for, started_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)", batch)
            batch = []
    if batch:
        conn.executemany("INSERT INTO job_executions (id, job_id, status, trigger_type, scheduled_for, started_at) "
                         "VALUES (?, ?, ?, ?, ?, ?)", batch)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    return ids


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1000:7.2f} ms   p99 {p99 * 1000:7.2f} ms   (n={len(ordered)})"


def measure(client, headers: dict[str, str], urls: list[str]) -> list[float]:
    for url in urls[:10]:
        assert client.get(url, headers=headers).status_code == 200
    samples = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_json()
    return samples


def csv_rows(count: int, prefix: str) -> bytes:
    lines = ["Job Name,Cron Expression,Status,Target URL,Repo,Workflow Name,GitHub Owner,Category,PIC Team,Branch"]
    for i in range(count):
        if i % 2:
            lines.append(f"{prefix}-{i:05d},0 9 * * 1-5,Enable,https://hooks.example.com/{i},,,,cat-1,team-2,")
        else:
            lines.append(f"{prefix}-{i:05d},*/30 * * * *,Disable,,acme/repo-{i % 50},ci.yml,,cat-2,,main")
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--executions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench_jobs_"))
    path = workdir / "bench.db"
    app = create_app({"FLASK_ENV": "testing", "DATABASE_URL": f"sqlite:///{path}", "SCHEDULER_ENABLED": False,
                      "RATELIMIT_ENABLED": False, "MAIL_ENABLED": False, "ALLOW_DEFAULT_ADMIN": False,
                      "LOG_LEVEL": "warning", "SECRET_KEY": "benchmark-secret-key-0123456789-abcdefghij"})
    upgrade_database(app)
    with app.app_context():
        ensure_reference_data()
        tokens = {}
        for name, role in (("root", "admin"), ("alice", "user")):
            user = User(username=name, email=f"{name}@example.com", role=role)
            user.set_password("benchmark-password-1")
            db.session.add(user)
            db.session.commit()
            tokens[name] = {"Authorization": f"Bearer {issue_tokens(user)['access_token']}"}
        owner_id = db.session.scalar(db.select(User.id).where(User.username == "alice"))
    started = time.perf_counter()
    ids = seed(path, owner_id, args.jobs, args.executions)
    print(f"seeded {args.jobs:,} jobs and {args.executions:,} executions in {time.perf_counter() - started:.1f} s")

    client = app.test_client()
    rng = random.Random(7)
    n = args.requests
    cases = {
        "list page=1 limit=50 search+category": [
            f"/api/jobs?page=1&limit=50&search={rng.choice(WORDS)}&category={rng.choice(CATEGORIES)}"
            for _ in range(n)],
        "list page=1 limit=50 (no filter)": ["/api/jobs?page=1&limit=50"] * n,
        "list page=20 limit=50 search only": [f"/api/jobs?page=20&limit=50&search={rng.choice(WORDS)}"
                                              for _ in range(n)],
        "list sort_by=next_execution_at": ["/api/jobs?page=1&limit=50&sort_by=next_execution_at&sort_dir=asc"] * n,
        "get /api/jobs/{id}": [f"/api/jobs/{rng.choice(ids)}" for _ in range(n)],
    }
    print(f"{'request':45s} latency through the Flask test client (load average {os.getloadavg()[0]:.1f})")
    for label, urls in cases.items():
        print(f"{label:45s} {percentiles(measure(client, tokens['root'], urls))}")

    for label, prefix in (("bulk upload 10,000 new rows", "bulk"), ("bulk upload 10,000 rows again (updates)", "bulk")):
        body = csv_rows(10_000, prefix)
        if "again" in label:
            body = body.replace(b"0 9 * * 1-5", b"0 10 * * 1-5")
        start, cpu = time.perf_counter(), time.process_time()
        response = client.post("/api/jobs/bulk-upload", data={"file": (io.BytesIO(body), "jobs.csv")},
                               content_type="multipart/form-data", headers=tokens["alice"])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        result = response.get_json()
        assert response.status_code == 200 and result["error_count"] == 0, result.get("errors", result)[:3]
        print(f"{label:45s} {elapsed:6.2f} s  (CPU {cpu:.2f} s; created {result['created_count']}, "
              f"updated {result['updated_count']})")

    with app.app_context():
        db.engine.dispose()
    if args.keep:
        print(f"database kept at {path}")
    else:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
