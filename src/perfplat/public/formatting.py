"""How numbers, periods and changes read on the public pages (GOV.UK style: "£1.20", "86.2%",
"January 2025", "up 1.2 percentage points from December 2024"). The JSON and CSV twins keep
the unformatted values."""

from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction

from perfplat.kpis import maths
from perfplat.kpis.periods import (
    DAYS,
    MONTH,
    QUARTER,
    ROLLING_YEAR,
    WEEK,
    Period,
    add_months,
    days_text,
)

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

KPI_LABELS = {
    maths.COST_PER_TRANSACTION: "Cost per transaction",
    maths.USER_SATISFACTION: "User satisfaction",
    maths.SATISFACTION_SCORE: "Satisfaction score",
    maths.COMPLETION_RATE: "Completion rate",
    maths.DIGITAL_TAKE_UP: "Digital take-up",
}
# The four KPIs of SPEC section 3, in the order pages show them (the satisfaction score goes
# with user satisfaction).
TILE_KPIS = (
    maths.COST_PER_TRANSACTION,
    maths.USER_SATISFACTION,
    maths.COMPLETION_RATE,
    maths.DIGITAL_TAKE_UP,
)
KPI_HINTS = {
    maths.COST_PER_TRANSACTION: "Total cost of the service divided by completed transactions",
    maths.USER_SATISFACTION: "Survey responses that were satisfied or very satisfied",
    maths.COMPLETION_RATE: "Digital journeys completed out of those started",
    maths.DIGITAL_TAKE_UP: "Transactions completed online out of all transactions",
}
PERIOD_NAMES = {
    WEEK: "Week",
    MONTH: "Month",
    QUARTER: "Quarter",
    ROLLING_YEAR: "Rolling year",
}
NOT_ENOUGH_DATA = "Not enough data"


def month_name(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.year}"


def period_label(period: Period) -> str:
    """A KPI period: "January 2025", "October to December 2024", "February 2024 to January
    2025"; a week or a baseline by its days, "6 to 12 January 2025"."""
    if period.kind in (WEEK, DAYS):
        return days_text(period.start, period.last_day)
    last = add_months(period.end, -1)
    if period.kind == MONTH:
        return month_name(period.start)
    first = MONTHS[period.start.month - 1]
    if period.start.year == last.year:
        return f"{first} to {month_name(last)}"
    return f"{month_name(period.start)} to {month_name(last)}"


def short_period_label(period: Period) -> str:
    """A KPI period for a chart's axis: "6 Jan 2025" (a week), "Jan 2025", "Oct–Dec 2024",
    "to Jan 2025"."""
    if period.kind in (WEEK, DAYS):
        return f"{period.start.day} {MONTHS[period.start.month - 1][:3]} {period.start.year}"
    if period.kind == MONTH:
        return f"{MONTHS[period.start.month - 1][:3]} {period.start.year}"
    last = add_months(period.end, -1)
    if period.kind == QUARTER:
        return f"{MONTHS[period.start.month - 1][:3]}–{MONTHS[last.month - 1][:3]} {last.year}"
    return f"to {MONTHS[last.month - 1][:3]} {last.year}"


def number(value, places: int = 2) -> str:
    """1234 -> "1,234"; 1234.5 -> "1,234.5"; None -> ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal | Fraction):
        value = float(value)
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        text = f"{value:,.{places}f}".rstrip("0").rstrip(".")
        return text
    return str(value)


def compact(value: float) -> str:
    """Axis labels: 1200 -> "1,200", 1500000 -> "1.5m"."""
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:,.4g}m"
    if magnitude >= 100_000:
        return f"{value / 1_000:,.4g}k"
    return number(value)


def percent(share, places: int = 1) -> str:
    return f"{float(share) * 100:.{places}f}%"


def pounds(value) -> str:
    amount = maths.pounds(value) if not isinstance(value, Decimal) else value
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def kpi_value(kpi: str, value) -> str:
    """A KPI's value as people read it; "Not enough data" for None (never 0)."""
    if value is None:
        return NOT_ENOUGH_DATA
    if maths.UNITS[kpi] == maths.POUNDS:
        return pounds(value)
    return percent(value)


def axis_text(unit: str):
    if unit == maths.POUNDS:
        return pounds
    return lambda share: f"{float(share) * 100:.0f}%"


def change_text(kpi: str, change: maths.Change) -> str:
    """ "Up 1.2 percentage points from December 2024", "Down £0.05 (7.5%) from December 2024",
    or why it cannot be said."""
    earlier = period_label(change.compared_with)
    if change.absolute is None:
        return f"Not enough data to compare with {earlier}"
    absolute = change.absolute
    if maths.UNITS[kpi] == maths.POUNDS:
        size = maths.pounds(abs(absolute))
        if size == 0:
            return f"No change from {earlier}"
        text = f"£{size:,.2f}"
        if change.relative is not None:
            text += f" ({abs(float(change.relative)) * 100:.1f}%)"
    else:
        points = abs(float(absolute)) * 100
        if round(points, 1) == 0:
            return f"No change from {earlier}"
        text = f"{points:.1f} percentage point{'' if round(points, 1) == 1 else 's'}"
    return f"{'Up' if absolute > 0 else 'Down'} {text} from {earlier}"


def date_text(moment: datetime) -> str:
    """ "3 March 2025 at 10:05" (UTC)."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} at {moment:%H:%M} (UTC)"


# read API periods (modules)

PERIOD_COLUMN = {
    "hour": "Hour starting",
    "day": "Day",
    "week": "Week starting",
    "month": "Month",
    "quarter": "Quarter",
    "year": "Year",
}


def read_period(period: str | None, iso: str, short: bool = False) -> str:
    """A read API period start (ISO 8601) as a label: week "6 January 2025" ("6 Jan 2025"
    short), month "January 2025" ("Jan 2025"), quarter "January to March 2025"
    ("Jan–Mar 2025"), year "2025"."""
    moment = datetime.fromisoformat(iso)
    month = MONTHS[moment.month - 1]
    if short:
        month = month[:3]
    if period == "month":
        return f"{month} {moment.year}"
    if period == "quarter":
        last = MONTHS[moment.month + 1]
        if short:
            return f"{month}–{last[:3]} {moment.year}"
        return f"{month} to {last} {moment.year}"
    if period == "year":
        return str(moment.year)
    if period == "hour":
        return f"{moment.day} {month} {moment.year} {moment:%H:%M}"
    return f"{moment.day} {month} {moment.year}"


def key_label(key: str) -> str:
    """A read API key as a heading: "count:sum" -> "Count (sum)", "_count" -> "Records"."""
    if key == "_count":
        return "Records"
    if key == "_start_at":
        return "Period starting"
    if key == "_end_at":
        return "Period ending"
    field, _, method = key.partition(":")
    text = field.replace("_", " ").strip().capitalize()
    return f"{text} ({method})" if method else text
