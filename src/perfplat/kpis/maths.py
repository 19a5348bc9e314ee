"""The four KPIs of SPEC section 3 as pure functions over plain data: no Django, no database.

In: for each service, the sums of its standard data sets' records, one `Block` per (day the
records start, period they describe, channel or count): a `ServiceData`. Out: for each period,
each KPI's value or "not enough data", with its numerator, denominator, the days it covers, how
it was made and its changes from the previous period and from the same period a year earlier: a
list of `PeriodKpis`.

The rules, which the API, the pages and the CSV downloads all follow:

- Each record describes one day, week, month or quarter starting on the UTC date of its
  `_timestamp` (kpis.periods). A KPI for a period (a week, month, quarter, rolling year or a
  baseline's days) uses exactly that period's days: a record whose days cross the period's edge
  counts for the share of its days inside the period (a week from Monday 28 July counts 4/7 in
  July and 3/7 in August). Arithmetic is exact (int and Fraction).
- A data set's side of a KPI is known for a period only when its records describe every day of
  the period, and no day twice for the same channel; numerator and denominator then cover the
  same days, the period's. Otherwise, and when the denominator is 0, the KPI is "not enough
  data": a value of None with the reason (which days are missing), never 0, NaN or an error.
- A period is **complete** when it has ended, some of the subject's data describes part of it,
  and every data set that describes part of it has a record describing its last day whose own
  period has ended too (so data still arriving for it, like a week not sent yet or sent while
  it ran, holds it back; a data set with nothing for it, like a cost given per quarter and not
  yet sent, does not). The latest complete period is the headline: periods are listed up to it,
  never past it. A complete period's figures change only when records describing its days
  change.
- A roll-up (an organisation and the bodies under it, or all of government) adds up, KPI by KPI,
  the numerators and the denominators of the services that have both; it never averages
  percentages. Its period is complete when it is for every service in it.
- Rounding happens only for output: pounds to the penny (half away from zero), shares and
  relative changes as the nearest float (full precision), counts as whole numbers when whole.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from .periods import (
    API_PERIOD_KINDS,
    DESCRIBED,
    MONTH,
    QUARTER,
    ROLLING_YEAR,
    WEEK,
    Period,
    days_text,
    described_end,
    first_period,
    history_start,
    latest_period,
    periods_to_show,
)

# An exact number: counts stay int; anything with a fraction is a Fraction.
Exact = int | Fraction
Number = int | float | Decimal | Fraction

# The standard data set types (datasets.types), by their slug.
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

# How the pages name what records describe and what KPIs are given for.
ADJECTIVES = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly"}
TARGETS = {WEEK: "weeks", MONTH: "months", QUARTER: "quarters", ROLLING_YEAR: "years"}
# Missing runs of days named in a reason before "and N more".
MAX_RUNS_NAMED = 3

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


def _tidy(number):
    # Fraction(5, 1) is the int 5.
    if isinstance(number, Fraction) and number.denominator == 1:
        return number.numerator
    return number


# input


@dataclass(frozen=True)
class Block:
    """The sums of one data set's records that describe the same `period` (day, week, month or
    quarter) from the same day: what the SQL side (kpis.services.record_blocks) gives, and what
    a summaries table kept on write would give."""

    start: date  # the first day the records describe
    period: str  # day, week, month or quarter
    # name -> sum: a channel's transactions or cost, a rating's responses, started, completed
    sums: tuple[tuple[str, Number], ...]
    records: int = 0  # how many records were added up

    @property
    def end(self) -> date:
        """The day after the last day described."""
        return described_end(self.start, self.period)


@dataclass(frozen=True)
class Portion:
    """A data set's sums over a period's days, and how they were made."""

    sums: dict[str, Exact]
    described: frozenset[str]  # the periods its records describe (day, week, ...)
    shared: bool  # some record crosses the period's edge and counts for its share of days

    def made_from(self, target: str) -> str:
        kinds = sorted(self.described, key=DESCRIBED.index)
        names = [ADJECTIVES[kind] for kind in kinds]
        text = (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]) + (
            " data"
        )
        if self.shared:
            text += f" shared between {TARGETS.get(target, 'periods')} by day"
        return text


class _Index:
    """A data set's blocks, ready for questions about any run of days (as day ordinals)."""

    def __init__(self, blocks: Sequence[Block]):
        spans = sorted(
            (b.start.toordinal(), b.end.toordinal(), b) for b in blocks if b.period in DESCRIBED
        )
        self.starts = [s for s, _, _ in spans]
        self.spans = spans
        self.longest = max((e - s for s, e, _ in spans), default=0)
        self.kinds = frozenset(b.period for _, _, b in spans)
        # Days described, as disjoint runs [start, end) in order.
        runs: list[list[int]] = []
        for start, end, _ in spans:
            if runs and start <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], end)
            else:
                runs.append([start, end])
        self.run_starts = [r[0] for r in runs]
        self.runs = [(r[0], r[1]) for r in runs]
        # Days described twice for the same name (channel), in order of their first day.
        last_end: dict[str, tuple[int, Block]] = {}
        doubled = []
        for start, end, block in spans:
            for name, _ in block.sums:
                before = last_end.get(name)
                if before is not None and start < before[0]:
                    doubled.append((start, min(end, before[0]), name))
                if before is None or end > before[0]:
                    last_end[name] = (end, block)
        self.doubled = sorted(doubled)

    def covered(self, a: int, b: int) -> int:
        """How many days of [a, b) are described."""
        total = 0
        index = max(bisect_right(self.run_starts, a) - 1, 0)
        for start, end in self.runs[index:]:
            if start >= b:
                break
            total += max(0, min(end, b) - max(start, a))
        return total

    def missing(self, a: int, b: int) -> list[tuple[int, int]]:
        """The runs of days of [a, b) nothing describes."""
        gaps, cursor = [], a
        index = max(bisect_right(self.run_starts, a) - 1, 0)
        for start, end in self.runs[index:]:
            if start >= b:
                break
            if end <= cursor:
                continue
            if start > cursor:
                gaps.append((cursor, start))
            cursor = max(cursor, end)
        if cursor < b:
            gaps.append((cursor, b))
        return gaps

    def describes(self, day: int, ended_by: int) -> bool:
        """Whether a record whose own period has ended by `ended_by` describes the day (a
        record of a week still running may still change)."""
        first = bisect_left(self.starts, day - self.longest + 1)
        last = bisect_right(self.starts, day)
        return any(day < end <= ended_by for _, end, _ in self.spans[first:last])

    def twice(self, a: int, b: int) -> tuple[int, int, str] | None:
        for start, end, name in self.doubled:
            if start < b and end > a:
                return (max(start, a), min(end, b), name)
        return None

    def portion(self, a: int, b: int) -> Portion:
        """The sums over [a, b): blocks inside count whole, blocks across an edge their share."""
        sums: dict[str, Exact] = {}
        shared = False
        described = set()
        first = bisect_left(self.starts, a - self.longest + 1)
        last = bisect_left(self.starts, b)
        for start, end, block in self.spans[first:last]:
            if end <= a:
                continue
            described.add(block.period)
            inside = min(end, b) - max(start, a)
            if inside == end - start:
                for name, value in block.sums:
                    sums[name] = sums.get(name, 0) + exact(value)
            else:
                shared = True
                share = Fraction(inside, end - start)
                for name, value in block.sums:
                    sums[name] = sums.get(name, 0) + exact(value) * share
        return Portion({k: _tidy(v) for k, v in sums.items()}, frozenset(described), shared)


