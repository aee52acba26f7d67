"""Execution history: one row per run; a scheduled run's row is its claim on (job_id, scheduled_for)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.models import db
from src.models.base import UTCDateTime, isoformat, long_text, new_id, utcnow

STATUS_RUNNING = "running"
STATUS_SUCCESS = "success"
STATUS_FAILED = "failed"
STATUS_MISSED = "missed"
STATUSES = (STATUS_RUNNING, STATUS_SUCCESS, STATUS_FAILED, STATUS_MISSED)
TRIGGER_SCHEDULED = "scheduled"
TRIGGER_MANUAL = "manual"


class JobExecution(db.Model):
    __tablename__ = "job_executions"
    __table_args__ = (
        UniqueConstraint("job_id", "scheduled_for", name="uq_job_executions_job_id_scheduled_for"),
        Index("ix_job_executions_job_id_started_at", "job_id", "started_at"),
        Index("ix_job_executions_status_started_at", "status", "started_at"),
        Index("ix_job_executions_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    job_id: Mapped[str] = mapped_column(String(36), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False,
                                        index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    trigger_type: Mapped[str] = mapped_column(String(20), nullable=False)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    execution_type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    target: Mapped[str | None] = mapped_column(String(500), nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(long_text(), nullable=True)
    output: Mapped[str | None] = mapped_column(long_text(), nullable=True)
    # Which process ran it, so a new leader can tell runs interrupted by a crash from live ones.
    runner_id: Mapped[str | None] = mapped_column(String(100), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_id": self.job_id,
            "status": self.status,
            "trigger_type": self.trigger_type,
            "scheduled_for": isoformat(self.scheduled_for),
            "started_at": isoformat(self.started_at),
            "completed_at": isoformat(self.completed_at),
            "duration_seconds": self.duration_seconds,
            "execution_type": self.execution_type,
            "target": self.target,
            "response_status": self.response_status,
            "error_message": self.error_message,
            "output": self.output,
        }
