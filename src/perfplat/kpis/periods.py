"""The periods KPIs are given for, and the periods records describe. Pure date arithmetic on UTC
days; no Django.

KPIs are given for weeks (Monday to Sunday), calendar months, calendar quarters (starting
January, April, July, October) and rolling years (the 12 months ending with a month), and, for a
dashboard's baseline, for any run of days. A period is [start, end): `end` is the day after its
last day.

A record of a KPI data set describes one day, week, month or quarter starting on the UTC date of
its `_timestamp` (a week from a Wednesday runs to the Tuesday after; a month from 15 January to
14 February; a month from 31 January, as a calendar would, to the day before 28 February).
"""

from dataclasses import dataclass
from datetime import date, timedelta

WEEK, MONTH, QUARTER, ROLLING_YEAR = "week", "month", "quarter", "rolling-year"
PERIOD_KINDS = (WEEK, MONTH, QUARTER, ROLLING_YEAR)
# The KPI API also gives KPIs per day (a journey beacon's daily completion rate), for the last
# DAY_HISTORY days; the pages keep to PERIOD_KINDS.
API_PERIOD_KINDS = ("day", *PERIOD_KINDS)
DAY_HISTORY = 366
# The kind of a baseline (or any other chosen run of days).
DAYS = "days"
# How far back the periods listed go: ten years. Earlier data still serves the comparisons.
HISTORY_YEARS = 10

# The periods a record may describe (its `period` field).
DAY = "day"
DESCRIBED = ("day", "week", "month", "quarter")
ONE_DAY = timedelta(days=1)

MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _days_in_month(first: date) -> int:
    return (add_months(first, 1) - first).days


def months_after(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day when it is shorter
    (31 January + 1 month is 28 or 29 February)."""
    first = add_months(day, months)
    return first.replace(day=min(day.day, _days_in_month(first)))


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def described_end(start: date, described: str) -> date:
    """The day after the last day a record describing `described` from `start` covers."""
    if described == DAY:
        return start + ONE_DAY
    if described == WEEK:
        return start + timedelta(days=7)
    if described == MONTH:
        return months_after(start, 1)
    if described == QUARTER:
        return months_after(start, 3)
    raise ValueError(f"a record cannot describe a {described!r}")


def day_text(day: date) -> str:
    """ "6 January 2025"."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def days_text(first: date, last: date) -> str:
    """A run of days as people read it: "6 January 2025", "6 to 12 January 2025",
    "30 December 2024 to 5 January 2025"."""
    if first == last:
        return day_text(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} to {day_text(last)}"
    if first.year == last.year:
        return f"{first.day} {MONTH_NAMES[first.month - 1]} to {day_text(last)}"
    return f"{day_text(first)} to {day_text(last)}"


@dataclass(frozen=True, order=True)
class Period:
    """A week, month, quarter, rolling year or chosen run of days: [start, end)."""

    kind: str
    start: date
    end: date

    @property
    def last_day(self) -> date:
        return self.end - ONE_DAY

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def shifted_months(self, months: int) -> "Period":
        return Period(self.kind, add_months(self.start, months), add_months(self.end, months))

    @property
    def previous(self) -> "Period":
        if self.kind == DAY:
            return Period(DAY, self.start - ONE_DAY, self.start)
        if self.kind == WEEK:
            return Period(WEEK, self.start - timedelta(days=7), self.start)
        if self.kind == QUARTER:
            return self.shifted_months(-3)
        if self.kind in (MONTH, ROLLING_YEAR):
            return self.shifted_months(-1)
        return Period(DAYS, self.start - timedelta(days=self.days), self.start)

    @property
    def year_earlier(self) -> "Period":
        if self.kind == DAY:
            # 52 weeks: the same weekday a year earlier, as for weeks.
            return Period(DAY, self.start - timedelta(weeks=52), self.end - timedelta(weeks=52))
        if self.kind == WEEK:
            # 52 weeks: the same weekdays a year earlier.
            return Period(WEEK, self.start - timedelta(weeks=52), self.end - timedelta(weeks=52))
        if self.kind == DAYS:
            return Period(DAYS, months_after(self.start, -12), months_after(self.end, -12))
        return self.shifted_months(-12)


def days_period(first: date, last: date) -> Period:
    """A chosen run of days, both included (a baseline)."""
    return Period(DAYS, first, last + ONE_DAY)


def period_containing(kind: str, day: date) -> Period:
    """The period of `kind` that holds `day` (a rolling year: the one ending with its month)."""
    if kind == DAY:
        return Period(DAY, day, day + ONE_DAY)
    if kind == WEEK:
        start = week_start(day)
        return Period(WEEK, start, start + timedelta(days=7))
    if kind == MONTH:
        start = month_start(day)
        return Period(MONTH, start, add_months(start, 1))
    if kind == QUARTER:
        start = quarter_start(day)
        return Period(QUARTER, start, add_months(start, 3))
    if kind == ROLLING_YEAR:
        end = add_months(day, 1)
        return Period(ROLLING_YEAR, add_months(end, -12), end)
    raise ValueError(f"unknown period {kind!r}")


def latest_period(kind: str, today: date) -> Period:
    """The latest period of `kind` that has ended by `today` (whether or not its data is
    complete: see kpis.maths for that)."""
    if kind not in API_PERIOD_KINDS:
        raise ValueError(f"unknown period {kind!r}")
    return period_containing(kind, today).previous


def first_period(kind: str, first_day: date) -> Period:
    """The first period worth listing for data starting on `first_day`: the one holding it,
    or for rolling years the first whose months all start on or after its month."""
    if kind == ROLLING_YEAR:
        start = month_start(first_day)
        return Period(ROLLING_YEAR, start, add_months(start, 12))
    return period_containing(kind, first_day)


def history_start(kind: str, end: date) -> date:
    """How far back periods of `kind` ending at `end` are listed."""
    if kind == DAY:
        return end - timedelta(days=DAY_HISTORY)
    return months_after(end, -12 * HISTORY_YEARS)


def periods_to_show(kind: str, first_day: date | None, last: Period) -> list[Period]:
    """In time order: every period of `kind` from the first one with data (`first_period`) to
    `last`, at most HISTORY_YEARS back; always at least `last`."""
    if first_day is None:
        return [last]
    earliest = max(history_start(kind, last.end), first_period(kind, first_day).start)
    found = [last]
    while True:
        earlier = found[-1].previous
        if earlier.start < earliest:
            break
        found.append(earlier)
    return found[::-1]
