"""Request and response bodies of /api/notifications and /api/settings/slack."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validate


# An unencoded "+01:00" offset in a query string arrives as " 01:00".
PLUS_AS_SPACE = re.compile(r"([T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")


class Instant(fields.Field):
    """An ISO 8601 time (no offset means UTC) or a date (midnight UTC); `end_of_day` makes a date cover that day."""

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end_of_day = end_of_day

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 64:
            raise ValidationError("Not an ISO 8601 date or time.")
        value = PLUS_AS_SPACE.sub(r"\1+\2", value)
        try:
            if len(value.strip()) == 10:
                day = date.fromisoformat(value.strip())
                start = datetime.combine(day, time(), tzinfo=timezone.utc)
                return start + timedelta(days=1) if self.end_of_day else start
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError("Not an ISO 8601 date or time.") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class NotificationListQuerySchema(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(validate=validate.Range(min=1),
                              metadata={"description": "Page size, default 20; values above 100 are clamped to 100"})
    limit = fields.Integer(validate=validate.Range(min=1), metadata={"description": "Alias of per_page"})
    unread_only = fields.Boolean(load_default=False)
    from_ = Instant(data_key="from", metadata={"description": "Created at or after (ISO time or date)"})
    to = Instant(end_of_day=True, metadata={"description": "Created before (a date covers that whole day)"})

    @post_load
    def page_size(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        data["per_page"] = data.pop("per_page", None) or data.pop("limit", None) or 20
        data.pop("limit", None)
        return data


class NotificationSchema(Schema):
    id = fields.String()
    user_id = fields.String()
    title = fields.String()
    message = fields.String()
    type = fields.String(metadata={"description": "success | error | warning | info"})
    related_job_id = fields.String(allow_none=True)
    related_execution_id = fields.String(allow_none=True)
    is_read = fields.Boolean()
    read_at = fields.String(allow_none=True)
    created_at = fields.String()


class NotificationListSchema(Schema):
    notifications = fields.List(fields.Nested(NotificationSchema))
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    total_pages = fields.Integer()


class UnreadCountSchema(Schema):
    unread_count = fields.Integer()


class NotificationResponseSchema(Schema):
    message = fields.String()
    notification = fields.Nested(NotificationSchema)


class DeletedNotificationSchema(Schema):
    id = fields.String()
    title = fields.String()


class NotificationDeletedSchema(Schema):
    message = fields.String()
    deleted_notification = fields.Nested(DeletedNotificationSchema)


class CountMessageSchema(Schema):
    message = fields.String()
    updated_count = fields.Integer()
    deleted_count = fields.Integer()


class SlackSettingsInSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the dashboard sends the whole object back, webhook_configured included

    is_enabled = fields.Boolean()
    channel = fields.String(allow_none=True, validate=validate.Length(max=100))
    webhook_url = fields.String(allow_none=True, validate=validate.Length(max=500))

    @pre_load
    def strip(self, data: Any, **_kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        for key in ("channel", "webhook_url"):
            if cleaned.get(key) == "":
                cleaned[key] = None
        return cleaned


class SlackTestInSchema(Schema):
    webhook_url = fields.String(validate=validate.Length(min=1, max=500),
                                metadata={"description": "Test this URL instead of the stored one"})
    channel = fields.String(allow_none=True, validate=validate.Length(max=100))


class SlackSettingsSchema(Schema):
    is_enabled = fields.Boolean()
    channel = fields.String(allow_none=True)
    webhook_url = fields.String(allow_none=True, metadata={"description": "Masked: scheme, host, last 4 characters"})
    webhook_configured = fields.Boolean()


class SlackSettingsResponseSchema(Schema):
    message = fields.String()
    slack_settings = fields.Nested(SlackSettingsSchema)


class SlackTestResultSchema(Schema):
    ok = fields.Boolean()
    message = fields.String()
    error = fields.String()