def _runs_text(runs: list[tuple[int, int]]) -> str:
    named = [
        days_text(date.fromordinal(start), date.fromordinal(end - 1))
        for start, end in runs[:MAX_RUNS_NAMED]
    ]
    if len(runs) > MAX_RUNS_NAMED:
        named.append(f"{len(runs) - MAX_RUNS_NAMED} more")
    return ", ".join(named[:-1]) + " and " + named[-1] if len(named) > 1 else named[0]


def _days(count: int) -> str:
    return "1 day" if count == 1 else f"{count} days"


@dataclass(frozen=True)
class Source:
    """One standard data set of a service: the sums of its records, or why there are none."""

    blocks: tuple[Block, ...] = ()
    unavailable: str | None = None

    @cached_property
    def _index(self) -> _Index:
        return _Index(self.blocks)

    @property
    def first_day(self) -> date | None:
        starts = self._index.starts
        return date.fromordinal(starts[0]) if starts else None

    @property
    def last_day(self) -> date | None:
        runs = self._index.runs
        return date.fromordinal(runs[-1][1] - 1) if runs else None

    def covered_days(self, period: Period) -> int:
        """How many of the period's days the records describe."""
        return self._index.covered(period.start.toordinal(), period.end.toordinal())

    def describes(self, day: date, ended_by: date) -> bool:
        """Whether a record whose period has ended by `ended_by` describes the day."""
        return self._index.describes(day.toordinal(), ended_by.toordinal())

    def sums_over(self, name: str, period: Period) -> Portion | str:
        """The sums over exactly the period's days, or the reason they are not known."""
        if self.unavailable is not None:
            return self.unavailable
        index = self._index
        a, b = period.start.toordinal(), period.end.toordinal()
        covered = index.covered(a, b)
        if covered == 0:
            return f"no {name} data for this period"
        if covered < b - a:
            missing = index.missing(a, b)
            return (
                f"{name} data is missing for {_days(b - a - covered)} of the {b - a} "
                f"({_runs_text(missing)})"
            )
        twice = index.twice(a, b)
        if twice is not None:
            start, end, channel = twice
            return (
                f"{name} records describe {_runs_text([(start, end)])} twice "
                f"(for {channel}): correct them so that each day is described once"
            )
        return index.portion(a, b)


