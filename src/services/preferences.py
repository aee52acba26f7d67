"""Notification and dashboard preferences: a row per user, created with the defaults on first read."""
from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from src.models import UserNotificationPreferences, UserUiPreferences, db
from src.models.notification_preferences import PREFERENCE_DEFAULTS
from src.models.ui_preferences import JOBS_TABLE_COLUMN_DEFAULTS
from src.services.users import get_user
from src.utils.api_errors import ValidationError

Row = TypeVar("Row", UserNotificationPreferences, UserUiPreferences)


def _get_or_create(model: type[Row], user_id: str) -> Row:
    """Two first reads at once both try to insert; the loser reads the winner's row."""
    get_user(user_id)
    query = select(model).where(model.user_id == user_id)
    row = db.session.scalars(query).first()
    if row is not None:
        return row
    db.session.add(model(user_id=user_id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return db.session.scalars(query).one()


def _unknown_keys(given: dict[str, bool], known: dict[str, bool]) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ValidationError(f"Unknown preference(s): {', '.join(unknown)}.",
                              details={key: ["Unknown preference."] for key in unknown})


def notification_preferences(user_id: str) -> dict[str, bool]:
    """Read-only view for senders (notifications, digests): the stored values or the defaults, never a write."""
    row = db.session.scalars(
        select(UserNotificationPreferences).where(UserNotificationPreferences.user_id == user_id)).first()
    return row.to_dict() if row is not None else dict(PREFERENCE_DEFAULTS)


def get_notification_preferences(user_id: str) -> UserNotificationPreferences:
    return _get_or_create(UserNotificationPreferences, user_id)


def update_notification_preferences(user_id: str, changes: dict[str, bool]) -> UserNotificationPreferences:
    """Partial update: keys not given keep their value."""
    _unknown_keys(changes, PREFERENCE_DEFAULTS)
    row = _get_or_create(UserNotificationPreferences, user_id)
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.commit()
    return row


def get_ui_preferences(user_id: str) -> UserUiPreferences:
    return _get_or_create(UserUiPreferences, user_id)


def update_ui_preferences(user_id: str, columns: dict[str, bool]) -> UserUiPreferences:
    """Partial update of `jobs_table_columns`: columns not given keep their value."""
    _unknown_keys(columns, JOBS_TABLE_COLUMN_DEFAULTS)
    row = _get_or_create(UserUiPreferences, user_id)
    row.columns = {**row.columns, **columns}
    db.session.commit()
    return row
