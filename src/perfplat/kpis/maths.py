"""The four KPIs of SPEC section 3 as pure functions over plain data: no Django, no database.

In: for each service, the sums of its standard data sets' records per month (or per quarter or
year, for records that describe a whole quarter or year): a `ServiceData`. Out: for each period,
each KPI's value or "not enough data", with its numerator, denominator and its changes from the
previous period and from the same period a year earlier: a list of `PeriodKpis`.

The rules, which the API, the pages and the CSV downloads all follow:

- Periods are calendar months, calendar quarters (starting January, April, July, October) and
  rolling years (the 12 months ending with a month). The previous period of a rolling year is the
  rolling year ending a month earlier; "a year earlier" is always 12 months earlier.
- A record that describes an hour, day, week or month counts in the month of its `_timestamp`
  (a week starting Monday 30 June counts in June). A record that describes a quarter or a year
  covers each of its months and counts only in periods that contain it whole.
- A data set's side of a KPI is known for a period only when the data set has records for every
  month of it; otherwise, and when the denominator is 0, the KPI is "not enough data": a value
  of None with the reason, never 0, NaN or a division error.
- A roll-up (an organisation and the bodies under it, or all of government) adds up, KPI by KPI,
  the numerators and the denominators of the services that have both; it never averages
  percentages.
- Arithmetic is exact (int and Fraction; database sums arrive as int, Decimal or float, and a
  float is taken as the shortest decimal that reads back as it). Rounding happens only for
  output: pounds to the penny (half away from zero), shares and relative changes as the nearest
  float (full precision), counts as whole numbers when they are whole.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from .periods import (
    PERIOD_KINDS,
    Period,
    add_months,
    month_start,
    periods_to_show,
)

# An exact number: counts stay int; anything with a fraction is a Fraction.
Exact = int | Fraction
Number = int | float | Decimal | Fraction

# The standard data set types, by their data_type.
TRANSACTIONS = "transactions-by-channel"
COST = "cost"
SATISFACTION = "user-satisfaction"
COMPLETION = "completion"
SOURCES = (TRANSACTIONS, COST, SATISFACTION, COMPLETION)

COST_PER_TRANSACTION = "cost_per_transaction"
USER_SATISFACTION = "user_satisfaction"
SATISFACTION_SCORE = "user_satisfaction_score"
COMPLETION_RATE = "completion_rate"
DIGITAL_TAKE_UP = "digital_take_up"
KPIS = (
    COST_PER_TRANSACTION,
    USER_SATISFACTION,
    SATISFACTION_SCORE,
    COMPLETION_RATE,
    DIGITAL_TAKE_UP,
)

POUNDS, SHARE = "pounds", "share"
UNITS = {kpi: SHARE for kpi in KPIS} | {COST_PER_TRANSACTION: POUNDS}

# The data sets each KPI's numerator and denominator come from.
SIDES = {
    COST_PER_TRANSACTION: (COST, TRANSACTIONS),
    USER_SATISFACTION: (SATISFACTION, SATISFACTION),
    SATISFACTION_SCORE: (SATISFACTION, SATISFACTION),
    COMPLETION_RATE: (COMPLETION, COMPLETION),
    DIGITAL_TAKE_UP: (TRANSACTIONS, TRANSACTIONS),
}
_NO_DENOMINATOR = {
    COST_PER_TRANSACTION: "no completed transactions in this period",
    USER_SATISFACTION: "no survey responses in this period",
    SATISFACTION_SCORE: "no survey responses in this period",
    COMPLETION_RATE: "no journeys started in this period",
    DIGITAL_TAKE_UP: "no completed transactions in this period",
}

DIGITAL = "digital"
# The channel of costs given for every channel together (the cost type's default).
ALL_CHANNELS = "all"
RATINGS = ("rating_1", "rating_2", "rating_3", "rating_4", "rating_5")
# Each rating as a share: very dissatisfied 0%, dissatisfied 25%, neither 50%, satisfied 75%,
# very satisfied 100%.
RATING_SCORES = dict(zip(RATINGS, (Fraction(n, 4) for n in range(5)), strict=True))
SATISFIED = ("rating_4", "rating_5")
STARTED, COMPLETED = "started", "completed"

# A KPI of one subject: (KPI name, channel); the channel is None for all channels together.
Key = tuple[str, str | None]


def exact(value: Number) -> Exact:
    """A sum from the database as an exact number."""
    if isinstance(value, bool):
        raise TypeError("a KPI sum cannot be true or false")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        # The shortest decimal that reads back as this float: 0.1 is 1/10, not 0.1000...0555.
        value = Decimal(repr(value))
    number = Fraction(value)
    return number.numerator if number.denominator == 1 else number


# input


@dataclass(frozen=True)
class Block:
    """The sums of one data set's records that describe one month, quarter (3) or year (12)."""

    start: date  # the first day of the month, quarter or year
    months: int
    # name -> sum: a channel's transactions or cost, a rating's responses, started, completed
    sums: tuple[tuple[str, Number], ...]


