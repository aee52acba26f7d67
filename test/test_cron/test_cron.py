"""The cron module, table-driven: next runs worked out by hand from a fixed `now`, across time zones and DST."""
from __future__ import annotations

import pickle
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from src.utils.cron import CronError, describe_cron, parse_cron

TOKYO = "Asia/Tokyo"
NEW_YORK = "America/New_York"
# Thursday 2026-11-26 10:00 in Tokyo.
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo(TOKYO))

# (expression, time zone, start, expected next runs as ISO strings) — each worked out with a calendar.
CASES = [
    ("0 9 * * 1-5", TOKYO, NOW, ["2026-11-27T09:00:00+09:00", "2026-11-30T09:00:00+09:00",
                                 "2026-12-01T09:00:00+09:00"]),
    ("0 0 * * 0", TOKYO, NOW, ["2026-11-29T00:00:00+09:00", "2026-12-06T00:00:00+09:00"]),
    ("0 0 * * 7", TOKYO, NOW, ["2026-11-29T00:00:00+09:00", "2026-12-06T00:00:00+09:00"]),
    ("0 0 * * sun", TOKYO, NOW, ["2026-11-29T00:00:00+09:00", "2026-12-06T00:00:00+09:00"]),
    # DOM OR DOW when both are restricted: the 1st of the month or any Monday.
    ("0 0 1 * 1", TOKYO, NOW, ["2026-11-30T00:00:00+09:00", "2026-12-01T00:00:00+09:00",
                               "2026-12-07T00:00:00+09:00"]),
    ("0 12 1-7 * mon", TOKYO, NOW, ["2026-11-30T12:00:00+09:00", "2026-12-01T12:00:00+09:00"]),
    # A '*'-led day field is unrestricted (Vixie): odd days AND Mondays.
    ("0 0 */2 * 1", TOKYO, NOW, ["2026-12-07T00:00:00+09:00", "2026-12-21T00:00:00+09:00",
                                 "2027-01-11T00:00:00+09:00"]),
    ("*/20 * * * *", TOKYO, NOW, ["2026-11-26T10:20:00+09:00", "2026-11-26T10:40:00+09:00",
                                  "2026-11-26T11:00:00+09:00"]),
    ("* * * * *", TOKYO, NOW, ["2026-11-26T10:01:00+09:00", "2026-11-26T10:02:00+09:00"]),
    ("5-10/5 * * * *", TOKYO, NOW, ["2026-11-26T10:05:00+09:00", "2026-11-26T10:10:00+09:00",
                                    "2026-11-26T11:05:00+09:00"]),
    ("0 0 1 jan *", TOKYO, NOW, ["2027-01-01T00:00:00+09:00", "2028-01-01T00:00:00+09:00"]),
    ("0 0 1 JAN,Jul *", TOKYO, NOW, ["2027-01-01T00:00:00+09:00", "2027-07-01T00:00:00+09:00"]),
    ("0 0 * * sat,sun", TOKYO, NOW, ["2026-11-28T00:00:00+09:00", "2026-11-29T00:00:00+09:00",
                                     "2026-12-05T00:00:00+09:00"]),
    ("0 0 29 2 *", TOKYO, NOW, ["2028-02-29T00:00:00+09:00", "2032-02-29T00:00:00+09:00"]),
    ("0 0 31 * *", TOKYO, NOW, ["2026-12-31T00:00:00+09:00", "2027-01-31T00:00:00+09:00",
                                "2027-03-31T00:00:00+09:00"]),
    ("30 23 28-31 * *", TOKYO, NOW,
     ["2026-11-28T23:30:00+09:00", "2026-11-29T23:30:00+09:00", "2026-11-30T23:30:00+09:00"]),
    ("15 14 1 * *", TOKYO, NOW, ["2026-12-01T14:15:00+09:00", "2027-01-01T14:15:00+09:00"]),
    ("0 22 * * 1-5", TOKYO, NOW, ["2026-11-26T22:00:00+09:00", "2026-11-27T22:00:00+09:00",
                                  "2026-11-30T22:00:00+09:00"]),
    ("0 0,12 * * *", TOKYO, NOW, ["2026-11-26T12:00:00+09:00", "2026-11-27T00:00:00+09:00"]),
    ("0 9 * * 1-5", "UTC", NOW, ["2026-11-26T09:00:00+00:00", "2026-11-27T09:00:00+00:00",
                                 "2026-11-30T09:00:00+00:00"]),
    # America/New_York springs forward on 2026-03-08 at 02:00 (to 03:00): a fixed 02:30 job fires at 03:00.
    ("30 2 * * *", NEW_YORK, datetime(2026, 3, 7, 12, 0, tzinfo=ZoneInfo(NEW_YORK)),
     ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]),
    # ... and a wildcard job skips the hour that does not exist.
    ("*/30 * * * *", NEW_YORK, datetime(2026, 3, 8, 1, 0, tzinfo=ZoneInfo(NEW_YORK)),
     ["2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"]),
    # It falls back on 2026-11-01 at 02:00 (to 01:00): a fixed 01:30 job fires once, on the first pass.
    ("30 1 * * *", NEW_YORK, datetime(2026, 10, 31, 12, 0, tzinfo=ZoneInfo(NEW_YORK)),
     ["2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"]),
    # ... and a wildcard job runs in both passes of the repeated hour.
    ("0 * * * *", NEW_YORK, datetime(2026, 11, 1, 0, 30, tzinfo=ZoneInfo(NEW_YORK)),
     ["2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T02:00:00-05:00"]),
    ("* * * * *", NEW_YORK, datetime(2026, 11, 1, 1, 58, tzinfo=ZoneInfo(NEW_YORK)),
     ["2026-11-01T01:59:00-04:00", "2026-11-01T01:00:00-05:00", "2026-11-01T01:01:00-05:00"]),
]


