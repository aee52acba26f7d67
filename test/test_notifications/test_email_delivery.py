"""Email goes through a real SMTP server (aiosmtpd on loopback), off the caller's path, and survives an outage."""
from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from src.models import NotificationDelivery, db
from src.models.base import utcnow
from src.services.notification_delivery import process_due_deliveries
from src.utils import notifications as broadcast
from test.conftest import World
from test.test_notifications.conftest import SlackReceiver, SmtpServer, enable_slack, make_execution, make_job


def body(message: object, subtype: str) -> str:
    for part in message.walk():  # type: ignore[attr-defined]
        if part.get_content_type() == f"text/{subtype}":
            return part.get_payload(decode=True).decode()
    raise AssertionError(f"no text/{subtype} part")


def test_failure_email_has_plain_and_html_bodies_with_the_facts_and_a_link(
        mctx: Flask, world: World, smtp: SmtpServer) -> None:
    job = make_job(world.id("alice"), enable_email_notifications=True, notification_emails="ops@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed", error="HTTP 503: <maintenance>"))
    db.session.commit()
    assert smtp.inbox == []  # nothing is sent by the broadcast itself
    assert process_due_deliveries()["sent"] == 2
    [message] = smtp.to("ops@example.com")
    assert message["Subject"] == "[Cron Scheduler] Job 'nightly-report' failed"
    assert message["From"] == "scheduler@example.com"
    text, html = body(message, "plain"), body(message, "html")
    for expected in ("Job: nightly-report", "Status: failed", "Scheduled for: 2026-11-26 12:00:00 JST (+09:00)",
                     "Duration: 1.50 s", "Error: HTTP 503: <maintenance>",
                     f"https://cron.example.com/jobs/{job.id}"):
        assert expected in text
    assert "HTTP 503: &lt;maintenance&gt;" in html and f'href="https://cron.example.com/jobs/{job.id}"' in html
    assert len(smtp.to("alice@example.com")) == 1
    rows = db.session.scalars(select(NotificationDelivery)).all()
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)} and all(r.sent_at for r in rows)


def test_success_email_only_with_notify_on_success(mctx: Flask, world: World, smtp: SmtpServer) -> None:
    quiet = make_job(world.id("alice"), name="quiet", enable_email_notifications=True,
                     notification_emails="ops@example.com")
    loud = make_job(world.id("alice"), name="loud", enable_email_notifications=True,
                    notification_emails="ops@example.com", notify_on_success=True)
    broadcast.broadcast_job_success(quiet, make_execution(quiet, "success"))
    broadcast.broadcast_job_success(loud, make_execution(loud, "success"))
    db.session.commit()
    process_due_deliveries()
    assert [m["Subject"] for m in smtp.inbox] == ["[Cron Scheduler] Job 'loud' succeeded"]


def test_smtp_outage_delays_nothing_and_the_email_arrives_once_smtp_is_back(
        mctx: Flask, world: World, smtp: SmtpServer) -> None:
    smtp.stop()
    job = make_job(world.id("alice"))
    started = time.perf_counter()
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert time.perf_counter() - started < 0.5  # the event is recorded without touching SMTP

    now = utcnow()
    assert process_due_deliveries(now) == {"sent": 0, "pending": 1, "failed": 0}
    row = db.session.scalars(select(NotificationDelivery)).one()
    assert row.attempts == 1 and "unavailable" in (row.last_error or "")
    assert row.next_attempt_at >= now + timedelta(seconds=29)
    assert process_due_deliveries(now)["pending"] == 0  # not due again before the backoff
    assert process_due_deliveries(now + timedelta(seconds=31))["pending"] == 1  # second try, still down
    db.session.refresh(row)
    assert row.attempts == 2 and row.next_attempt_at >= now + timedelta(seconds=90)

    smtp.start()
    assert process_due_deliveries(now + timedelta(minutes=3)) == {"sent": 1, "pending": 0, "failed": 0}
    assert len(smtp.to("alice@example.com")) == 1
    db.session.refresh(row)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert process_due_deliveries(now + timedelta(hours=1)) == {"sent": 0, "pending": 0, "failed": 0}
    assert len(smtp.inbox) == 1


def test_delivery_is_marked_failed_after_the_maximum_attempts(mctx: Flask, world: World, smtp: SmtpServer) -> None:
    smtp.stop()
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    now = utcnow()
    outcomes = [process_due_deliveries(now + timedelta(hours=2 * i)) for i in range(10)]
    row = db.session.scalars(select(NotificationDelivery)).one()
    assert (row.status, row.attempts) == ("failed", mctx.config["NOTIFICATION_MAX_ATTEMPTS"])
    assert sum(o["failed"] for o in outcomes) == 1


def test_a_refused_recipient_fails_at_once_without_retries(mctx: Flask, world: World, smtp: SmtpServer) -> None:
    job = make_job(world.id("alice"), enable_email_notifications=True, notification_emails="bounce@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    process_due_deliveries()
    rows = {r.recipient: r for r in db.session.scalars(select(NotificationDelivery))}
    assert rows["alice@example.com"].status == "sent"
    assert (rows["bounce@example.com"].status, rows["bounce@example.com"].attempts) == ("failed", 1)


def test_a_line_break_in_a_job_name_cannot_inject_mail_headers(mctx: Flask, world: World, smtp: SmtpServer) -> None:
    job = make_job(world.id("alice"), name="evil\r\nBcc: victim@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert process_due_deliveries()["sent"] == 1
    [message] = smtp.inbox
    assert message["Bcc"] is None and message["X-Envelope-To"] == "alice@example.com"
    assert message["Subject"] == "[Cron Scheduler] Job 'evil Bcc: victim@example.com' failed"


def test_a_dead_smtp_server_costs_one_attempt_per_batch_and_does_not_hold_slack_back(
        mctx: Flask, world: World, smtp: SmtpServer, slack: SlackReceiver) -> None:
    smtp.stop()
    enable_slack(slack.url)
    job = make_job(world.id("alice"), enable_email_notifications=True,
                   notification_emails="a@example.com, b@example.com, c@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    now = utcnow()
    assert process_due_deliveries(now) == {"sent": 1, "pending": 1, "failed": 0}
    assert len(slack.posts) == 1
    emails = db.session.scalars(select(NotificationDelivery).where(NotificationDelivery.channel == "email")).all()
    assert sorted(e.attempts for e in emails) == [0, 0, 0, 1]
    assert all(e.status == "pending" and e.next_attempt_at >= now + timedelta(seconds=30) for e in emails)
    smtp.start()
    assert process_due_deliveries(now + timedelta(minutes=2)) == {"sent": 4, "pending": 0, "failed": 0}
    assert len(smtp.inbox) == 4