@dataclass(frozen=True)
class Source:
    """One standard data set of a service: the sums of its records, or why there are none."""

    blocks: tuple[Block, ...] = ()
    unavailable: str | None = None

    @cached_property
    def _by_month(self) -> dict[date, dict[str, Exact]]:
        found: dict[date, dict[str, Exact]] = {}
        for block in self.blocks:
            if block.months == 1:
                _add_into(found.setdefault(month_start(block.start), {}), block.sums)
        return found

    @cached_property
    def _long_blocks(self) -> list[Block]:
        return sorted((b for b in self.blocks if b.months > 1), key=lambda b: b.start)

    @cached_property
    def first_month(self) -> date | None:
        return min((block.start for block in self.blocks), default=None)

    def sums_over(self, name: str, months: Sequence[date]) -> dict[str, Exact] | str:
        """The sums over consecutive months, or the reason they are not known."""
        if self.unavailable is not None:
            return self.unavailable
        first, end = months[0], add_months(months[-1], 1)
        covered: set[date] = set()
        totals: dict[str, Exact] = {}
        for block in self._long_blocks:
            block_end = add_months(block.start, block.months)
            if block_end <= first or block.start >= end:
                continue
            if block.start < first or block_end > end:
                unit = "quarter" if block.months == 3 else "year"
                return f"{name} data is given per {unit}, which this period does not line up with"
            covered.update(add_months(block.start, i) for i in range(block.months))
            _add_into(totals, block.sums)
        for month in months:
            sums = self._by_month.get(month)
            if sums is not None:
                covered.add(month)
                _add_into(totals, sums.items())
        missing = sum(1 for month in months if month not in covered)
        if missing == len(months):
            return f"no {name} data for this period"
        if missing:
            return f"{name} data is missing for {missing} of the {len(months)} months"
        return totals


def _add_into(totals: dict[str, Exact], sums) -> None:
    for name, value in sums:
        totals[name] = totals.get(name, 0) + exact(value)


def monthly(sums: Mapping[date, Mapping[str, Number]]) -> Source:
    """A Source from sums per month (first day of the month)."""
    return Source(tuple(Block(m, 1, tuple(s.items())) for m, s in sorted(sums.items())))


def quarterly(sums: Mapping[date, Mapping[str, Number]]) -> Source:
    """A Source from sums per quarter (first day of the quarter)."""
    return Source(tuple(Block(q, 3, tuple(s.items())) for q, s in sorted(sums.items())))


@dataclass(frozen=True)
class ServiceData:
    """What a service's standard data sets add up to. A source left as None has no data set."""

    transactions: Source | None = None  # completed transactions, by channel
    cost: Source | None = None  # pounds, by channel ("all" for every channel together)
    satisfaction: Source | None = None  # responses per rating: rating_1 .. rating_5
    completion: Source | None = None  # started, completed

    def source(self, data_type: str) -> Source:
        attribute = {
            TRANSACTIONS: "transactions",
            COST: "cost",
            SATISFACTION: "satisfaction",
            COMPLETION: "completion",
        }[data_type]
        found = getattr(self, attribute)
        return found if found is not None else Source(unavailable=f"no {data_type} data set")

    @property
    def first_month(self) -> date | None:
        months = [self.source(s).first_month for s in SOURCES]
        return min((m for m in months if m is not None), default=None)


# numerators and denominators


@dataclass(frozen=True)
class Sides:
    """A KPI's numerator and denominator for one subject and period; None for a side that is not
    known, with the reason."""

    numerator: Exact | None
    denominator: Exact | None
    missing: str | None = None

    @property
    def complete(self) -> bool:
        return self.numerator is not None and self.denominator is not None


def _sides(numerator: Exact | str, denominator: Exact | str) -> Sides:
    reasons = [side for side in (numerator, denominator) if isinstance(side, str)]
    if reasons:
        return Sides(
            None if isinstance(numerator, str) else numerator,
            None if isinstance(denominator, str) else denominator,
            "; ".join(dict.fromkeys(reasons)),
        )
    return Sides(numerator, denominator)


