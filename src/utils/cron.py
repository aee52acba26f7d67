"""The one cron implementation: validation, next fire times and descriptions for validation, preview and the scheduler.

Semantics are Vixie cron's (the cron of most Linux systems):
- exactly 5 fields: minute hour day-of-month month day-of-week; `*`, numbers, `a-b` ranges, `/step` after `*` or a
  range, comma lists; month names jan-dec and day names sun-sat; day-of-week 0 and 7 are both Sunday;
- when day-of-month and day-of-week are both restricted (neither starts with `*`), a day matching EITHER fires;
  otherwise a day must match both (a `*` field matches every day);
- times are wall-clock times in the scheduler's time zone. Across DST changes, as Vixie cron does: a "fixed" job
  (neither minute nor hour starts with `*`) whose time falls in a skipped hour fires once when the clock jumps
  (02:30 on a spring-forward night fires at 03:00), and fires only once in a repeated hour (the first pass); a
  "wildcard" job (`*/15 * * * *`, `0 * * * *`) follows real time: nothing in the skipped hour, both passes of a
  repeated hour.

Hand-written rather than croniter: croniter treats `*/2` as a restricted day field (Vixie does not), accepts
non-Vixie syntax (`L`, `W`, `#`, `?`, `H`, 6-7 fields, wrapping ranges) and is ~8x slower per next-run, which
matters when a scheduler starts with 100,000 jobs.
"""
from __future__ import annotations

import calendar
from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from cron_descriptor import ExpressionDescriptor, Options

MONTH_NAMES = {name: i for i, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
DAY_NAMES = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
MAX_EXPRESSION_LENGTH = 100
# Search horizon: the rarest valid schedule (Feb 29 on a given weekday with both fields restricted is OR, so
# frequent; Feb 29 alone) recurs within 8 years (2096 -> 2104).
SEARCH_YEARS = 9
# No time zone shifts its clock by more than this; used to look around transitions.
MAX_DST_SHIFT = timedelta(hours=3)
ONE_MINUTE = timedelta(minutes=1)


class CronError(ValueError):
    """An invalid expression; the message names the field and what is wrong with it."""


@dataclass(frozen=True)
class _FieldSpec:
    name: str
    low: int
    high: int
    names: dict[str, int] = field(default_factory=dict)


FIELD_SPECS = (
    _FieldSpec("minute", 0, 59),
    _FieldSpec("hour", 0, 23),
    _FieldSpec("day-of-month", 1, 31),
    _FieldSpec("month", 1, 12, MONTH_NAMES),
    _FieldSpec("day-of-week", 0, 7, DAY_NAMES),
)


def _value(text: str, spec: _FieldSpec, raw: str) -> int:
    lowered = text.lower()
    if lowered in spec.names:
        return spec.names[lowered]
    if not text.isdigit():
        hint = f" (names allowed: {', '.join(spec.names)})" if spec.names else ""
        raise CronError(f"{spec.name} field '{raw}': '{text}' is not a number{hint}")
    number = int(text)
    if not spec.low <= number <= spec.high:
        raise CronError(f"{spec.name} field '{raw}': {number} is out of range {spec.low}-{spec.high}")
    return number


def _parse_field(raw: str, spec: _FieldSpec) -> frozenset[int]:
    values: set[int] = set()
    for part in raw.split(","):
        if not part:
            raise CronError(f"{spec.name} field '{raw}': empty item in list")
        base, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"{spec.name} field '{raw}': step '{step_text}' must be a positive number")
            step = int(step_text)
        if base == "*":
            low, high = spec.low, spec.high
        elif "-" in base:
            first, _, last = base.partition("-")
            low, high = _value(first, spec, raw), _value(last, spec, raw)
            if low > high:
                raise CronError(f"{spec.name} field '{raw}': range {first}-{last} runs backwards")
        else:
            if slash:
                raise CronError(f"{spec.name} field '{raw}': a step needs '*' or a range before it, e.g. */{step}")
            low = high = _value(base, spec, raw)
        if slash and step > spec.high - spec.low + 1 and spec.name != "day-of-week":
            raise CronError(f"{spec.name} field '{raw}': step {step} is larger than the field's range")
        values.update(range(low, high + 1, step))
    if spec.name == "day-of-week" and 7 in values:
        values.discard(7)
        values.add(0)
    return frozenset(values)


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _as_zone(tz: str | tzinfo) -> tzinfo:
    return _zone(tz) if isinstance(tz, str) else tz


