"""The global Slack settings (one row) and the synchronous "send a test message" used by admins."""
from __future__ import annotations

from typing import Any

from flask import current_app

from src.models import SlackSettings, db
from src.utils.api_errors import ValidationError
from src.utils.channels import DeliveryError
from src.utils.slack import SlackChannel, current_slack_settings, slack_test_message, webhook_url_problem

TEST_TIMEOUT_SECONDS = 5.0


def get_settings() -> SlackSettings:
    """The row, created disabled on first use."""
    settings = current_slack_settings()
    if settings is None:
        settings = SlackSettings(is_enabled=False)
        db.session.add(settings)
        db.session.commit()
    return settings


def _check_url(url: str) -> None:
    problem = webhook_url_problem(url, current_app.config["PRODUCTION"])
    if problem:
        raise ValidationError(f"webhook_url: {problem}", details={"webhook_url": [problem]})


def update_settings(changes: dict[str, Any]) -> SlackSettings:
    """Apply the given fields; a missing `webhook_url` keeps the stored one, null clears it."""
    settings = get_settings()
    if changes.get("webhook_url"):
        _check_url(changes["webhook_url"])
    webhook_url = changes["webhook_url"] if "webhook_url" in changes else settings.webhook_url
    is_enabled = changes.get("is_enabled", settings.is_enabled)
    if is_enabled and not webhook_url:
        raise ValidationError("Set webhook_url before enabling Slack.",
                              details={"webhook_url": ["Required to enable Slack."]})
    settings.webhook_url = webhook_url
    settings.is_enabled = is_enabled
    if "channel" in changes:
        settings.channel = changes["channel"]
    db.session.commit()
    return settings


def send_test_message(requested_by: str, webhook_url: str | None = None,
                      channel: str | None = None) -> dict[str, Any]:
    """Post one message now (one try, short timeout) and say whether Slack accepted it."""
    settings = get_settings()
    url = webhook_url or settings.webhook_url
    if not url:
        raise ValidationError("No Slack webhook URL is configured; set one or pass webhook_url.",
                              error="Slack not configured")
    _check_url(url)
    slack = SlackChannel()
    slack.timeout_seconds = TEST_TIMEOUT_SECONDS  # type: ignore[misc]
    try:
        slack.post(url, channel if webhook_url else settings.channel, slack_test_message(requested_by))
    except DeliveryError as exc:
        return {"ok": False, "error": "Slack delivery failed", "message": f"Slack did not accept the message: {exc}"}
    return {"ok": True, "message": "Test message sent to Slack."}
