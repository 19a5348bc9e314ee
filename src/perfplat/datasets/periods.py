"""Time in perfplat: UTC epoch seconds, ISO 8601 parsing, and period starts.

Records keep their timestamp and period starts as integer seconds since the epoch (UTC), which
both databases compare, index and group as cheaply as anything can be. Weeks start on Monday;
quarters in January, April, July and October.
"""

import calendar
import re
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache

PERIODS = ("hour", "day", "week", "month", "quarter", "year")
# The derived fields added to every record with a timestamp, in the order of PERIODS.
PERIOD_FIELDS = tuple(f"_{p}_start_at" for p in PERIODS)

HOUR = 3600
DAY = 86400
WEEK = 7 * DAY
# 1970-01-01 was a Thursday: the Monday that starts its week is three days earlier.
_MONDAY_OFFSET = 3 * DAY
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)"
)


def parse_datetime(value: str) -> int:
    """Parse an ISO 8601 date-time that carries a UTC offset (or Z) into epoch seconds.

    Fractions of a second are dropped (stored times have one-second resolution). Raises
    ValueError for anything else, including date-times without an offset.
    """
    match = _ISO_DATETIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError("not an ISO 8601 date-time with a UTC offset")
    if value[10] in "Tt " and value[-1] not in "z":
        # The common case, parsed in C; the pattern above has already enforced strictness.
        try:
            moment = datetime.fromisoformat(value.replace("t", "T", 1))
            # Dropping the fraction first floors, before 1970 too.
            return int(moment.replace(microsecond=0).timestamp())
        except ValueError as error:
            raise ValueError(str(error))
    year, month, day, hour, minute, second, _fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu:
        tz = UTC
    else:
        offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
        if offset >= timedelta(hours=24):
            raise ValueError("the UTC offset is out of range")
        tz = timezone(-offset if sign == "-" else offset)
    # datetime() checks the ranges (month 1-12, the days of that month, hour 0-23, ...).
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), tzinfo=tz
    )
    return int(moment.timestamp())


# The times perfplat stores and queries: well inside the years 1 to 9999 that datetime
# represents, so that the end of any period (a range's last one, inclusive) can be computed.
EARLIEST_TEXT, LATEST_TEXT = "1000-01-01T00:00:00Z", "9000-01-01T00:00:00Z"
EARLIEST = parse_datetime(EARLIEST_TEXT)
LATEST = parse_datetime(LATEST_TEXT)
OUT_OF_RANGE = f"must be between {EARLIEST_TEXT} and {LATEST_TEXT}"


def format_timestamp(seconds: int | None) -> str | None:
    """Epoch seconds as `YYYY-MM-DDTHH:MM:SS+00:00`, the one format perfplat returns."""
    if seconds is None:
        return None
    return _format(seconds)


@lru_cache(maxsize=65536)
def _format(seconds: int) -> str:
    moment = EPOCH + timedelta(seconds=seconds)
    # Formatted by hand: strftime does not pad years before 1000 to four digits.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}+00:00"
    )


def _to_seconds(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY


@lru_cache(maxsize=65536)
def _calendar_starts(day_number: int) -> tuple[int, int, int]:
    day = date.fromordinal(day_number + _EPOCH_ORDINAL)
    quarter_month = 3 * ((day.month - 1) // 3) + 1
    return (
        _to_seconds(day.replace(day=1)),
        _to_seconds(day.replace(month=quarter_month, day=1)),
        _to_seconds(day.replace(month=1, day=1)),
    )


def period_starts(seconds: int) -> tuple[int, int, int, int, int, int]:
    """The hour, day, week, month, quarter and year starts of a moment, in epoch seconds."""
    day_start = seconds - seconds % DAY
    week_start = seconds - (seconds + _MONDAY_OFFSET) % WEEK
    month, quarter, year = _calendar_starts(seconds // DAY)
    return (seconds - seconds % HOUR, day_start, week_start, month, quarter, year)


def period_start(period: str, seconds: int) -> int:
    """The start of the `period` that contains the moment."""
    return period_starts(seconds)[PERIODS.index(period)]


def add_periods(period: str, start: int, count: int) -> int:
    """Move `count` periods (may be negative) from a moment."""
    if period == "hour":
        return start + count * HOUR
    if period == "day":
        return start + count * DAY
    if period == "week":
        return start + count * WEEK
    months = {"month": 1, "quarter": 3, "year": 12}[period] * count
    moment = datetime.fromtimestamp(start, UTC)
    month_index = moment.year * 12 + moment.month - 1 + months
    year, month = month_index // 12, month_index % 12 + 1
    # 31 January plus one month is the last day of February.
    moved = moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )
    return int(moved.timestamp())


def period_range(period: str, start: int, end: int) -> list[int]:
    """The starts of every period that overlaps [start, end), in time order."""
    starts = []
    if start >= end:
        return starts
    current = period_start(period, start)
    while current < end:
        starts.append(current)
        current = add_periods(period, current, 1)
    return starts
