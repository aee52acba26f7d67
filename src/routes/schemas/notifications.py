"""Request and response bodies of /api/notifications and /api/settings/slack."""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from src.routes.schemas.common import PageArgsSchema, TimeBound, check_range


class NotificationListQuerySchema(PageArgsSchema):
    """Always paged: default 20; above 100 the page size is clamped to 100 (the response's per_page says)."""

    ALWAYS_PAGED = True
    per_page = fields.Integer(validate=validate.Range(min=1), metadata={"description": "Page size (alias limit)"})
    limit = fields.Integer(validate=validate.Range(min=1), metadata={"description": "Alias of per_page"})
    unread_only = fields.Boolean(load_default=False)
    from_ = TimeBound(data_key="from", metadata={"description": "Created at or after (ISO time or date)"})
    to = TimeBound(end=True, metadata={"description": "Created up to (a date covers that whole day)"})

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        check_range(data.get("from_"), data.get("to"))
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
