"""The periods KPIs are given for: calendar months, calendar quarters (starting January, April,
July, October) and rolling years (the 12 months ending with a month). Pure date arithmetic on
the first days of months; no Django.
"""

from dataclasses import dataclass
from datetime import date

MONTH, QUARTER, ROLLING_YEAR = "month", "quarter", "rolling-year"
PERIOD_KINDS = (MONTH, QUARTER, ROLLING_YEAR)
# How far back the periods listed go: ten years. Earlier data still serves the comparisons.
HISTORY_MONTHS = 120
_STEP = {MONTH: 1, QUARTER: 3, ROLLING_YEAR: 1}


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def block_start(month: date, months: int) -> date:
    """The start of the month, quarter (3) or year (12) that contains `month`."""
    if months == 3:
        return quarter_start(month)
    if months == 12:
        return date(month.year, 1, 1)
    return month_start(month)


@dataclass(frozen=True, order=True)
class Period:
    """A month, a quarter or a rolling year: [start, end), both first days of a month."""

    kind: str
    start: date
    end: date

    @property
    def months(self) -> list[date]:
        found, month = [], self.start
        while month < self.end:
            found.append(month)
            month = add_months(month, 1)
        return found

    def shifted(self, months: int) -> "Period":
        return Period(self.kind, add_months(self.start, months), add_months(self.end, months))

    @property
    def previous(self) -> "Period":
        return self.shifted(-_STEP[self.kind])

    @property
    def year_earlier(self) -> "Period":
        return self.shifted(-12)


def period_ending(kind: str, last_month: date) -> Period:
    """The period of `kind` whose last month is `last_month`'s (a quarter: the quarter of it)."""
    if kind == MONTH:
        return Period(MONTH, last_month, add_months(last_month, 1))
    if kind == QUARTER:
        start = quarter_start(last_month)
        return Period(QUARTER, start, add_months(start, 3))
    if kind == ROLLING_YEAR:
        return Period(ROLLING_YEAR, add_months(last_month, -11), add_months(last_month, 1))
    raise ValueError(f"unknown period {kind!r}")


def latest_period(kind: str, today: date) -> Period:
    """The last complete period of `kind`: the latest that ended on or before `today`."""
    if kind == QUARTER:
        return period_ending(QUARTER, add_months(quarter_start(today), -1))
    return period_ending(kind, add_months(month_start(today), -1))


def periods_to_show(kind: str, first_month: date | None, today: date) -> list[Period]:
    """In time order: every period from the one holding the first month with data (for rolling
    years, the first whose 12 months all come after it) to the latest complete one, at most
    HISTORY_MONTHS back; always at least the latest."""
    latest = latest_period(kind, today)
    if first_month is None:
        return [latest]
    first = quarter_start(first_month) if kind == QUARTER else month_start(first_month)
    earliest = max(add_months(latest.end, -HISTORY_MONTHS), first)
    found = [latest]
    while True:
        earlier = found[-1].previous
        if earlier.start < earliest:
            break
        found.append(earlier)
    return found[::-1]
