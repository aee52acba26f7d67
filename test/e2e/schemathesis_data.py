"""Creates the records schemathesis works on and writes a schemathesis.toml that pins their ids.

Without real ids every operation on /jobs/{job_id}, /executions/{execution_id}, ... only ever sees 404; with
them the generated requests reach the handlers' real logic (a DELETE may remove one, which is fine).

Usage: python test/e2e/schemathesis_data.py BASE_URL TOKEN RECEIVER_URL OUTPUT_TOML
"""
from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import requests


def main(base: str, token: str, receiver: str, output: str) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        response = session.post(f"{base}{path}", json=body, timeout=30)
        response.raise_for_status()
        return response.json()

    tag = uuid.uuid4().hex[:8]
    job = post("/api/jobs", {"name": f"st-job-{tag}", "cron_expression": "*/5 * * * *", "target_url": receiver})["job"]
    execution_id = post(f"/api/jobs/{job['id']}/execute", {})["execution_id"]
    for _ in range(100):
        if session.get(f"{base}/api/executions/{execution_id}", timeout=30).json()["execution"]["status"] != "running":
            break
        time.sleep(0.1)
    user = post("/api/auth/register", {"username": f"st-user-{tag}", "email": f"st-{tag}@example.com",
                                       "password": "st-user-password-1", "role": "user"})["user"]
    category = post("/api/job-categories", {"name": f"ST Category {tag}"})["category"]
    team = post("/api/pic-teams", {"name": f"ST Team {tag}"})["pic_team"]
    Path(output).write_text(
        "[parameters]\n"
        f'job_id = "{job["id"]}"\n'
        f'execution_id = "{execution_id}"\n'
        f'user_id = "{user["id"]}"\n'
        f'category_id = "{category["id"]}"\n'
        f'team_id = "{team["id"]}"\n'
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