def _part(sums: dict[str, Exact] | str, pick: Callable[[dict], Exact]) -> Exact | str:
    return sums if isinstance(sums, str) else pick(sums)


def service_sides(data: ServiceData, months: Sequence[date]) -> dict[Key, Sides]:
    """Each KPI's numerator and denominator for one service over consecutive months."""
    transactions = data.source(TRANSACTIONS).sums_over(TRANSACTIONS, months)
    cost = data.source(COST).sums_over(COST, months)
    ratings = data.source(SATISFACTION).sums_over(SATISFACTION, months)
    completion = data.source(COMPLETION).sums_over(COMPLETION, months)

    all_transactions = _part(transactions, lambda t: sum(t.values()))
    responses = _part(ratings, lambda r: sum(r.get(k, 0) for k in RATINGS))
    found = {
        (COST_PER_TRANSACTION, None): _sides(
            _part(cost, lambda c: sum(c.values())), all_transactions
        ),
        (USER_SATISFACTION, None): _sides(
            _part(ratings, lambda r: sum(r.get(k, 0) for k in SATISFIED)), responses
        ),
        (SATISFACTION_SCORE, None): _sides(
            _part(ratings, lambda r: sum(RATING_SCORES[k] * r.get(k, 0) for k in RATINGS)),
            responses,
        ),
        (COMPLETION_RATE, None): _sides(
            _part(completion, lambda c: c.get(COMPLETED, 0)),
            _part(completion, lambda c: c.get(STARTED, 0)),
        ),
        (DIGITAL_TAKE_UP, None): _sides(
            _part(transactions, lambda t: t.get(DIGITAL, 0)), all_transactions
        ),
    }
    if not isinstance(cost, str):
        # Per channel where costs are given per channel (a channel the transactions do not
        # mention had no transactions).
        for channel in sorted(set(cost) - {ALL_CHANNELS}):
            found[(COST_PER_TRANSACTION, channel)] = _sides(
                cost[channel], _part(transactions, lambda t, c=channel: t.get(c, 0))
            )
    return _with_exact_numbers(found)


def _with_exact_numbers(found: dict[Key, Sides]) -> dict[Key, Sides]:
    # Fraction(5, 1) from the score's sum is the int 5.
    def tidy(number):
        if isinstance(number, Fraction) and number.denominator == 1:
            return number.numerator
        return number

    return {
        key: Sides(tidy(sides.numerator), tidy(sides.denominator), sides.missing)
        for key, sides in found.items()
    }


def _ordered(keys) -> list[Key]:
    return sorted(keys, key=lambda key: (KPIS.index(key[0]), key[1] is not None, key[1] or ""))


def roll_up(members: Sequence[Mapping[Key, Sides]]) -> dict[Key, Sides]:
    """Add up the services' numerators and denominators, KPI by KPI, over the services that
    have both sides (a service missing one would skew the ratio)."""
    keys = {(kpi, None) for kpi in KPIS}
    for member in members:
        keys.update(member)
    found = {}
    for key in _ordered(keys):
        complete = [m[key] for m in members if key in m and m[key].complete]
        if not complete:
            reason = (
                "no services to add up"
                if not members
                else f"none of the {_services(len(members))} has enough data for this period"
            )
            found[key] = Sides(None, None, reason)
        else:
            found[key] = Sides(
                sum(s.numerator for s in complete), sum(s.denominator for s in complete)
            )
    return found


def _services(count: int) -> str:
    return "1 service" if count == 1 else f"{count} services"


# output


@dataclass(frozen=True)
class Change:
    """The change from an earlier period: absolute (in the KPI's unit) and relative (a share of
    the earlier value); None with the reason when it cannot be known."""

    compared_with: Period
    absolute: Fraction | None
    relative: Fraction | None
    not_enough_data: str | None


@dataclass(frozen=True)
class KpiValue:
    kpi: str
    channel: str | None  # None: all channels
    value: Fraction | None
    not_enough_data: str | None
    numerator: Exact | None
    denominator: Exact | None
    previous_period: Change
    year_earlier: Change

    @property
    def unit(self) -> str:
        return UNITS[self.kpi]


@dataclass(frozen=True)
class PeriodKpis:
    period: Period
    kpis: tuple[KpiValue, ...]  # the five KPIs in KPIS order, then cost per channel

    def get(self, kpi: str, channel: str | None = None) -> KpiValue | None:
        return next((k for k in self.kpis if k.kpi == kpi and k.channel == channel), None)

    @property
    def main(self) -> dict[str, KpiValue]:
        """The five KPIs for all channels, by name."""
        return {k.kpi: k for k in self.kpis if k.channel is None}

    @property
    def cost_by_channel(self) -> dict[str, KpiValue]:
        return {k.channel: k for k in self.kpis if k.channel is not None}


