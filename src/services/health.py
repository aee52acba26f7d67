"""Health report used by /api/health and the operations checks."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from src.models import db
from src.scheduler import scheduler_status

log = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.error("health check: database unreachable: %s", exc)
        db.session.rollback()
        return False


def health_report() -> dict[str, Any]:
    healthy = database_ok()
    return {
        "status": "healthy" if healthy else "unhealthy",
        "database": "ok" if healthy else "unreachable",
        **scheduler_status(),
    }
