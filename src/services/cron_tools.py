"""Cron tools for the dashboard's editor; all answers come from `src.utils.cron`, the scheduler's own module."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from src.utils.api_errors import ValidationError
from src.utils.cron import CronError, parse_cron

# Far enough for any planning; the rarest schedule's 50 runs (leap days) still end before year 9999.
MIN_START_YEAR = 1970
MAX_START_YEAR = 9000


def _invalid(exc: CronError) -> ValidationError:
    return ValidationError(f"Invalid cron expression: {exc}.", error="Invalid cron expression",
                           details={"expression": [str(exc)]})


def validate_expression(expression: str) -> dict[str, Any]:
    """Always an answer, never an error: the editor calls this on every keystroke."""
    try:
        schedule = parse_cron(expression)
    except CronError as exc:
        return {"valid": False, "error": "Invalid cron expression", "message": f"Invalid cron expression: {exc}."}
    return {"valid": True, "message": "Valid cron expression", "description": schedule.describe(),
            "expression": schedule.expression}


def preview(expression: str, count: int, tz_name: str, start: datetime | None) -> dict[str, Any]:
    """The next `count` fire times strictly after `start` (default now); a naive `start` is read in `tz_name`."""
    try:
        schedule = parse_cron(expression)
    except CronError as exc:
        raise _invalid(exc) from None
    zone = ZoneInfo(tz_name)
    if start is None:
        start = datetime.now(timezone.utc)
    elif start.tzinfo is None:
        start = start.replace(tzinfo=zone)
    if not MIN_START_YEAR <= start.year <= MAX_START_YEAR:
        raise ValidationError(f"start must be between the years {MIN_START_YEAR} and {MAX_START_YEAR}.",
                              details={"start": [f"Year must be {MIN_START_YEAR}-{MAX_START_YEAR}."]})
    runs = schedule.next_runs(start, count, zone)
    return {"expression": schedule.expression, "timezone": tz_name,
            "next_runs": [run.isoformat() for run in runs], "count": len(runs)}


def describe(expression: str) -> dict[str, Any]:
    try:
        schedule = parse_cron(expression)
    except CronError as exc:
        raise _invalid(exc) from None
    return {"expression": schedule.expression, "description": schedule.describe()}
