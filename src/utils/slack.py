"""Slack channel (incoming webhook) and the Block Kit message of a job alert."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from src.models import SlackSettings, db
from src.utils.channels import Channel, DeliveryError, JobAlert
from src.utils.email import alert_fields

LEVEL_EMOJI = {"error": ":red_circle:", "warning": ":warning:", "success": ":large_green_circle:",
               "info": ":information_source:"}
SECTION_LIMIT = 2900  # Slack rejects section text over 3,000 characters
SLACK_ID = re.compile(r"^[SUW][A-Z0-9]{6,}$")


def webhook_url_problem(value: str, production: bool) -> str | None:
    """Why a Slack webhook URL is unacceptable, or None: https (http only outside production) with a host."""
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return "Not a valid URL."
    schemes = ("https",) if production else ("https", "http")
    if parts.scheme not in schemes or not hostname:
        return "Must be an https:// URL." if production else "Must be an http(s):// URL."
    if parts.username or parts.password:
        return "Must not contain credentials."
    return None


def current_slack_settings() -> SlackSettings | None:
    return db.session.scalar(select(SlackSettings).order_by(SlackSettings.created_at).limit(1))


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters; everything else is literal."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_mention(handle: str | None) -> str | None:
    """A PIC team's `slack_handle` as a mention: `<...>` verbatim, user-group/user ids, @here/@channel, @name."""
    if not handle or not handle.strip():
        return None
    value = handle.strip()
    if value.startswith("<") and value.endswith(">"):
        return value
    bare = value.lstrip("@")
    if bare in ("here", "channel", "everyone"):
        return f"<!{bare}>"
    if SLACK_ID.match(bare):
        return f"<!subteam^{bare}>" if bare.startswith("S") else f"<@{bare}>"
    return f"@{escape_mrkdwn(bare)}"


def render_alert_blocks(alert: JobAlert) -> dict[str, Any]:
    """Block Kit message: header, summary with the PIC mention, facts, error and a button to the job."""
    summary = escape_mrkdwn(alert.message)
    if alert.mention:
        summary = f"{alert.mention} {summary}"
    facts = [(label, value) for label, value in alert_fields(alert) if label != "Error"]
    fields = [{"type": "mrkdwn", "text": f"*{label}*\n{escape_mrkdwn(value)}"} for label, value in facts]
    if alert.job_id:
        fields[0] = {"type": "mrkdwn", "text": f"*Job*\n<{alert.link}|{escape_mrkdwn(alert.job_name)}>"}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title[:150], "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": f"{LEVEL_EMOJI.get(alert.level, '')} {summary}"[:SECTION_LIMIT]}},
        {"type": "section", "fields": fields[:10]},
    ]
    if alert.error_message:
        error = escape_mrkdwn(alert.error_message)[:SECTION_LIMIT - 20]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Error*\n```{error}```"}})
    if alert.job_id:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Open job"}, "url": alert.link}]})
    fallback = f"{alert.mention + ' ' if alert.mention else ''}{alert.title}"
    return {"text": fallback, "blocks": blocks, "link_names": True}


def slack_test_message(requested_by: str) -> dict[str, Any]:
    text = f"Test message from the Cron Job Scheduler, sent by {escape_mrkdwn(requested_by)}."
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": f":wave: {text}"}}]}


class SlackChannel(Channel):
    """Posts to the webhook configured now (a changed URL applies to queued messages; the URL is not copied)."""

    name = "slack"

    def notify(self, recipient: str, subject: str | None, payload: dict[str, Any]) -> None:
        settings = current_slack_settings()
        if settings is None or not settings.is_enabled or not settings.webhook_url:
            raise DeliveryError("Slack is disabled or has no webhook URL", permanent=True)
        self.post(settings.webhook_url, settings.channel, payload)

    def post(self, webhook_url: str, channel: str | None, payload: dict[str, Any]) -> None:
        body = {**payload, "channel": channel} if channel else payload
        self.post_json(webhook_url, body)
