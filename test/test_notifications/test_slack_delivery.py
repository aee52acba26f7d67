"""Slack messages go to a real HTTP receiver from the outbox, with retries on 5xx and no retries on 4xx."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from src.models import NotificationDelivery, SlackSettings, db
from src.models.base import utcnow
from src.services.notification_delivery import process_due_deliveries
from src.utils import notifications as broadcast
from src.utils.slack import slack_mention
from test.conftest import World
from test.test_notifications.conftest import (SlackReceiver, enable_slack, make_execution, make_job, make_team,
                                              set_prefs)


def only_slack(world: World) -> None:
    set_prefs(world.id("alice"), email_on_job_failure=False, email_on_job_disabled=False)


def test_failure_posts_block_kit_with_team_mention_and_job_link(mctx: Flask, world: World,
                                                                 slack: SlackReceiver) -> None:
    enable_slack(slack.url, channel="#alerts")
    make_team("payments", "@payments-oncall")
    job = make_job(world.id("alice"), pic_team="payments")
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert slack.posts == []
    assert process_due_deliveries()["sent"] == 2
    [post] = slack.posts
    assert post["channel"] == "#alerts"
    assert post["text"] == "@payments-oncall Job 'nightly-report' failed"
    kinds = [block["type"] for block in post["blocks"]]
    assert kinds == ["header", "section", "section", "section", "actions"]
    assert post["blocks"][1]["text"]["text"].startswith(":red_circle: @payments-oncall Job 'nightly-report' failed")
    assert post["blocks"][4]["elements"][0]["url"] == f"https://cron.example.com/jobs/{job.id}"
    facts = " ".join(field["text"] for field in post["blocks"][2]["fields"])
    assert f"<https://cron.example.com/jobs/{job.id}|nightly-report>" in facts and "*Duration*\n1.50 s" in facts


def test_auto_pause_and_missed_are_posted_but_success_is_not(mctx: Flask, world: World,
                                                              slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    only_slack(world)
    job = make_job(world.id("alice"), notify_on_success=True)
    broadcast.broadcast_job_success(job, make_execution(job, "success"))
    broadcast.broadcast_job_missed(job, make_execution(job, "missed", at=utcnow() - timedelta(hours=3), error=""))
    broadcast.broadcast_job_auto_paused(job)
    db.session.commit()
    process_due_deliveries()
    assert [post["blocks"][0]["text"]["text"] for post in slack.posts] == [
        "Job 'nightly-report' missed a run", "Job 'nightly-report' auto-paused"]


def test_slack_server_error_is_retried_with_backoff_then_delivered(mctx: Flask, world: World,
                                                                    slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    only_slack(world)
    slack.statuses = [500, 503]
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    now = utcnow()
    assert process_due_deliveries(now)["pending"] == 1
    assert process_due_deliveries(now + timedelta(seconds=31))["pending"] == 1
    assert process_due_deliveries(now + timedelta(seconds=40))["pending"] == 0  # backoff doubled to 60 s
    assert process_due_deliveries(now + timedelta(seconds=100))["sent"] == 1
    row = db.session.scalars(select(NotificationDelivery)).one()
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(slack.posts) == 3


def test_a_rejected_webhook_fails_without_retries(mctx: Flask, world: World, slack: SlackReceiver) -> None:
    enable_slack(slack.url)
    only_slack(world)
    slack.statuses = [404]
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert process_due_deliveries()["failed"] == 1
    row = db.session.scalars(select(NotificationDelivery)).one()
    assert (row.status, row.attempts) == ("failed", 1) and row.last_error.startswith("HTTP 404")


def test_queued_messages_use_the_webhook_configured_at_send_time(mctx: Flask, world: World,
                                                                  slack: SlackReceiver) -> None:
    enable_slack("http://127.0.0.1:9/old-hook")
    only_slack(world)
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    db.session.scalars(select(SlackSettings)).one().webhook_url = slack.url
    db.session.commit()
    process_due_deliveries()
    assert len(slack.posts) == 1


def test_an_unreachable_slack_does_not_block_email(mctx: Flask, world: World, smtp: object) -> None:
    enable_slack("http://127.0.0.1:9/closed-port")
    job = make_job(world.id("alice"))
    broadcast.broadcast_job_failure(job, make_execution(job, "failed"))
    db.session.commit()
    assert process_due_deliveries() == {"sent": 1, "pending": 1, "failed": 0}


def test_slack_mentions_accept_the_usual_handle_forms() -> None:
    assert slack_mention("S0123ABCD") == "<!subteam^S0123ABCD>"
    assert slack_mention("@U0123ABCD") == "<@U0123ABCD>"
    assert slack_mention("<!subteam^S1|@team>") == "<!subteam^S1|@team>"
    assert slack_mention("here") == "<!here>"
    assert slack_mention("@data-team") == "@data-team"
    assert slack_mention("a<b") == "@a&lt;b"
    assert slack_mention("  ") is None and slack_mention(None) is None
