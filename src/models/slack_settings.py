"""Global Slack settings (a single row)."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from src.models import db
from src.models.base import UTCDateTime, new_id, utcnow


class SlackSettings(db.Model):
    __tablename__ = "slack_settings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    is_enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def masked_webhook_url(self) -> str | None:
        """Only scheme, host and the last 4 characters: the URL itself is the credential."""
        if not self.webhook_url:
            return None
        parts = urlsplit(self.webhook_url)
        return f"{parts.scheme}://{parts.hostname}/...{self.webhook_url[-4:]}"

    def to_dict(self) -> dict[str, object]:
        return {
            "is_enabled": self.is_enabled,
            "channel": self.channel,
            "webhook_url": self.masked_webhook_url,
            "webhook_configured": bool(self.webhook_url),
        }
