"""The outbox worker: claims make concurrent workers deliver each row once; crashed sends are picked up again."""
from __future__ import annotations

import json
import threading
import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from src.models import NotificationDelivery, db
from src.models.base import utcnow
from src.services.notification_delivery import SENDING_TIMEOUT, DeliveryWorker, process_due_deliveries
from test.test_notifications.conftest import SlackReceiver, enable_slack


def queue_slack(count: int, **fields: object) -> list[str]:
    rows = [NotificationDelivery(channel="slack", event="job_failure", recipient="slack", subject=f"#{i}",
                                 payload=json.dumps({"text": f"message {i}"}), **fields) for i in range(count)]
    db.session.add_all(rows)
    db.session.flush()
    ids = [row.id for row in rows]
    db.session.commit()  # no snapshot stays open (MariaDB's repeatable read would hide the workers' updates)
    return ids


def test_four_concurrent_workers_deliver_every_row_exactly_once(mctx: Flask, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    queue_slack(40)
    results: list[dict[str, int]] = []

    def work() -> None:
        with mctx.app_context():
            results.append(process_due_deliveries(limit=100))
            db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r["sent"] for r in results) == 40
    assert sorted(post["text"] for post in slack.posts) == sorted(f"message {i}" for i in range(40))
    rows = db.session.scalars(select(NotificationDelivery)).all()
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


def test_a_send_interrupted_by_a_crash_is_claimed_again_after_the_timeout(mctx: Flask,
                                                                          slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    now = utcnow()
    [row_id] = queue_slack(1, status="sending", attempts=1, next_attempt_at=now + SENDING_TIMEOUT)
    assert process_due_deliveries(now) == {"sent": 0, "pending": 0, "failed": 0}
    assert process_due_deliveries(now + SENDING_TIMEOUT)["sent"] == 1
    row = db.session.get(NotificationDelivery, row_id)
    assert (row.status, row.attempts) == ("sent", 2)


def test_rows_that_are_not_due_yet_wait(mctx: Flask, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    now = utcnow()
    queue_slack(1, next_attempt_at=now + timedelta(minutes=2))
    assert process_due_deliveries(now)["sent"] == 0
    assert process_due_deliveries(now + timedelta(minutes=2))["sent"] == 1


def test_slack_turned_off_after_queueing_fails_the_row_instead_of_retrying(mctx: Flask) -> None:
    queue_slack(1)
    assert process_due_deliveries()["failed"] == 1
    row = db.session.scalars(select(NotificationDelivery)).one()
    assert row.last_error == "Slack is disabled or has no webhook URL"


def test_the_background_thread_delivers_without_being_called(mctx: Flask, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    queue_slack(3)
    worker = DeliveryWorker(mctx, interval=0.05)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while len(slack.posts) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert len(slack.posts) == 3
