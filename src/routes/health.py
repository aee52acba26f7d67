"""Health check: the database for real, and this process's scheduler state."""
from __future__ import annotations

from typing import Any

from src.routes import Blueprint
from src.routes.schemas.health import HealthSchema
from src.services.health import health_report

blp = Blueprint("health", __name__, url_prefix="/api", description="Service health")


@blp.route("/health")
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
def health() -> tuple[dict[str, Any], int]:
    """API health status (no authentication)

    200 with `"status": "healthy"`, or 503 with `"status": "unhealthy"` when the database is unreachable.
    """
    report = health_report()
    return report, 200 if report["status"] == "healthy" else 503
