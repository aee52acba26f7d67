"""Auth cost per request: login (one PBKDF2 verify), an authenticated request (blocklist + user lookup), logout.

    .venv/bin/python test/perf/bench_auth.py [DATABASE_URL]

Without an argument it uses a temporary SQLite file; a given URL must name a scratch database (tables are created).

Runs in-process with Flask's test client, so the figures are the server's own work without network or WSGI server.
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from src.app import create_app
from src.models import User, db
from src.utils.db_migrations import upgrade_database

PASSWORD = "benchmark-password"


def timed(label: str, count: int, call: Callable[[int], int]) -> None:
    samples = []
    for index in range(count):
        start = time.perf_counter()
        status = call(index)
        samples.append((time.perf_counter() - start) * 1000)
        assert status == 200, f"{label}: HTTP {status}"
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(f"{label:<34} n={count:<4} p50={statistics.median(samples):7.2f} ms  p95={p95:7.2f} ms  "
          f"max={samples[-1]:7.2f} ms")


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"DATABASE_URL": url, "FLASK_ENV": "testing", "RATELIMIT_ENABLED": False,
                      "SECRET_KEY": "benchmark-secret-key-0123456789abcdef",
                      "SCHEDULER_ENABLED": False, "ALLOW_DEFAULT_ADMIN": False, "LOG_LEVEL": "warning"})
    upgrade_database(app)
    with app.app_context():
        if db.session.scalar(db.select(User).where(User.username == "bench")) is None:
            user = User(username="bench", email="bench@example.com", role="user")
            user.set_password(PASSWORD)
            db.session.add(user)
            db.session.commit()
    client = app.test_client()
    body = {"username": "bench", "password": PASSWORD}
    sessions: list[dict[str, str]] = []

    def login(_index: int) -> int:
        response = client.post("/api/auth/login", json=body)
        sessions.append(response.get_json())
        return response.status_code

    timed("POST /api/auth/login", 50, login)
    headers = {"Authorization": f"Bearer {sessions[0]['access_token']}"}
    timed("GET /api/auth/me (token checks)", 500, lambda _i: client.get("/api/auth/me", headers=headers).status_code)
    timed("POST /api/auth/logout", 40, lambda i: client.post(
        "/api/auth/logout", headers={"Authorization": f"Bearer {sessions[i + 1]['access_token']}"}).status_code)
    timed("GET /api/auth/me (40 revocations)", 500,
          lambda _i: client.get("/api/auth/me", headers=headers).status_code)


if __name__ == "__main__":
    main()
