"""Per-user notification preferences; a row is created with these defaults on first read."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from src.models import db
from src.models.base import UTCDateTime, new_id, utcnow

PREFERENCE_DEFAULTS: dict[str, bool] = {
    "email_on_job_success": False,
    "email_on_job_failure": True,
    "email_on_job_disabled": True,
    "browser_notifications": True,
    "daily_digest": False,
    "weekly_report": False,
}


class UserNotificationPreferences(db.Model):
    __tablename__ = "user_notification_preferences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), unique=True,
                                         nullable=False)
    email_on_job_success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    email_on_job_failure: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")
    email_on_job_disabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")
    browser_notifications: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")
    daily_digest: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    weekly_report: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in PREFERENCE_DEFAULTS}
