"""The /api/health body (documented so clients and schemathesis can check it)."""
from __future__ import annotations

from marshmallow import Schema, fields


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"description": "healthy or unhealthy", "enum": ["healthy", "unhealthy"]})
    database = fields.String(required=True, metadata={"description": "ok or unreachable"})
    scheduler_running = fields.Boolean(required=True)
    scheduled_jobs_count = fields.Integer(required=True)
    scheduler_leader = fields.Boolean(required=True, metadata={"description": "this process holds the scheduling lease"})
    lease_expires_at = fields.String(allow_none=True, metadata={"format": "date-time"})
