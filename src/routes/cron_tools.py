"""Cron tools: validate, preview and describe an expression (any logged-in role)."""
from __future__ import annotations

from typing import Any

from flask import current_app

from src.routes import Blueprint
from src.routes.schemas.cron_tools import (CronDescriptionSchema, CronExpressionSchema, CronPreviewQuerySchema,
                                           CronPreviewSchema, CronValidationSchema)
from src.services import cron_tools
from src.utils.auth import role_required

blp = Blueprint("cron_tools", __name__, url_prefix="/api/jobs", description="Cron expression tools")


@blp.route("/validate-cron", methods=["POST"])
@role_required()
@blp.arguments(CronExpressionSchema)
@blp.response(200, CronValidationSchema)
def validate_cron(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a cron expression (always 200: `valid` says whether it is)"""
    return cron_tools.validate_expression(body["expression"])


@blp.route("/cron-preview", methods=["POST"])
@role_required()
@blp.arguments(CronPreviewQuerySchema)
@blp.response(200, CronPreviewSchema)
def cron_preview(body: dict[str, Any]) -> dict[str, Any]:
    """Next fire times of an expression (default 5, max 50) in a time zone (default SCHEDULER_TIMEZONE)"""
    tz_name = body.get("timezone") or current_app.config["SCHEDULER_TIMEZONE"]
    return cron_tools.preview(body["expression"], body["count"], tz_name, body.get("start"))


@blp.route("/cron-description", methods=["POST"])
@role_required()
@blp.arguments(CronExpressionSchema)
@blp.response(200, CronDescriptionSchema)
def cron_description(body: dict[str, Any]) -> dict[str, Any]:
    """Describe an expression in words (for example: At 09:00, Monday through Friday)"""
    return cron_tools.describe(body["expression"])