def _blocks(sums: Mapping[date, Mapping[str, Number]], period: str) -> Source:
    return Source(tuple(Block(d, period, tuple(s.items())) for d, s in sorted(sums.items())))


def daily(sums: Mapping[date, Mapping[str, Number]]) -> Source:
    """A Source from sums per day."""
    return _blocks(sums, "day")


def weekly(sums: Mapping[date, Mapping[str, Number]]) -> Source:
    """A Source from sums per week (each starting on its key's day)."""
    return _blocks(sums, "week")


def monthly(sums: Mapping[date, Mapping[str, Number]]) -> Source:
    """A Source from sums per month (each starting on its key's day)."""
    return _blocks(sums, "month")


def quarterly(sums: Mapping[date, Mapping[str, Number]]) -> Source:
    """A Source from sums per quarter (each starting on its key's day)."""
    return _blocks(sums, "quarter")


@dataclass(frozen=True)
class Status:
    """Whether a period is complete for a subject: some data describes part of it, and which
    data sets describe part of it but not its last day."""

    ended: bool
    has_data: bool
    unfinished: tuple[str, ...] = ()  # data set types still to describe its last day

    @property
    def complete(self) -> bool:
        return self.ended and self.has_data and not self.unfinished

    def __add__(self, other: "Status") -> "Status":
        return Status(
            self.ended and other.ended,
            self.has_data or other.has_data,
            tuple(dict.fromkeys(self.unfinished + other.unfinished)),
        )


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
    def first_day(self) -> date | None:
        days = [self.source(s).first_day for s in SOURCES]
        return min((d for d in days if d is not None), default=None)

    def status(self, period: Period, today: date) -> Status:
        """Whether the period is complete for this service (see the module's docstring)."""
        has_data, unfinished = False, []
        for data_type in SOURCES:
            source = self.source(data_type)
            if source.unavailable is not None or not source.covered_days(period):
                continue
            has_data = True
            if not source.describes(period.last_day, today):
                unfinished.append(data_type)
        return Status(period.end <= today, has_data, tuple(unfinished))


# numerators and denominators


@dataclass(frozen=True)
class Sides:
    """A KPI's numerator and denominator for one subject and period; None for a side that is not
    known, with the reason; how they were made; for a roll-up, how many services they add up."""

    numerator: Exact | None
    denominator: Exact | None
    missing: str | None = None
    made_from: str | None = None
    services: int | None = None

    @property
    def complete(self) -> bool:
        return self.numerator is not None and self.denominator is not None


Side = tuple[Exact, str] | str  # (value, how it was made) or the reason it is not known


