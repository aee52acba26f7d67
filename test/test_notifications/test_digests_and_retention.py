"""Daily digests and weekly reports summarise the period for users who turned them on; old read ones are pruned."""
from __future__ import annotations

import json
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from src.models import Notification, NotificationDelivery, db
from src.services.digests import send_daily_digests, send_weekly_reports
from src.services.notifications import prune_read_notifications
from test.conftest import World
from test.test_notifications.conftest import NOW, make_execution, make_job, set_prefs


def history(world: World) -> None:
    fast = make_job(world.id("alice"), name="fast")
    slow = make_job(world.id("bob"), name="slow")
    for hour in range(1, 5):
        make_execution(fast, "success", NOW - timedelta(hours=hour), duration=0.5)
    make_execution(fast, "failed", NOW - timedelta(hours=5))
    make_execution(slow, "failed", NOW - timedelta(hours=6), duration=300)
    make_execution(slow, "failed", NOW - timedelta(hours=7), duration=30)
    make_execution(slow, "missed", NOW - timedelta(hours=8))
    make_execution(slow, "failed", NOW - timedelta(days=3))  # outside the day, inside the week
    db.session.commit()


def digests() -> list[NotificationDelivery]:
    return list(db.session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.recipient)))


def test_daily_digest_goes_only_to_users_who_opted_in_with_counts_failures_and_slowest(
        mctx: Flask, world: World) -> None:
    history(world)
    set_prefs(world.id("alice"), daily_digest=True)
    set_prefs(world.id("victor"), daily_digest=True)
    set_prefs(world.id("bob"), daily_digest=False, weekly_report=True)
    assert send_daily_digests(NOW) == 2
    rows = digests()
    assert [(r.recipient, r.event, r.subject) for r in rows] == [
        ("alice@example.com", "daily_digest", "[Cron Scheduler] Daily digest"),
        ("victor@example.com", "daily_digest", "[Cron Scheduler] Daily digest")]
    text = json.loads(rows[0].payload)["text"]
    for line in ("Executions: 8", "Succeeded: 4", "Failed: 3", "Missed: 1", "Success rate: 50.0%",
                 "  slow: 2 failed", "  fast: 1 failed", "  slow: 5 min 0 s", "https://cron.example.com/jobs/"):
        assert line in text
    assert text.index("  slow: 5 min 0 s") < text.index("  fast: 1.50 s")


def test_digests_are_not_sent_twice_for_the_same_period(mctx: Flask, world: World) -> None:
    set_prefs(world.id("alice"), daily_digest=True, weekly_report=True)
    assert send_daily_digests(NOW) == 1
    assert send_daily_digests(NOW + timedelta(hours=2)) == 0
    assert send_daily_digests(NOW + timedelta(days=1)) == 1
    assert send_weekly_reports(NOW) == 1
    assert send_weekly_reports(NOW + timedelta(days=3)) == 0
    assert send_weekly_reports(NOW + timedelta(days=7)) == 1


def test_weekly_report_covers_seven_days(mctx: Flask, world: World) -> None:
    history(world)
    set_prefs(world.id("bob"), weekly_report=True)
    assert send_weekly_reports(NOW) == 1
    text = json.loads(digests()[0].payload)["text"]
    assert "Executions: 9" in text and "Failed: 4" in text and "  slow: 3 failed" in text


def test_inactive_users_get_no_digest(mctx: Flask, world: World) -> None:
    world.add_user("gone", "user", active=False)
    set_prefs(world.id("gone"), daily_digest=True)
    set_prefs(world.id("bob"), daily_digest=True)
    assert send_daily_digests(NOW) == 1
    assert [d.recipient for d in digests()] == ["bob@example.com"]


def test_mail_disabled_sends_no_digest(ctx: Flask, world: World) -> None:
    set_prefs(world.id("alice"), daily_digest=True)
    assert send_daily_digests(NOW) == 0


def test_prune_removes_old_read_notifications_and_finished_deliveries_only(ctx: Flask, world: World) -> None:
    old, recent = NOW - timedelta(days=40), NOW - timedelta(days=5)
    alice = world.id("alice")
    db.session.add_all([
        Notification(user_id=alice, title="old read", message="m", is_read=True, read_at=old, created_at=old),
        Notification(user_id=alice, title="old unread", message="m", created_at=old),
        Notification(user_id=alice, title="recently read", message="m", is_read=True, read_at=recent,
                     created_at=old),
        NotificationDelivery(channel="email", event="e", recipient="a@x", payload="{}", status="sent",
                             created_at=old),
        NotificationDelivery(channel="email", event="e", recipient="b@x", payload="{}", status="pending",
                             created_at=old),
    ])
    db.session.commit()
    assert prune_read_notifications(NOW, 30) == {"notifications": 1, "deliveries": 1}
    assert sorted(db.session.scalars(select(Notification.title))) == ["old unread", "recently read"]
    assert [d.recipient for d in db.session.scalars(select(NotificationDelivery))] == ["b@x"]
