"""The read API's query language: parse and validate the parameters into a `Query`.

This is the first stage of the read pipeline (parse -> validate -> plan SQL -> shape, see
`engine.py`); it knows nothing about HTTP or databases and raises InvalidQuery with a message
for the person who wrote the query.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from perfplat.errors import InvalidQuery

from .models import IDENTIFIER
from .periods import (
    DAY,
    EARLIEST,
    LATEST,
    OUT_OF_RANGE,
    PERIODS,
    add_periods,
    format_timestamp,
    parse_datetime,
    period_start,
)

COLLECT_METHODS = ("sum", "mean", "count", "set")
FORMATS = ("json", "csv")
REPEATABLE = ("group_by", "filter_by", "filter_by_prefix", "collect")
SINGLE = (
    "start_at",
    "end_at",
    "duration",
    "period",
    "sort_by",
    "limit",
    "flatten",
    "inclusive",
    "format",
)
PARAMETERS = SINGLE + REPEATABLE


MAX_PERIODS = 10_000
# A raw read (no group_by, no period) returns at most RAW_DEFAULT_LIMIT records unless `limit`
# asks for more, and never more than RAW_MAX_LIMIT: one anonymous request must not read a whole
# data set. (Backdrop had no default; README says so.) Narrow by start_at and end_at to read
# the rest.
RAW_DEFAULT_LIMIT = 1_000
RAW_MAX_LIMIT = 10_000
# The shortest length of each period, in seconds.
_SHORTEST = {
    "hour": 3600,
    "day": DAY,
    "week": 7 * DAY,
    "month": 28 * DAY,
    "quarter": 89 * DAY,
    "year": 365 * DAY,
}


@dataclass(frozen=True)
class Collect:
    field: str
    # None for a plain `collect=field`: the distinct values, as `field` and `field:set`.
    method: str | None

    @property
    def keys(self) -> tuple[str, ...]:
        if self.method is None:
            return (self.field, f"{self.field}:set")
        return (f"{self.field}:{self.method}",)


@dataclass(frozen=True)
class Query:
    """A validated read query. Times are epoch seconds; the range is [start_at, end_at)."""

    start_at: int | None = None
    end_at: int | None = None
    period: str | None = None
    group_by: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()
    prefix_filters: tuple[tuple[str, str], ...] = ()
    collect: tuple[Collect, ...] = ()
    sort_by: str | None = None
    descending: bool = False
    limit: int | None = None
    flatten: bool = False
    format: str = "json"

    @property
    def is_raw(self) -> bool:
        return not self.group_by and self.period is None


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidQuery(f"{name} may be given only once")
    return values[0]


def _boolean(params, name: str) -> bool:
    value = _single(params, name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise InvalidQuery(f"{name} must be true or false, not {value!r}")
    return value == "true"


# The largest number the databases take as a LIMIT (a signed 64-bit integer).
_MAX_NUMBER = 2**63 - 1


def _whole_number(text: str) -> int | None:
    """The value of a whole number written in ASCII digits, capped at _MAX_NUMBER; None when
    the text is anything else (int() would take "٣" and fail on "²")."""
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    return _MAX_NUMBER if len(digits) > 18 else int(digits)


def _time(params, name: str) -> int | None:
    value = _single(params, name)
    if value is None:
        return None
    # An unencoded '+' in a query string arrives as a space: accept "...00:00:00 00:00".
    if len(value) > 6 and value[-6] == " " and value[-3] == ":":
        value = value[:-6] + "+" + value[-5:]
    try:
        moment = parse_datetime(value)
    except (ValueError, OverflowError):
        raise InvalidQuery(
            f"{name} {value!r} is not an ISO 8601 date-time with a UTC offset, "
            "such as 2024-01-01T00:00:00Z"
        )
    if not EARLIEST <= moment <= LATEST:
        raise InvalidQuery(f"{name} {value!r} {OUT_OF_RANGE}")
    return moment


def _relative(period: str, anchor: int, count: int) -> int:
    """`count` periods from `anchor`, refused when that leaves the times a query may reach."""
    try:
        moment = add_periods(period, anchor, count)
    except (ValueError, OverflowError):
        moment = None
    if moment is None or not EARLIEST <= moment <= LATEST:
        raise InvalidQuery(f"duration is too long: the range {OUT_OF_RANGE}")
    return moment


def _field(name: str, field: str, purpose: str) -> str:
    if not IDENTIFIER.fullmatch(field):
        raise InvalidQuery(f"{name}: {field!r} is not a valid field name")
    if field.startswith("_"):
        raise InvalidQuery(f"{name}: cannot {purpose} internal field {field!r}")
    return field


def _pairs(params, name: str, purpose: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in params.get(name, []):
        field, colon, rest = value.partition(":")
        if not colon:
            raise InvalidQuery(f"{name} must be field:value, not {value!r}")
        pairs.append((_field(name, field, purpose), rest))
    return tuple(pairs)


def _collect(params, group_by: tuple[str, ...]) -> tuple[Collect, ...]:
    collected: list[Collect] = []
    for value in params.get("collect", []):
        field, colon, method = value.partition(":")
        _field("collect", field, "collect")
        if colon and method not in COLLECT_METHODS:
            raise InvalidQuery(
                f"collect: unknown method {method!r} in {value!r}; "
                f"use one of {', '.join(COLLECT_METHODS)}"
            )
        if field in group_by:
            raise InvalidQuery(f"collect: cannot collect the group_by field {field!r}")
        item = Collect(field, method or None)
        if item not in collected:
            collected.append(item)
    return tuple(collected)


def _check_raw_query_rules(
    group_by, period: str | None, start_at: int | None, end_at: int | None
) -> None:
    """Data sets that do not allow raw queries only answer aggregated queries, over ranges of
    whole days (at least 7 of them) aligned to the period asked for. Only the times the query
    gives are checked: relative ranges are aligned by construction."""
    if not group_by and period is None:
        raise InvalidQuery("This data set does not allow raw queries: add group_by or period")
    if period == "hour":
        return
    for name, moment in (("start_at", start_at), ("end_at", end_at)):
        if moment is None:
            continue
        if moment % DAY:
            raise InvalidQuery(f"{name} must be midnight UTC for this data set")
        if period in _FIRST_DAY and period_start(period, moment) != moment:
            raise InvalidQuery(f"{name} must be {_FIRST_DAY[period]} for period={period}")
    if start_at is not None and end_at is not None and end_at - start_at < 7 * DAY:
        raise InvalidQuery("start_at and end_at must be at least 7 days apart for this data set")


_FIRST_DAY = {
    "week": "a Monday",
    "month": "the first day of a month",
    "quarter": "the first day of a quarter (January, April, July or October)",
    "year": "the first day of a year",
}


def parse_query(params: Mapping[str, list[str]], *, raw_queries_allowed: bool, now: int) -> Query:
    """Turn read API parameters (each name with its list of values) into a valid Query."""
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise InvalidQuery(
            f"Unknown parameter(s): {', '.join(unknown)}. "
            f"The read API accepts: {', '.join(PARAMETERS)}"
        )
    for name, values in params.items():
        # No record holds U+0000 (PostgreSQL cannot store it, nor compare with it).
        if any("\x00" in value for value in values):
            raise InvalidQuery(f"{name} must not contain the NUL character (\\u0000)")

    period = _single(params, "period")
    if period is not None and period not in PERIODS:
        raise InvalidQuery(f"period must be one of {', '.join(PERIODS)}, not {period!r}")

    output_format = _single(params, "format") or "json"
    if output_format not in FORMATS:
        raise InvalidQuery(f"format must be json or csv, not {output_format!r}")

    given_start, given_end = _time(params, "start_at"), _time(params, "end_at")
    start_at, end_at = given_start, given_end
    duration_text = _single(params, "duration")
    if duration_text is not None:
        duration = _whole_number(duration_text)
        if not duration:
            raise InvalidQuery(f"duration must be a positive whole number, not {duration_text!r}")
        if period is None:
            raise InvalidQuery("duration needs a period (hour, day, week, month, quarter, year)")
        if start_at is not None and end_at is not None:
            raise InvalidQuery(
                "Absolute and relative time cannot be requested at the same time: give "
                "start_at and end_at, or one of them with duration"
            )
        # As in backdrop, the anchor is rounded down to the start of its period: forward from
        # start_at, or back from end_at (or now), so a partial current period is left out.
        if start_at is not None:
            start_at = period_start(period, start_at)
            end_at = _relative(period, start_at, duration)
        else:
            end_at = period_start(period, end_at if end_at is not None else now)
            start_at = _relative(period, end_at, -duration)
    elif (start_at is None) != (end_at is None):
        given, missing = ("start_at", "end_at") if start_at is not None else ("end_at", "start_at")
        raise InvalidQuery(
            f"{given} needs {missing} as well (or duration with period for a relative range)"
        )

    if _boolean(params, "inclusive"):
        if end_at is None:
            raise InvalidQuery("inclusive needs end_at (or duration)")
        # end_at then includes the whole period that contains it; without a period, the
        # moment itself.
        if period is None:
            end_at += 1
        else:
            end_at = add_periods(period, period_start(period, end_at), 1)

    if start_at is not None and end_at is not None and start_at >= end_at:
        raise InvalidQuery(
            f"start_at ({format_timestamp(start_at)}) must be before "
            f"end_at ({format_timestamp(end_at)})"
        )
    if period is not None and start_at is not None:
        # Every period of the range is in the answer, even empty ones: keep that bounded.
        if (end_at - start_at) / _SHORTEST[period] > MAX_PERIODS:
            raise InvalidQuery(
                f"The range holds more than {MAX_PERIODS} {period}s: "
                "ask for a longer period or a shorter range"
            )

    group_by: list[str] = []
    for field in params.get("group_by", []):
        _field("group_by", field, "group by")
        if field in group_by:
            raise InvalidQuery(f"group_by: {field!r} is given twice")
        group_by.append(field)

    collect = _collect(params, tuple(group_by))
    if collect and not group_by and period is None:
        raise InvalidQuery("collect needs group_by or period")

    sort_by, descending = None, False
    sort_text = _single(params, "sort_by")
    if sort_text is not None:
        # The last colon: the field may be a collected key such as "value:sum".
        field, colon, direction = sort_text.rpartition(":")
        if not colon or direction not in ("ascending", "descending"):
            raise InvalidQuery(
                f"sort_by must be field:ascending or field:descending, not {sort_text!r}"
            )
        if not IDENTIFIER.fullmatch(field.split(":")[0]):
            raise InvalidQuery(f"sort_by: {field!r} is not a valid field name")
        if period is not None and not group_by:
            raise InvalidQuery(
                "sort_by is not allowed for period queries without group_by: "
                "they are always in time order"
            )
        sort_by, descending = field, direction == "descending"

    limit = None
    limit_text = _single(params, "limit")
    if limit_text is not None:
        limit = _whole_number(limit_text)
        if limit is None:
            raise InvalidQuery(f"limit must be a non-negative whole number, not {limit_text!r}")
    if not group_by and period is None:
        if limit is None:
            limit = RAW_DEFAULT_LIMIT
        elif limit > RAW_MAX_LIMIT:
            raise InvalidQuery(
                f"limit must be at most {RAW_MAX_LIMIT} for a read without group_by or period: "
                "read the rest in smaller ranges of start_at and end_at"
            )

    query = Query(
        start_at=start_at,
        end_at=end_at,
        period=period,
        group_by=tuple(group_by),
        filters=_pairs(params, "filter_by", "filter by"),
        prefix_filters=_pairs(params, "filter_by_prefix", "filter by"),
        collect=collect,
        sort_by=sort_by,
        descending=descending,
        limit=limit,
        flatten=_boolean(params, "flatten"),
        format=output_format,
    )
    if not raw_queries_allowed:
        _check_raw_query_rules(query.group_by, period, given_start, given_end)
    return query
