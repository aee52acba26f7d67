"""A job failing every minute alerts on the first failure, then at most once per interval, and on recovery."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from src.models import Notification, NotificationDelivery, db
from src.services.notification_delivery import process_due_deliveries
from src.utils import notifications as broadcast
from test.conftest import World
from test.test_notifications.conftest import NOW, SlackReceiver, SmtpServer, enable_slack, make_execution, make_job


def fail_every_minute(job: object, minutes: int, start: object = NOW) -> None:
    for minute in range(minutes):
        broadcast.broadcast_job_failure(job, make_execution(job, "failed", start + timedelta(minutes=minute)))
        db.session.commit()


def test_sixty_failures_in_an_hour_send_one_email_per_recipient(mctx: Flask, world: World, smtp: SmtpServer,
                                                                  slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    job = make_job(world.id("alice"), enable_email_notifications=True, notification_emails="ops@example.com")
    fail_every_minute(job, 60)
    process_due_deliveries()
    assert len(smtp.to("ops@example.com")) == 1
    assert len(smtp.to("alice@example.com")) == 1
    assert len(slack.posts) == 1
    per_user = dict(db.session.execute(select(Notification.user_id, func.count()).group_by(Notification.user_id)).all())
    assert per_user == {world.id("alice"): 1, world.id("root"): 1}


def test_the_next_alert_after_the_interval_says_how_many_failures_were_held_back(
        mctx: Flask, world: World, smtp: SmtpServer) -> None:
    job = make_job(world.id("alice"))
    fail_every_minute(job, 121)  # 0..120 minutes: alerts at 0, 60 and 120
    process_due_deliveries()
    subjects = [m["Subject"] for m in smtp.to("alice@example.com")]
    assert len(subjects) == 3
    messages = list(db.session.scalars(select(Notification.message).where(Notification.user_id == world.id("alice"))
                                       .order_by(Notification.created_at)))
    assert "more time" not in messages[0]
    assert "It failed 59 more times since the last alert (61 in a row)." in messages[1]
    assert "It failed 59 more times since the last alert (121 in a row)." in messages[2]


def test_recovery_is_sent_once_and_the_next_failure_alerts_again_at_once(mctx: Flask, world: World,
                                                                          smtp: SmtpServer) -> None:
    job = make_job(world.id("alice"))
    fail_every_minute(job, 10)
    broadcast.broadcast_job_success(job, make_execution(job, "success", NOW + timedelta(minutes=10)))
    broadcast.broadcast_job_success(job, make_execution(job, "success", NOW + timedelta(minutes=11)))
    db.session.commit()
    fail_every_minute(job, 1, start=NOW + timedelta(minutes=12))
    process_due_deliveries()
    assert [m["Subject"] for m in smtp.to("alice@example.com")] == [
        "[Cron Scheduler] Job 'nightly-report' failed", "[Cron Scheduler] Job 'nightly-report' recovered",
        "[Cron Scheduler] Job 'nightly-report' failed"]


def test_missed_runs_and_failures_share_one_throttle(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed", NOW))
    broadcast.broadcast_job_missed(job, make_execution(job, "missed", NOW + timedelta(minutes=1), error=""))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(NotificationDelivery)) == 1


def test_each_job_is_throttled_on_its_own(mctx: Flask, world: World) -> None:
    first = make_job(world.id("alice"), name="first")
    second = make_job(world.id("alice"), name="second")
    broadcast.broadcast_job_failure(first, make_execution(first, "failed", NOW))
    broadcast.broadcast_job_failure(second, make_execution(second, "failed", NOW))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(NotificationDelivery)) == 2


def test_interval_zero_alerts_on_every_failure(mctx: Flask, world: World) -> None:
    mctx.config["NOTIFICATION_ALERT_INTERVAL_MINUTES"] = 0
    try:
        job = make_job(world.id("alice"))
        fail_every_minute(job, 5)
    finally:
        mctx.config["NOTIFICATION_ALERT_INTERVAL_MINUTES"] = 60
    assert db.session.scalar(select(func.count()).select_from(NotificationDelivery)) == 5


def test_a_batch_of_events_broadcast_before_one_commit_is_throttled_and_recovers(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    runs = [make_execution(job, status, NOW + timedelta(minutes=i))
            for i, status in enumerate(["failed", "failed", "missed", "success"])]
    db.session.commit()
    for execution in runs:  # like the dispatcher: no flush between the broadcasts
        {"failed": broadcast.broadcast_job_failure, "missed": broadcast.broadcast_job_missed,
         "success": broadcast.broadcast_job_success}[execution.status](job, execution)
    db.session.commit()
    events = sorted(db.session.scalars(select(NotificationDelivery.event)))
    assert events == ["job_failure", "job_recovered"]
    assert "after 3 failed runs" in db.session.scalars(
        select(Notification.message).where(Notification.title.like("%recovered"))).first()