def evaluate(key: Key, sides: Sides) -> tuple[Fraction | None, str | None]:
    """A KPI's value, or None and why there is not enough data."""
    if not sides.complete:
        return None, sides.missing or "not enough data"
    if sides.denominator == 0:
        kpi, channel = key
        if channel is not None:
            return None, f"no completed {channel} transactions in this period"
        return None, _NO_DENOMINATOR[kpi]
    return Fraction(sides.numerator) / sides.denominator, None


def change(value: Fraction | None, earlier: Fraction | None, compared_with: Period) -> Change:
    if value is None:
        return Change(compared_with, None, None, "not enough data in this period")
    if earlier is None:
        return Change(compared_with, None, None, "not enough data in the earlier period")
    absolute = value - earlier
    if earlier == 0:
        return Change(
            compared_with, absolute, None, "the earlier value is 0, so there is no relative change"
        )
    return Change(compared_with, absolute, absolute / abs(earlier), None)


def kpis_over(
    sides_for: Callable[[Sequence[date]], Mapping[Key, Sides]],
    kind: str,
    today: date,
    first_month: date | None,
    only_latest: bool = False,
) -> list[PeriodKpis]:
    """Every period's KPIs with their changes, from a function giving the sides over months."""
    if kind not in PERIOD_KINDS:
        raise ValueError(f"unknown period {kind!r}")
    computed: dict[Period, dict[Key, tuple]] = {}

    def values(period: Period) -> dict[Key, tuple]:
        if period not in computed:
            computed[period] = {
                key: (sides, *evaluate(key, sides))
                for key, sides in sides_for(period.months).items()
            }
        return computed[period]

    shown = periods_to_show(kind, first_month, today)
    if only_latest:
        shown = shown[-1:]
    result = []
    for period in shown:
        current = values(period)
        previous, year_earlier = values(period.previous), values(period.year_earlier)
        kpis = []
        for key in _ordered(current):
            sides, value, reason = current[key]
            kpis.append(
                KpiValue(
                    kpi=key[0],
                    channel=key[1],
                    value=value,
                    not_enough_data=reason,
                    numerator=sides.numerator,
                    denominator=sides.denominator,
                    previous_period=change(
                        value, previous.get(key, (None, None))[1], period.previous
                    ),
                    year_earlier=change(
                        value, year_earlier.get(key, (None, None))[1], period.year_earlier
                    ),
                )
            )
        result.append(PeriodKpis(period, tuple(kpis)))
    return result


def service_kpis(
    data: ServiceData, kind: str, today: date, only_latest: bool = False
) -> list[PeriodKpis]:
    """One service's KPIs for each period of `kind` up to the last complete one before `today`."""
    return kpis_over(
        lambda months: service_sides(data, months), kind, today, data.first_month, only_latest
    )


def rolled_up_kpis(
    services: Sequence[ServiceData], kind: str, today: date, only_latest: bool = False
) -> list[PeriodKpis]:
    """The KPIs of several services together (numerators and denominators added up)."""
    firsts = [s.first_month for s in services if s.first_month is not None]
    return kpis_over(
        lambda months: roll_up([service_sides(s, months) for s in services]),
        kind,
        today,
        min(firsts, default=None),
        only_latest,
    )


# rounding for output


def pounds(value: Exact) -> Decimal:
    """Money to the penny, halves away from zero: 0.125 -> 0.13, -0.125 -> -0.13."""
    pennies = abs(Fraction(value)) * 100
    whole = int(pennies)
    if pennies - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(-whole if value < 0 else whole).scaleb(-2)


def plain(value: Exact) -> int | float:
    """A count or other plain number: an int when whole, else the nearest float."""
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else float(value)


def rounded_value(kpi: str, value: Fraction | None) -> Decimal | float | None:
    """A KPI's value, or an absolute change of it, as output: pounds to the penny, shares as
    the nearest float (0.8125 is 81.25%)."""
    if value is None:
        return None
    return pounds(value) if UNITS[kpi] == POUNDS else float(value)


def rounded_numerator(kpi: str, value: Exact | None) -> Decimal | int | float | None:
    if value is None:
        return None
    return pounds(value) if UNITS[kpi] == POUNDS else plain(value)


def rounded_share(value: Fraction | None) -> float | None:
    return None if value is None else float(value)
