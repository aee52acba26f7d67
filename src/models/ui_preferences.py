"""Per-user dashboard preferences (which job table columns show)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from src.models import db
from src.models.base import UTCDateTime, new_id, utcnow

JOBS_TABLE_COLUMN_DEFAULTS: dict[str, bool] = {
    "pic_team": True,
    "end_date": True,
    "cron_expression": False,
    "target_url": False,
    "last_execution_at": False,
}


class UserUiPreferences(db.Model):
    __tablename__ = "user_ui_preferences"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"), unique=True,
                                         nullable=False)
    jobs_table_columns: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    @property
    def columns(self) -> dict[str, bool]:
        stored = json.loads(self.jobs_table_columns) if self.jobs_table_columns else {}
        return {**JOBS_TABLE_COLUMN_DEFAULTS, **stored}

    @columns.setter
    def columns(self, value: dict[str, bool]) -> None:
        self.jobs_table_columns = json.dumps(value, sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        return {"jobs_table_columns": self.columns}
