"""An APScheduler trigger that fires exactly when the shared cron module says, so a preview is what runs.

APScheduler's own `CronTrigger.from_crontab` numbers weekdays from Monday and ANDs day-of-month with day-of-week;
this trigger delegates every fire time to `CronSchedule.next_run` (Vixie semantics, DST rules in src.utils.cron).
It pickles as its expression and time zone name only and re-parses on unpickling (parses are cached), so a job
store row stays readable across releases of the cron module.
"""
from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from src.utils.cron import CronSchedule, parse_cron

STATE_VERSION = 1
ONE_MICROSECOND = timedelta(microseconds=1)


class VixieCronTrigger(BaseTrigger):
    """Fires at the instants `CronSchedule.next_run(after, tz)` yields."""

    __slots__ = ("expression", "timezone", "_schedule", "_zone")

    def __init__(self, expression: str, timezone: str) -> None:
        self.expression = expression
        self.timezone = timezone
        self._schedule: CronSchedule = parse_cron(expression)
        self._zone: tzinfo = ZoneInfo(timezone)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # With no previous fire time the current instant itself may fire (APScheduler's convention).
        after = previous_fire_time if previous_fire_time is not None else now - ONE_MICROSECOND
        return self._schedule.next_run(after, self._zone)

    def __getstate__(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, "expression": self.expression, "timezone": self.timezone}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("version", 1) > STATE_VERSION:
            raise ValueError(f"VixieCronTrigger state version {state['version']} is newer than this code")
        self.__init__(state["expression"], state["timezone"])  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, VixieCronTrigger) and other.expression == self.expression
                and other.timezone == self.timezone)

    def __hash__(self) -> int:
        return hash((self.expression, self.timezone))

    def __str__(self) -> str:
        return f"cron[{self.expression}]"

    def __repr__(self) -> str:
        return f"<VixieCronTrigger (expression={self.expression!r}, timezone={self.timezone!r})>"
