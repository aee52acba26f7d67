"""Jobs: a cron expression and a target (GitHub workflow_dispatch or webhook)."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from src.models import db
from src.models.base import UTCDateTime, isoformat, new_id, utcnow
from src.models.job_category import DEFAULT_CATEGORY_SLUG

EXECUTION_TYPE_GITHUB = "github_actions"
EXECUTION_TYPE_WEBHOOK = "webhook"


class Job(db.Model):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_created_at", "created_at"),
        Index("ix_jobs_updated_at", "updated_at"),
        Index("ix_jobs_is_active", "is_active"),
        # Filter + default order (newest first) in one index: a filtered page stops after `limit` matches.
        Index("ix_jobs_category_created_at", "category", "created_at"),
        Index("ix_jobs_pic_team_created_at", "pic_team", "created_at"),
        Index("ix_jobs_created_by", "created_by"),
        Index("ix_jobs_end_date", "end_date"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    cron_expression: Mapped[str] = mapped_column(String(100), nullable=False)
    target_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    github_owner: Mapped[str | None] = mapped_column(String(255), nullable=True)
    github_repo: Mapped[str | None] = mapped_column(String(255), nullable=True)
    github_workflow_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    job_metadata: Mapped[str | None] = mapped_column(Text, nullable=True)
    category: Mapped[str] = mapped_column(String(100), nullable=False, default=DEFAULT_CATEGORY_SLUG,
                                          server_default=DEFAULT_CATEGORY_SLUG)
    pic_team: Mapped[str | None] = mapped_column(String(100), nullable=True)
    end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    enable_email_notifications: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                                             server_default="0")
    notification_emails: Mapped[str | None] = mapped_column(Text, nullable=True)
    notify_on_success: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default="0")
    created_by: Mapped[str | None] = mapped_column(String(36), ForeignKey("users.id", ondelete="SET NULL"),
                                                   nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, server_default="1")
    # The instant from which the current schedule counts: fire times before it are not "missed".
    scheduled_since: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def metadata_dict(self) -> dict[str, Any]:
        if not self.job_metadata:
            return {}
        value = json.loads(self.job_metadata)
        return value if isinstance(value, dict) else {}

    @metadata_dict.setter
    def metadata_dict(self, value: dict[str, Any] | None) -> None:
        self.job_metadata = json.dumps(value, separators=(",", ":"), sort_keys=True) if value else None

    @property
    def email_list(self) -> list[str]:
        if not self.notification_emails:
            return []
        return [e.strip() for e in self.notification_emails.split(",") if e.strip()]

    @property
    def uses_github(self) -> bool:
        """GitHub wins when both targets are set (the specification's priority 1)."""
        return bool(self.github_repo and self.github_workflow_name)

    @property
    def execution_type(self) -> str:
        return EXECUTION_TYPE_GITHUB if self.uses_github else EXECUTION_TYPE_WEBHOOK

    def to_dict(self, last_execution_at: datetime | None = None,
                next_execution_at: datetime | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "cron_expression": self.cron_expression,
            "target_url": self.target_url,
            "github_owner": self.github_owner,
            "github_repo": self.github_repo,
            "github_workflow_name": self.github_workflow_name,
            "metadata": self.metadata_dict,
            "category": self.category,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "pic_team": self.pic_team,
            "enable_email_notifications": self.enable_email_notifications,
            "notification_emails": self.email_list if self.enable_email_notifications else [],
            "notify_on_success": self.notify_on_success,
            "created_by": self.created_by,
            "is_active": self.is_active,
            "created_at": isoformat(self.created_at),
            "updated_at": isoformat(self.updated_at),
            "last_execution_at": isoformat(last_execution_at),
            "next_execution_at": isoformat(next_execution_at),
        }