def _sides(numerator: Side, denominator: Side) -> Sides:
    reasons = [side for side in (numerator, denominator) if isinstance(side, str)]
    if reasons:
        return Sides(
            None if isinstance(numerator, str) else _tidy(numerator[0]),
            None if isinstance(denominator, str) else _tidy(denominator[0]),
            "; ".join(dict.fromkeys(reasons)),
        )
    (top, top_made), (bottom, bottom_made) = numerator, denominator
    made = top_made if top_made == bottom_made else f"{top_made}; {bottom_made}"
    return Sides(_tidy(top), _tidy(bottom), made_from=made)


def _part(portion: Portion | str, pick: Callable[[dict], Exact], target: str) -> Side:
    if isinstance(portion, str):
        return portion
    return pick(portion.sums), portion.made_from(target)


def service_sides(data: ServiceData, period: Period) -> dict[Key, Sides]:
    """Each KPI's numerator and denominator for one service over exactly the period's days."""
    transactions = data.source(TRANSACTIONS).sums_over(TRANSACTIONS, period)
    cost = data.source(COST).sums_over(COST, period)
    ratings = data.source(SATISFACTION).sums_over(SATISFACTION, period)
    completion = data.source(COMPLETION).sums_over(COMPLETION, period)
    target = period.kind

    def all_transactions():
        return _part(transactions, lambda t: sum(t.values()), target)

    def responses(pick):
        return _part(ratings, pick, target)

    found = {
        (COST_PER_TRANSACTION, None): _cost_sides(
            _part(cost, lambda c: sum(c.values()), target), all_transactions()
        ),
        (USER_SATISFACTION, None): _sides(
            responses(lambda r: sum(r.get(k, 0) for k in SATISFIED)),
            responses(lambda r: sum(r.get(k, 0) for k in RATINGS)),
        ),
        (SATISFACTION_SCORE, None): _sides(
            responses(lambda r: sum(RATING_SCORES[k] * r.get(k, 0) for k in RATINGS)),
            responses(lambda r: sum(r.get(k, 0) for k in RATINGS)),
        ),
        (COMPLETION_RATE, None): _sides(
            _part(completion, lambda c: c.get(COMPLETED, 0), target),
            _part(completion, lambda c: c.get(STARTED, 0), target),
        ),
        (DIGITAL_TAKE_UP, None): _sides(
            _part(transactions, lambda t: t.get(DIGITAL, 0), target), all_transactions()
        ),
    }
    if not isinstance(cost, str):
        # Per channel where costs are given per channel (a channel the transactions do not
        # mention had no transactions).
        for channel in sorted(set(cost.sums) - {ALL_CHANNELS}):
            found[(COST_PER_TRANSACTION, channel)] = _cost_sides(
                _part(cost, lambda c, ch=channel: c[ch], target),
                _part(transactions, lambda t, ch=channel: t.get(ch, 0), target),
            )
    return found


