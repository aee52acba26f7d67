"""Per-job alert state: whether a job is in a failing streak and when its last alert went out (alert throttling)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from src.models import db
from src.models.base import UTCDateTime, utcnow


class JobAlertState(db.Model):
    __tablename__ = "job_alert_states"

    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    # Set while the job keeps failing (or missing runs); cleared by the next success, which sends the recovery.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    streak_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    # Failures since the last alert that were not alerted on; the next alert says "failed K more times".
    suppressed_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    last_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)