class CronSchedule:
    """A parsed expression; instances are immutable and safe to share between threads."""

    __slots__ = ("expression", "_minutes", "_hours", "_days", "_months", "_weekdays", "_day_or", "_fixed")

    def __init__(self, expression: str) -> None:
        if not isinstance(expression, str):
            raise CronError("the cron expression must be a string")
        text = expression.strip()
        if not text:
            raise CronError("the cron expression is empty")
        if not text.isascii():
            raise CronError("only ASCII letters, digits, spaces and * , - / are allowed")
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise CronError(f"the cron expression is longer than {MAX_EXPRESSION_LENGTH} characters")
        if text.startswith("@"):
            raise CronError(f"'{text.split()[0]}' is not supported; write the 5 fields, e.g. '0 0 * * *' for daily")
        parts = text.split()
        if len(parts) != 5:
            raise CronError(f"expected exactly 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}")
        fields = [_parse_field(part, spec) for part, spec in zip(parts, FIELD_SPECS)]
        self.expression = " ".join(parts)
        self._minutes = sorted(fields[0])
        self._hours = sorted(fields[1])
        self._days = fields[2]
        self._months = fields[3]
        self._weekdays = fields[4]
        self._day_or = not parts[2].startswith("*") and not parts[4].startswith("*")
        self._fixed = not parts[0].startswith("*") and not parts[1].startswith("*")
        if not self._day_or and not parts[2].startswith("*"):
            longest = max(calendar.monthrange(2024, month)[1] for month in self._months)
            if min(self._days) > longest:
                raise CronError(f"day-of-month field '{parts[2]}': never falls in the selected months")

    def __repr__(self) -> str:
        return f"CronSchedule({self.expression!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CronSchedule) and other.expression == self.expression

    def __hash__(self) -> int:
        return hash(self.expression)

    def __reduce__(self) -> tuple[type[CronSchedule], tuple[str]]:
        return CronSchedule, (self.expression,)

    def _day_matches(self, day: date) -> bool:
        in_days = day.day in self._days
        in_weekdays = (day.weekday() + 1) % 7 in self._weekdays
        return (in_days or in_weekdays) if self._day_or else (in_days and in_weekdays)

    def _next_wall(self, after: datetime) -> datetime | None:
        """First matching naive wall-clock minute strictly after the naive `after`."""
        candidate = after.replace(second=0, microsecond=0) + ONE_MINUTE
        day = candidate.date()
        hour, minute = candidate.hour, candidate.minute
        horizon = day.replace(year=day.year + SEARCH_YEARS) if not (day.month == 2 and day.day == 29) \
            else date(day.year + SEARCH_YEARS, 3, 1)
        while day < horizon:
            if day.month not in self._months:
                day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
                hour = minute = 0
                continue
            if self._day_matches(day):
                h_index = bisect_left(self._hours, hour)
                while h_index < len(self._hours):
                    h = self._hours[h_index]
                    m_index = bisect_left(self._minutes, minute if h == hour else 0)
                    if m_index < len(self._minutes):
                        return datetime(day.year, day.month, day.day, h, self._minutes[m_index])
                    h_index += 1
                    minute = 0
            day += timedelta(days=1)
            hour = minute = 0
        return None

    def _instants(self, wall: datetime, zone: tzinfo) -> list[datetime]:
        """The UTC instants a wall-clock match stands for, by the DST rules in the module docstring."""
        first = wall.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
        second = wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
        if first == second:
            return [first]
        if first < second:
            return [first] if self._fixed else [first, second]
        if not self._fixed:
            return []
        probe = wall
        while True:
            probe += ONE_MINUTE
            a = probe.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
            if a == probe.replace(tzinfo=zone, fold=1).astimezone(timezone.utc):
                return [a]

    def next_run(self, after: datetime, tz: str | tzinfo) -> datetime | None:
        """The first fire time strictly after the aware instant `after`, in `tz`; None if it never fires."""
        if after.tzinfo is None:
            raise ValueError("after must be timezone-aware")
        zone = _as_zone(tz)
        after_utc = after.astimezone(timezone.utc)
        local = after_utc.astimezone(zone)
        before = (after_utc - MAX_DST_SHIFT).astimezone(zone).utcoffset() or timedelta(0)
        later = (after_utc + MAX_DST_SHIFT).astimezone(zone).utcoffset() or timedelta(0)
        shift = abs(before - later)
        near_transition = shift > timedelta(0)
        # Near a transition, a wall time up to one shift earlier can still be a later instant (a repeated hour),
        # and one up to a shift later can be an earlier instant.
        wall = local.replace(tzinfo=None) - shift
        best: datetime | None = None
        while True:
            wall_match = self._next_wall(wall)
            if wall_match is None:
                return best.astimezone(zone) if best else None
            if best is not None and wall_match > best.astimezone(zone).replace(tzinfo=None) + shift:
                return best.astimezone(zone)
            for instant in self._instants(wall_match, zone):
                if instant > after_utc and (best is None or instant < best):
                    best = instant
            if best is not None and not near_transition:
                return best.astimezone(zone)
            wall = wall_match

    def next_runs(self, after: datetime, count: int, tz: str | tzinfo) -> list[datetime]:
        runs: list[datetime] = []
        current = after
        while len(runs) < count:
            nxt = self.next_run(current, tz)
            if nxt is None:
                break
            runs.append(nxt)
            current = nxt
        return runs

    def runs_between(self, start: datetime, end: datetime, tz: str | tzinfo, limit: int | None = None) -> list[datetime]:
        """Fire times t with start < t <= end (at most `limit`)."""
        runs: list[datetime] = []
        current = start
        while limit is None or len(runs) < limit:
            nxt = self.next_run(current, tz)
            if nxt is None or nxt > end:
                break
            runs.append(nxt)
            current = nxt
        return runs

    def describe(self) -> str:
        return describe_cron(self.expression)


def parse_cron(expression: str) -> CronSchedule:
    """Parse (and cache) an expression; raises CronError with a message that names the wrong field."""
    if not isinstance(expression, str):
        raise CronError("the cron expression must be a string")
    return _parse_cached(expression)


@lru_cache(maxsize=4096)
def _parse_cached(expression: str) -> CronSchedule:
    return CronSchedule(expression)


def describe_cron(expression: str) -> str:
    """A sentence such as "At 09:00, Monday through Friday" (24-hour clock)."""
    schedule = parse_cron(expression)
    options = Options()
    options.use_24hour_time_format = True
    return str(ExpressionDescriptor(schedule.expression, options).get_description())
