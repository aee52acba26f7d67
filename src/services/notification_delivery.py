"""The outbox worker: delivers `NotificationDelivery` rows (email, Slack) off the request and dispatch paths.

Every serving process may run one worker thread. A row is claimed with a conditional UPDATE (status pending, or
sending with an expired claim, and due) that only one process can win; the claim pushes `next_attempt_at` ahead
by `SENDING_TIMEOUT`, so a row whose process died mid-send is claimed again after that. Each attempt is counted;
transient errors are retried with exponential backoff up to NOTIFICATION_MAX_ATTEMPTS, permanent ones fail at once.
When a channel's server does not answer, its other due sends are deferred at once (one timeout per batch, not one
per message), so a dead SMTP server never holds Slack back, and vice versa.
"""
from __future__ import annotations

import atexit
import json
import logging
import threading
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import select, update

from src.models import NotificationDelivery, db
from src.models.base import utcnow
from src.models.notification_delivery import DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SENDING, DELIVERY_SENT
from src.scheduler.db_access import write_lock
from src.utils.channels import DeliveryError, channel_for

log = logging.getLogger(__name__)
SENDING_TIMEOUT = timedelta(minutes=5)
BATCH_SIZE = 50
POLL_SECONDS = 5.0
ERROR_LIMIT = 2000


def _claim(delivery_id: str, now: datetime) -> bool:
    """Win the row for this worker, or learn that another worker has it (exactly one UPDATE can match)."""
    with write_lock(db.engine):  # on SQLite, queue behind this process's scheduler writes instead of busy-waiting
        result = db.session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id,
                   NotificationDelivery.status.in_((DELIVERY_PENDING, DELIVERY_SENDING)),
                   NotificationDelivery.next_attempt_at <= now)
            .values(status=DELIVERY_SENDING, attempts=NotificationDelivery.attempts + 1,
                    next_attempt_at=now + SENDING_TIMEOUT)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def _deliver(delivery_id: str, now: datetime) -> tuple[str, DeliveryError | None]:
    delivery = db.session.get(NotificationDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return DELIVERY_FAILED, None
    payload = json.loads(delivery.payload)
    subject, recipient, channel_name = delivery.subject, delivery.recipient, delivery.channel
    db.session.commit()  # no transaction (and no lock) is held while talking to SMTP or Slack
    try:
        channel_for(channel_name).notify(recipient, subject, payload)
        error: DeliveryError | None = None
    except DeliveryError as exc:
        error = exc
    except Exception as exc:  # a bug in a channel must not stop the worker; retry like a transient error
        log.exception("delivery %s: unexpected error", delivery_id)
        error = DeliveryError(f"unexpected error: {type(exc).__name__}: {exc}")
    delivery = db.session.get(NotificationDelivery, delivery_id, populate_existing=True)
    if delivery is None:
        return DELIVERY_FAILED, error
    if error is None:
        delivery.status, delivery.sent_at, delivery.last_error = DELIVERY_SENT, utcnow(), None
    else:
        delivery.last_error = str(error)[:ERROR_LIMIT]
        if error.permanent or delivery.attempts >= current_app.config["NOTIFICATION_MAX_ATTEMPTS"]:
            delivery.status = DELIVERY_FAILED
            log.warning("delivery %s (%s to %s) failed for good after %d attempt(s): %s", delivery_id,
                        channel_name, recipient, delivery.attempts, error)
        else:
            delivery.status = DELIVERY_PENDING
            delivery.next_attempt_at = now + channel_for(channel_name).retry_delay(delivery.attempts)
            log.info("delivery %s (%s) attempt %d failed, retrying at %s: %s", delivery_id, channel_name,
                     delivery.attempts, delivery.next_attempt_at.isoformat(), error)
    status = delivery.status
    with write_lock(db.engine):
        db.session.commit()
    return status, error


def _defer_channel(channel: str, now: datetime) -> None:
    """The channel's server is unreachable: push its other due sends back by the first retry delay, without counting
    an attempt, so they neither wait out a timeout each nor crowd out the other channel's sends."""
    with write_lock(db.engine):
        db.session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.channel == channel, NotificationDelivery.status == DELIVERY_PENDING,
                   NotificationDelivery.next_attempt_at <= now)
            .values(next_attempt_at=now + channel_for(channel).retry_delay(1))
            .execution_options(synchronize_session=False))
        db.session.commit()


def process_due_deliveries(now: datetime | None = None, limit: int = BATCH_SIZE) -> dict[str, int]:
    """Claim and send up to `limit` due deliveries once; returns counts by outcome (sent, pending, failed)."""
    now = now or utcnow()
    due = db.session.execute(
        select(NotificationDelivery.id, NotificationDelivery.channel)
        .where(NotificationDelivery.status.in_((DELIVERY_PENDING, DELIVERY_SENDING)),
               NotificationDelivery.next_attempt_at <= now)
        .order_by(NotificationDelivery.next_attempt_at)
        .limit(limit)
    ).all()
    db.session.commit()
    outcome = {DELIVERY_SENT: 0, DELIVERY_PENDING: 0, DELIVERY_FAILED: 0}
    unreachable: set[str] = set()
    for delivery_id, channel in due:
        if channel in unreachable or not _claim(delivery_id, now):
            continue
        status, error = _deliver(delivery_id, now)
        outcome[status] += 1
        if error is not None and error.unreachable:
            unreachable.add(channel)
            _defer_channel(channel, now)
    return outcome


class DeliveryWorker:
    """A daemon thread that drains due deliveries every few seconds; `stop()` finishes the current batch."""

    def __init__(self, app: Flask, interval: float = POLL_SECONDS) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notification-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self.app.app_context():
                try:
                    while not self._stop.is_set() and sum(process_due_deliveries().values()) >= BATCH_SIZE:
                        pass
                except Exception:
                    log.exception("notification delivery worker: batch failed; retrying in %.0f s", self.interval)
                    db.session.rollback()
                finally:
                    db.session.remove()
            self._stop.wait(self.interval)


_worker: DeliveryWorker | None = None
_worker_lock = threading.Lock()


def start_delivery_worker(app: Flask) -> DeliveryWorker:
    """Start this process's worker once (idempotent); claims make several processes safe."""
    global _worker
    with _worker_lock:
        if _worker is None:
            _worker = DeliveryWorker(app)
            _worker.start()
            atexit.register(_worker.stop, 15.0)  # finish the send in progress rather than leave it "sending"
        return _worker
