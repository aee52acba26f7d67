"""What every list shares: one paging rule (`page`, `limit` alias `per_page`) and one time-range rule (`from`, `to`)."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import Schema, fields, post_load, validate, validates_schema
from marshmallow import ValidationError as SchemaError

MAX_PAGE_SIZE = 200
MIN_YEAR, MAX_YEAR = 1970, 9000
# An unencoded "+09:00" offset in a query string arrives as " 09:00".
PLUS_AS_SPACE = re.compile(r"([T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d:?\d\d)$")
BAD_TIME = "Must be an ISO 8601 date (YYYY-MM-DD) or date-time."


class TimeBound(fields.Field):
    """An ISO date or date-time as one end of a half-open range [from, to), in SCHEDULER_TIMEZONE when it names no
    offset. A date-only `to` (end=True) covers its whole day; a date-time `to` is included."""

    def __init__(self, *, end: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.end = end

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 64:
            raise SchemaError(BAD_TIME)
        text = PLUS_AS_SPACE.sub(r"\1+\2", value.strip())
        zone = ZoneInfo(current_app.config["SCHEDULER_TIMEZONE"])
        try:
            if len(text) == 10:
                day = date.fromisoformat(text)
                self._check_year(day.year)
                return datetime.combine(day + timedelta(days=1) if self.end else day, time(0), zone)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise SchemaError(BAD_TIME) from None
        self._check_year(parsed.year)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        return parsed + timedelta(microseconds=1) if self.end else parsed

    @staticmethod
    def _check_year(year: int) -> None:
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise SchemaError(f"The year must be between {MIN_YEAR} and {MAX_YEAR}.")


def check_range(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start >= end:
        raise SchemaError("'from' must be before 'to'.", "from")


class PageArgsSchema(Schema):
    """`page` and `limit` (alias `per_page`, at most MAX_PAGE_SIZE). Without either, a list returns everything
    unless ALWAYS_PAGED; giving one pages with the other's default. Subclasses add filters and may override
    `finish` to shape the loaded arguments."""

    ALWAYS_PAGED: ClassVar[bool] = False
    DEFAULT_LIMIT: ClassVar[int] = 20

    page = fields.Integer(validate=validate.Range(min=1, max=10_000_000))
    limit = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    per_page = fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE_SIZE), metadata={"description": "Alias of limit"})

    @validates_schema
    def one_page_size(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if "limit" in data and "per_page" in data and data["limit"] != data["per_page"]:
            raise SchemaError("Give limit or per_page (its alias), not two different values.", "per_page")

    @post_load
    def paging(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        limit = data.pop("per_page", None) or data.pop("limit", None)
        if self.ALWAYS_PAGED or "page" in data or limit is not None:
            data["page"] = data.get("page", 1)
            data["limit"] = limit or self.DEFAULT_LIMIT
        return self.finish(data)

    def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        return data


class PageFieldsSchema(Schema):
    """The envelope's paging keys (present when the list was paged)."""

    total = fields.Integer()
    page = fields.Integer()
    limit = fields.Integer()
    total_pages = fields.Integer()