def _cost_sides(cost: Side, transactions: Side) -> Sides:
    # Made differently, each side says how: "cost: monthly data; transactions: weekly data
    # shared between months by day".
    if isinstance(cost, str) or isinstance(transactions, str) or cost[1] == transactions[1]:
        return _sides(cost, transactions)
    return _sides(
        (cost[0], f"cost: {cost[1]}"), (transactions[0], f"transactions: {transactions[1]}")
    )


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
            found[key] = Sides(None, None, reason, services=0)
        else:
            made = sorted({s.made_from for s in complete if s.made_from})
            text = f"{_services(len(complete))} added up"
            if made:
                text += " (" + "; ".join(made) + ")"
            found[key] = Sides(
                _tidy(sum(s.numerator for s in complete)),
                _tidy(sum(s.denominator for s in complete)),
                made_from=text,
                services=len(complete),
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
    # How the figure was made ("weekly data shared between months by day") and the days its
    # numerator and denominator cover; None when it is not known.
    made_from: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    services: int | None = None  # a roll-up: how many services it adds up

    @property
    def unit(self) -> str:
        return UNITS[self.kpi]


@dataclass(frozen=True)
class PeriodKpis:
    period: Period
    kpis: tuple[KpiValue, ...]  # the five KPIs in KPIS order, then cost per channel
    complete: bool = True  # false only when no period is complete yet (the latest is shown)

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


SidesFor = Callable[[Period], Mapping[Key, Sides]]
StatusFor = Callable[[Period], Status]


def latest_complete(
    status_for: StatusFor, kind: str, today: date, first_day: date | None
) -> Period | None:
    """The latest complete period of `kind` (None when none is, or there is no data)."""
    if first_day is None:
        return None
    stop = max(first_period(kind, first_day).start, history_start(kind, today))
    period = latest_period(kind, today)
    while period.end > stop:
        if status_for(period).complete:
            return period
        period = period.previous
    return None


class Figures:
    """A subject's KPIs for any period, each period's values computed once."""

    def __init__(self, sides_for: SidesFor):
        self.sides_for = sides_for
        self.computed: dict[Period, dict[Key, tuple]] = {}

    def values(self, period: Period) -> dict[Key, tuple]:
        if period not in self.computed:
            self.computed[period] = {
                key: (sides, *evaluate(key, sides)) for key, sides in self.sides_for(period).items()
            }
        return self.computed[period]

    def period_kpis(self, period: Period, complete: bool = True) -> PeriodKpis:
        """The period's KPIs with their changes from the previous period and a year earlier."""
        current = self.values(period)
        previous, year_earlier = self.values(period.previous), self.values(period.year_earlier)
        kpis = []
        for key in _ordered(current):
            sides, value, reason = current[key]
            known = value is not None
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
                    made_from=sides.made_from if known else None,
                    first_day=period.start if known else None,
                    last_day=period.last_day if known else None,
                    services=sides.services,
                )
            )
        return PeriodKpis(period, tuple(kpis), complete)


def kpis_over(
    sides_for: SidesFor,
    status_for: StatusFor,
    kind: str,
    today: date,
    first_day: date | None,
    only_latest: bool = False,
) -> list[PeriodKpis]:
    """Every period's KPIs with their changes, up to the latest complete period (or, when no
    period is complete, the latest that has ended, marked not complete)."""
    if kind not in API_PERIOD_KINDS:
        raise ValueError(f"unknown period {kind!r}")
    figures = Figures(sides_for)
    latest = latest_complete(status_for, kind, today, first_day)
    if latest is None:
        return [figures.period_kpis(latest_period(kind, today), complete=False)]
    shown = [latest] if only_latest else periods_to_show(kind, first_day, latest)
    return [figures.period_kpis(p, complete=status_for(p).complete) for p in shown]


def service_kpis(
    data: ServiceData, kind: str, today: date, only_latest: bool = False
) -> list[PeriodKpis]:
    """One service's KPIs for each period of `kind` up to its latest complete one."""
    return kpis_over(
        lambda period: service_sides(data, period),
        lambda period: data.status(period, today),
        kind,
        today,
        data.first_day,
        only_latest,
    )


def roll_up_status(statuses: Sequence[Status], ended: bool) -> Status:
    found = Status(ended, False)
    for status in statuses:
        found = found + status
    return found


def rolled_up_kpis(
    services: Sequence[ServiceData], kind: str, today: date, only_latest: bool = False
) -> list[PeriodKpis]:
    """The KPIs of several services together (numerators and denominators added up), up to
    the latest period complete for all of them."""
    firsts = [s.first_day for s in services if s.first_day is not None]
    return kpis_over(
        lambda period: roll_up([service_sides(s, period) for s in services]),
        lambda period: roll_up_status(
            [s.status(period, today) for s in services], period.end <= today
        ),
        kind,
        today,
        min(firsts, default=None),
        only_latest,
    )


def kpis_for(data: ServiceData, period: Period, today: date) -> PeriodKpis:
    """One service's KPIs for one chosen period (a roll-up's latest, a baseline's days), with
    their changes; `complete` says whether the period is complete for the service."""
    figures = Figures(lambda p: service_sides(data, p))
    return figures.period_kpis(period, complete=data.status(period, today).complete)


def change_since(latest: PeriodKpis, baseline: PeriodKpis) -> dict[Key, Change]:
    """Each KPI's change from the baseline to the latest period."""
    return {
        (kpi.kpi, kpi.channel): change(
            kpi.value,
            getattr(baseline.get(kpi.kpi, kpi.channel), "value", None),
            baseline.period,
        )
        for kpi in latest.kpis
    }


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
