"""/api/settings/slack: the global Slack integration (admins only)."""
from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user

from src.routes import Blueprint
from src.routes.schemas.notifications import (SlackSettingsInSchema, SlackSettingsResponseSchema,
                                              SlackTestInSchema, SlackTestResultSchema)
from src.services import slack_settings
from src.utils.api_errors import ErrorSchema
from src.utils.auth import role_required

blp = Blueprint("settings", __name__, url_prefix="/api/settings", description="Global settings (admin)")


@blp.route("/slack", methods=["GET"])
@role_required("admin")
@blp.response(200, SlackSettingsResponseSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
@blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
def get_slack() -> dict[str, Any]:
    """Get the Slack settings (admin; the webhook URL is masked)"""
    return {"slack_settings": slack_settings.get_settings().to_dict()}


@blp.route("/slack", methods=["PUT"])
@role_required("admin")
@blp.arguments(SlackSettingsInSchema)
@blp.response(200, SlackSettingsResponseSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
@blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
@blp.alt_response(400, schema=ErrorSchema)
def put_slack(body: dict[str, Any]) -> dict[str, Any]:
    """Update the Slack settings (admin); without webhook_url the stored URL is kept, null clears it"""
    settings = slack_settings.update_settings(body)
    return {"message": "Slack settings updated", "slack_settings": settings.to_dict()}


@blp.route("/slack/test", methods=["POST"])
@role_required("admin")
@blp.arguments(SlackTestInSchema, required=False)
@blp.response(200, SlackTestResultSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid, expired or revoked token")
@blp.alt_response(403, schema=ErrorSchema, description="Not an admin")
@blp.alt_response(400, schema=ErrorSchema)
def test_slack(body: dict[str, Any]) -> dict[str, Any]:
    """Send a test message to Slack now (admin); `ok` says whether Slack accepted it"""
    return slack_settings.send_test_message(current_user.username, body.get("webhook_url"), body.get("channel"))
