"""Request and response bodies of the cron tools (each accepts `expression` or `cron_expression`)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate
from marshmallow import ValidationError as SchemaError

MAX_PREVIEW_COUNT = 50


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(name: str) -> None:
    """Checked against the zone list: ZoneInfo() also opens directories and data files ("Asia", "zone.tab")."""
    if name not in _zone_names():
        raise SchemaError(f"'{name}' is not an IANA time zone such as Asia/Tokyo.")


class CronExpressionSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    expression = fields.String(required=True, validate=validate.Length(max=1000))

    @pre_load
    def alias(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and "expression" not in data and "cron_expression" in data:
            return {**data, "expression": data["cron_expression"]}
        return data


class CronPreviewQuerySchema(CronExpressionSchema):
    count = fields.Integer(load_default=5, validate=validate.Range(min=1, max=MAX_PREVIEW_COUNT))
    timezone = fields.String(validate=[validate.Length(max=64), _known_zone])
    start = fields.DateTime(metadata={
        "description": "ISO 8601; without an offset it is read in `timezone`. Runs strictly after it. Default: now"})


class CronValidationSchema(Schema):
    valid = fields.Boolean()
    message = fields.String()
    description = fields.String()
    error = fields.String()
    expression = fields.String()


class CronPreviewSchema(Schema):
    expression = fields.String()
    timezone = fields.String()
    next_runs = fields.List(fields.String(), metadata={"description": "ISO 8601 with the zone's offset"})
    count = fields.Integer()


class CronDescriptionSchema(Schema):
    expression = fields.String()
    description = fields.String()
