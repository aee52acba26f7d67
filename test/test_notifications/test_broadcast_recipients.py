"""Who receives each job event, in-app and in the email/Slack outbox, for every preference the spec names."""
from __future__ import annotations

import json
from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from src.models import Notification, NotificationDelivery, User, db
from src.utils import notifications as broadcast
from test.conftest import World
from test.test_notifications.conftest import (NOW, SlackReceiver, enable_slack, make_execution, make_job, make_team,
                                              set_prefs)


def in_app(world: World) -> dict[str, list[str]]:
    """username -> titles of their notifications."""
    names = {info["id"]: name for name, info in world.users.items()}
    result: dict[str, list[str]] = {}
    for row in db.session.scalars(select(Notification).order_by(Notification.created_at)):
        result.setdefault(names[row.user_id], []).append(row.title)
    return result


def outbox(channel: str | None = None) -> list[NotificationDelivery]:
    query = select(NotificationDelivery).order_by(NotificationDelivery.recipient)
    if channel:
        query = query.where(NotificationDelivery.channel == channel)
    return list(db.session.scalars(query))


def emails_to() -> list[str]:
    return sorted(d.recipient for d in outbox("email"))


def actor(world: World, name: str) -> User:
    return db.session.get(User, world.id(name))


def test_failure_notifies_owner_and_admins_in_app_but_not_other_users(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert in_app(world) == {"alice": ["Job 'nightly-report' failed"], "root": ["Job 'nightly-report' failed"]}
    note = db.session.scalars(select(Notification).where(Notification.user_id == world.id("alice"))).one()
    assert note.type == "error" and note.related_job_id == job.id and note.related_execution_id
    assert "HTTP 500: upstream exploded" in note.message


def test_failure_emails_the_owner_by_default_and_the_job_list_when_enabled(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"), enable_email_notifications=True,
                   notification_emails="ops@example.com, ALICE@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert emails_to() == ["alice@example.com", "ops@example.com"]


def test_job_list_gets_no_email_when_job_email_notifications_are_off(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"), enable_email_notifications=False, notification_emails="ops@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert emails_to() == ["alice@example.com"]


def test_owner_who_turned_off_email_on_job_failure_gets_no_email(mctx: Flask, world: World) -> None:
    set_prefs(world.id("alice"), email_on_job_failure=False)
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert emails_to() == []
    assert "alice" in in_app(world)


def test_admins_get_no_email_for_jobs_they_do_not_own(mctx: Flask, world: World) -> None:
    job = make_job(world.id("bob"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert emails_to() == ["bob@example.com"]


def test_success_is_silent_unless_someone_opted_in(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"), enable_email_notifications=True, notification_emails="ops@example.com")
    broadcast.broadcast_job_success(job, make_execution(job, "success"))
    db.session.commit()
    assert in_app(world) == {} and outbox() == []


def test_notify_on_success_tells_the_owner_in_app_and_emails_the_job_list(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"), enable_email_notifications=True, notification_emails="ops@example.com",
                   notify_on_success=True)
    broadcast.broadcast_job_success(job, make_execution(job, "success"))
    db.session.commit()
    assert in_app(world) == {"alice": ["Job 'nightly-report' succeeded"]}
    assert emails_to() == ["ops@example.com"]


def test_email_on_job_success_preference_emails_the_owner_only_for_own_jobs(mctx: Flask, world: World) -> None:
    set_prefs(world.id("alice"), email_on_job_success=True)
    set_prefs(world.id("bob"), email_on_job_success=True)
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_success(job, make_execution(job, "success"))
    db.session.commit()
    assert emails_to() == ["alice@example.com"]
    assert in_app(world) == {"alice": ["Job 'nightly-report' succeeded"]}


def test_success_after_failures_sends_a_recovery_to_everyone_who_got_the_alert(
        mctx: Flask, world: World, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    job = make_job(world.id("alice"), enable_email_notifications=True, notification_emails="ops@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed", NOW))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed", NOW + timedelta(minutes=5)))
    broadcast.broadcast_job_success(job, make_execution(job, "success", NOW + timedelta(minutes=10)))
    db.session.commit()
    recovered = [d for d in outbox() if d.event == "job_recovered"]
    assert sorted(d.recipient for d in recovered) == ["alice@example.com", "ops@example.com", "slack"]
    assert in_app(world)["root"] == ["Job 'nightly-report' failed", "Job 'nightly-report' recovered"]
    assert "after 2 failed runs" in db.session.scalars(
        select(Notification).where(Notification.title.like("%recovered"))).first().message
    broadcast.broadcast_job_success(job, make_execution(job, "success", NOW + timedelta(minutes=15)))
    db.session.commit()
    assert len([d for d in outbox() if d.event == "job_recovered"]) == 3


def test_missed_run_alerts_owner_and_admins_email_and_slack(mctx: Flask, world: World, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_missed(job, make_execution(job, "missed", error=""))
    db.session.commit()
    missed = ["Job 'nightly-report' missed a run"]
    assert in_app(world) == {"alice": missed, "root": missed}
    assert [(d.channel, d.recipient, d.event) for d in outbox()] == [
        ("email", "alice@example.com", "job_missed"), ("slack", "slack", "job_missed")]


def test_auto_pause_warns_owner_admins_by_email_disabled_preference_and_slack(
        mctx: Flask, world: World, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    job = make_job(world.id("alice"), end_date=date(2026, 11, 25))
    broadcast.broadcast_job_auto_paused(job)
    db.session.commit()
    paused = ["Job 'nightly-report' auto-paused"]
    assert in_app(world) == {"alice": paused, "root": paused}
    assert sorted((d.channel, d.recipient) for d in outbox()) == [("email", "alice@example.com"), ("slack", "slack")]
    db.session.execute(db.delete(NotificationDelivery))
    set_prefs(world.id("alice"), email_on_job_disabled=False)
    broadcast.broadcast_job_auto_paused(job)
    db.session.commit()
    assert [d.channel for d in outbox()] == ["slack"]


def test_end_date_warning_goes_in_app_and_by_email_to_owner_but_not_to_slack(
        mctx: Flask, world: World, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    job = make_job(world.id("alice"), end_date=date(2026, 11, 29))
    broadcast.broadcast_job_end_date_warning(job, 3)
    db.session.commit()
    assert in_app(world) == {"alice": ["Job 'nightly-report' ends in 3 days"],
                             "root": ["Job 'nightly-report' ends in 3 days"]}
    assert [(d.channel, d.recipient) for d in outbox()] == [("email", "alice@example.com")]


def test_disabled_by_an_admin_tells_the_owner_and_emails_by_preference(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_disabled(job, actor(world, "root"), "maintenance window")
    db.session.commit()
    assert in_app(world) == {"alice": ["Job 'nightly-report' disabled"]}
    assert emails_to() == ["alice@example.com"]
    db.session.execute(db.delete(NotificationDelivery))
    set_prefs(world.id("alice"), email_on_job_disabled=False)
    broadcast.broadcast_job_disabled(job, actor(world, "root"), "again")
    db.session.commit()
    assert emails_to() == []


def test_owner_is_not_told_about_their_own_changes(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    alice = actor(world, "alice")
    broadcast.broadcast_job_created(job, alice)
    broadcast.broadcast_job_updated(job, alice, ["cron_expression"])
    broadcast.broadcast_job_disabled(job, alice, "")
    broadcast.broadcast_job_enabled(job, alice)
    db.session.commit()
    assert in_app(world) == {"root": ["Job 'nightly-report' created", "Job 'nightly-report' updated",
                                      "Job 'nightly-report' disabled", "Job 'nightly-report' enabled"]}
    assert outbox() == []


def test_deleted_job_notifies_its_owner_without_a_dangling_job_reference(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    job_id = job.id
    db.session.delete(job)
    broadcast.broadcast_job_deleted(job_id, "nightly-report", world.id("alice"), actor(world, "root"))
    db.session.commit()
    rows = list(db.session.scalars(select(Notification)))
    assert [(r.user_id, r.title, r.related_job_id) for r in rows] == [
        (world.id("alice"), "Job 'nightly-report' deleted", None)]


def test_viewers_and_inactive_admins_receive_nothing_for_others_jobs(mctx: Flask, world: World) -> None:
    world.add_user("retired", "admin", active=False)
    job = make_job(world.id("bob"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert set(in_app(world)) == {"bob", "root"}


def test_job_without_owner_still_reaches_admins(mctx: Flask, world: World) -> None:
    job = make_job(None)
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert set(in_app(world)) == {"root"}
    assert emails_to() == []


def test_mail_disabled_writes_no_email_rows(ctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"), enable_email_notifications=True, notification_emails="ops@example.com")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert outbox("email") == []
    assert set(in_app(world)) == {"alice", "root"}


def test_slack_is_not_queued_when_disabled(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert outbox("slack") == []


def test_slack_payload_mentions_the_pic_team_and_links_the_job(mctx: Flask, world: World,
                                                                slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    make_team("data-platform", "S0123ABCD")
    job = make_job(world.id("alice"), pic_team="data-platform")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed", error="boom <script> & co"))
    db.session.commit()
    payload = json.loads(outbox("slack")[0].payload)
    text = json.dumps(payload)
    assert payload["text"].startswith("<!subteam^S0123ABCD>")
    assert payload["blocks"][0]["type"] == "header"
    assert f"https://cron.example.com/jobs/{job.id}" in text
    assert "boom &lt;script&gt; &amp; co" in text and "<script>" not in text


def test_a_broken_template_never_fails_the_callers_change(mctx: Flask, world: World) -> None:
    job = make_job(world.id("alice"))
    execution = make_execution(job, "failed")
    execution.error_message = 12345  # type: ignore[assignment]
    broadcast.broadcast_job_failure(job, execution)
    execution.error_message = "fine"
    db.session.commit()
    assert db.session.get(type(execution), execution.id).status == "failed"


def test_rows_the_caller_has_not_flushed_yet_are_still_referenced(mctx: Flask, world: World) -> None:
    from src.models import Job, JobExecution

    job = Job(name="fresh", cron_expression="* * * * *", target_url="http://127.0.0.1:9/x",
              created_by=world.id("alice"))
    db.session.add(job)
    broadcast.broadcast_job_created(job, actor(world, "alice"))
    execution = JobExecution(job_id=job.id, status="failed", trigger_type="manual", error_message="boom")
    db.session.add(execution)
    broadcast.broadcast_job_failure(job, execution)
    db.session.commit()
    rows = db.session.scalars(select(Notification).where(Notification.user_id == world.id("root"))).all()
    assert {(r.title, r.related_job_id) for r in rows} == {("Job 'fresh' created", job.id),
                                                           ("Job 'fresh' failed", job.id)}
    assert {r.related_execution_id for r in rows} == {None, execution.id}
