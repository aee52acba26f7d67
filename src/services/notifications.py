"""A user's in-app notifications: list, count, mark read, delete; and retention pruning.

Every query is scoped to the caller's user id, so another user's notification is simply "not found" (404).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.sql import Select

from src.models import Notification, NotificationDelivery, db
from src.models.base import utcnow
from src.models.notification_delivery import DELIVERY_FAILED, DELIVERY_SENT
from src.utils.api_errors import NotFoundError
from src.utils.paging import page_envelope

MAX_PER_PAGE = 100


def _scoped(user_id: str, unread_only: bool = False, start: datetime | None = None,
            end: datetime | None = None) -> Select[Any]:
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(Notification.is_read.is_(False))
    if start is not None:
        query = query.where(Notification.created_at >= start)
    if end is not None:
        query = query.where(Notification.created_at < end)
    return query


def list_notifications(user_id: str, page: int = 1, per_page: int = 20, unread_only: bool = False,
                       start: datetime | None = None, end: datetime | None = None) -> dict[str, Any]:
    """Newest first, one page; `per_page` above the maximum is clamped (the response says which was used)."""
    per_page = min(per_page, MAX_PER_PAGE)
    query = _scoped(user_id, unread_only, start, end)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ).all()
    return {"notifications": list(rows), **page_envelope(total, page, per_page, size_key="per_page")}


def unread_count(user_id: str) -> int:
    return db.session.scalar(select(func.count()).select_from(_scoped(user_id, unread_only=True).subquery())) or 0


def get_notification(user_id: str, notification_id: str) -> Notification:
    notification = db.session.scalar(_scoped(user_id).where(Notification.id == notification_id))
    if notification is None:
        raise NotFoundError("No notification with this id exists for your account.", error="Notification not found")
    return notification


def mark_read(user_id: str, notification_id: str) -> Notification:
    notification = get_notification(user_id, notification_id)
    if not notification.is_read:
        notification.is_read = True
        notification.read_at = utcnow()
        db.session.commit()
    return notification


def mark_all_read(user_id: str) -> int:
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.is_read.is_(False))
        .values(is_read=True, read_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def delete_notification(user_id: str, notification_id: str) -> dict[str, str]:
    notification = get_notification(user_id, notification_id)
    deleted = {"id": notification.id, "title": notification.title}
    db.session.delete(notification)
    db.session.commit()
    return deleted


def delete_read(user_id: str) -> int:
    result = db.session.execute(
        delete(Notification).where(Notification.user_id == user_id, Notification.is_read.is_(True))
        .execution_options(synchronize_session=False))
    db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def prune_read_notifications(now: datetime, older_than_days: int) -> dict[str, int]:
    """Retention (the maintenance task calls this): read notifications and finished deliveries older than the limit.

    Unread notifications are kept however old: nobody has seen them yet.
    """
    cutoff = now - timedelta(days=older_than_days)
    notifications = db.session.execute(
        delete(Notification).where(Notification.is_read.is_(True),
                                   func.coalesce(Notification.read_at, Notification.created_at) < cutoff)
        .execution_options(synchronize_session=False))
    deliveries = db.session.execute(
        delete(NotificationDelivery).where(NotificationDelivery.status.in_((DELIVERY_SENT, DELIVERY_FAILED)),
                                           NotificationDelivery.created_at < cutoff)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return {"notifications": int(notifications.rowcount),  # type: ignore[attr-defined]
            "deliveries": int(deliveries.rowcount)}  # type: ignore[attr-defined]