@pytest.mark.parametrize("expression, tz, start, expected", CASES, ids=[c[0] + " " + c[1] for c in CASES])
def test_next_runs_match_hand_worked_times(expression: str, tz: str, start: datetime, expected: list[str]) -> None:
    runs = parse_cron(expression).next_runs(start, len(expected), tz)
    assert [run.isoformat() for run in runs] == expected


def test_next_run_is_strictly_after_a_fire_time() -> None:
    fire = datetime(2026, 11, 27, 9, 0, tzinfo=ZoneInfo(TOKYO))
    assert parse_cron("0 9 * * 1-5").next_run(fire, TOKYO).isoformat() == "2026-11-30T09:00:00+09:00"


def test_runs_between_is_exclusive_of_start_and_inclusive_of_end() -> None:
    start = datetime(2026, 11, 26, 10, 0, tzinfo=ZoneInfo(TOKYO))
    end = datetime(2026, 11, 26, 11, 0, tzinfo=ZoneInfo(TOKYO))
    runs = parse_cron("*/20 * * * *").runs_between(start, end, TOKYO)
    assert [r.strftime("%H:%M") for r in runs] == ["10:20", "10:40", "11:00"]
    assert len(parse_cron("* * * * *").runs_between(start, end, TOKYO, limit=5)) == 5


def test_results_are_in_the_requested_zone_and_need_an_aware_start() -> None:
    run = parse_cron("0 9 * * *").next_run(NOW.astimezone(timezone.utc), TOKYO)
    assert run.utcoffset().total_seconds() == 9 * 3600
    with pytest.raises(ValueError):
        parse_cron("0 9 * * *").next_run(datetime(2026, 1, 1), TOKYO)


@pytest.mark.parametrize("expression, field", [
    ("60 * * * *", "minute"),
    ("* 24 * * *", "hour"),
    ("* * 0 * *", "day-of-month"),
    ("* * 32 * *", "day-of-month"),
    ("* * * 13 *", "month"),
    ("* * * foo *", "month"),
    ("* * * * 8", "day-of-week"),
    ("* * * * mon-xyz", "day-of-week"),
    ("5-1 * * * *", "minute"),
    ("*/0 * * * *", "minute"),
    ("5/15 * * * *", "minute"),
    ("1,,2 * * * *", "minute"),
    ("0 0 L * *", "day-of-month"),
    ("0 0 15W * *", "day-of-month"),
    ("0 0 * * 1#2", "day-of-week"),
    ("0 0 ? * *", "day-of-month"),
    ("H * * * *", "minute"),
    ("0 0 30 2 *", "day-of-month"),
    ("0 0 31 4,6,9,11 *", "day-of-month"),
])
def test_invalid_fields_are_named_in_the_error(expression: str, field: str) -> None:
    with pytest.raises(CronError, match=f"^{field} field"):
        parse_cron(expression)


@pytest.mark.parametrize("expression", ["", "   ", "* * * *", "* * * * * *", "0 0 * * * 2027", "@reboot",
                                        "@daily", "x" * 101])
def test_wrong_shapes_are_rejected(expression: str) -> None:
    with pytest.raises(CronError):
        parse_cron(expression)


@pytest.mark.parametrize("value", [None, 5, ["* * * * *"], {"a": 1}])
def test_non_strings_are_rejected(value: object) -> None:
    with pytest.raises(CronError):
        parse_cron(value)  # type: ignore[arg-type]


def test_expressions_are_normalised_and_pickle() -> None:
    schedule = parse_cron("  0   9 * *   1-5 ")
    assert schedule.expression == "0 9 * * 1-5"
    assert pickle.loads(pickle.dumps(schedule)) == schedule


@pytest.mark.parametrize("expression, description", [
    ("0 9 * * 1-5", "At 09:00, Monday through Friday"),
    ("*/15 * * * *", "Every 15 minutes"),
    ("0 0 * * 7", "At 00:00, only on Sunday"),
])
def test_descriptions_use_a_24_hour_clock(expression: str, description: str) -> None:
    assert describe_cron(expression) == description


@pytest.mark.parametrize("expression", ["² * * * *", "٣ * * * *", "0 0 * * ｍｏｎ"])
def test_non_ascii_digits_and_names_are_rejected(expression: str) -> None:
    with pytest.raises(CronError, match="ASCII"):
        parse_cron(expression)
