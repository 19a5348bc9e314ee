"""The read API against a plain-Python reading of SPEC section 5.

Hypothesis writes random records to a fresh data set, asks the real read API (through the Django
test client) a random valid query, and compares the answer with `reference`, which computes the
same query the naive way: filter, bucket by period start, group, collect, order, fill empty
periods, limit. The reference shares no code with the engine: period starts are computed here
with datetime arithmetic.
"""

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import ApiClient, body
from perfplat.datasets.services import DataSetSettings, create_data_set

PERIODS = ("hour", "day", "week", "month", "quarter", "year")
# A Monday, 40 days before the end of January: the records cross a week, month, quarter and
# year boundary.
BASE = datetime(2023, 12, 18, tzinfo=UTC)
SPAN_HOURS = 40 * 24
FIELDS = ("channel", "n", "flag")
CHANNELS = ("web", "Web", "phone", "post")
_MISSING = object()


# time, computed independently of perfplat.datasets.periods


def start_of(period: str, moment: datetime) -> datetime:
    hour = moment.replace(minute=0, second=0, microsecond=0)
    if period == "hour":
        return hour
    day = hour.replace(hour=0)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)
    return day.replace(month=1, day=1)


def shift(period: str, start: datetime, count: int) -> datetime:
    """`count` periods from a period start."""
    if period in ("hour", "day", "week"):
        return start + count * timedelta(**{f"{period}s": 1})
    index = (
        start.year * 12 + start.month - 1 + count * {"month": 1, "quarter": 3, "year": 12}[period]
    )
    return start.replace(year=index // 12, month=index % 12 + 1)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def written(moment: datetime, offset_minutes: int) -> str:
    """A moment as a client might send it: in UTC with Z, or in another offset."""
    if offset_minutes == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(timezone(timedelta(minutes=offset_minutes))).isoformat()


def rank(value):
    """Order of values: missing and null, then booleans, numbers, strings."""
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, datetime):
        return (2, value.timestamp())
    return (3, value)


# the reference


def effective_range(query):
    """[start, end) of the query, or None: absolute, forward or back with duration, and
    inclusive."""
    period, start, end = query["period"], query["start"], query["end"]
    if query["duration"]:
        if start is not None:
            start = start_of(period, start)
            end = shift(period, start, query["duration"])
        else:
            end = start_of(period, end)
            start = shift(period, end, -query["duration"])
    if start is None:
        return None
    if query["inclusive"]:
        end = shift(period, start_of(period, end), 1) if period else end + timedelta(seconds=1)
    return start, end


def matches(record, query, window) -> bool:
    timestamp = record.get("_timestamp")
    if window and (timestamp is None or not window[0] <= timestamp < window[1]):
        return False
    if query["period"] and timestamp is None:
        return False
    for field, value in query["filters"]:
        held = record.get(field, _MISSING)
        same_text = type(held) is str and held == value
        same_boolean = (value == "true" and held is True) or (value == "false" and held is False)
        if not (same_text or same_boolean):
            return False
    for field, prefix in query["prefixes"]:
        held = record.get(field)
        if not (type(held) is str and held.startswith(prefix)):
            return False
    return all(record.get(field) is not None for field in query["group_by"])


def collected(records, collect) -> dict:
    result = {}
    for field, method in collect:
        values = [record[field] for record in records if record.get(field) is not None]
        if method == "sum":
            result[f"{field}:sum"] = sum(values)
        elif method == "mean":
            result[f"{field}:mean"] = sum(values) / len(values) if values else None
        elif method == "count":
            result[f"{field}:count"] = len(values)
        else:
            distinct = sorted(set(values), key=rank)
            result[f"{field}:set"] = distinct
            if method is None:
                result[field] = distinct
    return result


def empty_collected(collect) -> dict:
    keys = []
    for field, method in collect:
        keys += [f"{field}:{method or 'set'}"] + ([field] if method is None else [])
    return dict.fromkeys(keys)


def periods(records, query, window) -> list[dict]:
    period, collect = query["period"], query["collect"]
    buckets: dict[datetime, list] = {}
    for record in records:
        buckets.setdefault(start_of(period, record["_timestamp"]), []).append(record)
    if window:
        starts, current = [], start_of(period, window[0])
        while current < window[1]:
            starts.append(current)
            current = shift(period, current, 1)
    else:
        starts = sorted(buckets)
    result = []
    for start in starts:
        inside = buckets.get(start, [])
        result.append(
            {
                "_start_at": iso(start),
                "_end_at": iso(shift(period, start, 1)),
                "_count": len(inside),
                **(collected(inside, collect) if inside else empty_collected(collect)),
            }
        )
    return result


def ordered(items, query):
    if query["sort"] is not None:
        key, descending = query["sort"]
        items = sorted(items, key=lambda item: rank(item.get(key)), reverse=descending)
    if query["limit"] is not None:
        items = items[: query["limit"]]
    return items


def raw_record(record) -> dict:
    result = {"_id": record["_id"]}
    timestamp = record.get("_timestamp")
    if timestamp is not None:
        result["_timestamp"] = iso(timestamp)
    result.update({key: record[key] for key in FIELDS if key in record})
    if timestamp is not None:
        for period in PERIODS:
            result[f"_{period}_start_at"] = iso(start_of(period, timestamp))
    return result


def reference(records, query) -> list[dict]:
    window = effective_range(query)
    chosen = [record for record in records if matches(record, query, window)]
    group_by = query["group_by"]
    if not group_by and not query["period"]:
        chosen.sort(key=lambda r: (r.get("_timestamp") is not None, r.get("_timestamp"), r["_id"]))
        return [raw_record(record) for record in ordered(chosen, query)]
    if not group_by:
        result = periods(chosen, query, window)
        return result[: query["limit"]] if query["limit"] is not None else result
    groups: dict[tuple, list] = {}
    for record in chosen:
        groups.setdefault(tuple(record[field] for field in group_by), []).append(record)
    items = []
    for values in sorted(groups, key=lambda values: [rank(value) for value in values]):
        item = dict(zip(group_by, values, strict=True))
        inside = groups[values]
        item["_count"] = len(inside)
        if query["period"]:
            item["_group_count"] = len({start_of(query["period"], r["_timestamp"]) for r in inside})
            item["values"] = periods(inside, query, window)
        else:
            item.update(collected(inside, query["collect"]))
        items.append(item)
    if query["period"] and query["flatten"]:
        items = [
            {**{field: item[field] for field in group_by}, **row}
            for item in items
            for row in item["values"]
        ]
    return ordered(items, query)


def approximate(value):
    """The result with every mean compared approximately (the databases average their own way)."""
    if isinstance(value, list):
        return [approximate(item) for item in value]
    if isinstance(value, dict):
        return {
            key: pytest.approx(item)
            if key.endswith(":mean") and item is not None
            else approximate(item)
            for key, item in value.items()
        }
    return value


# strategies


@st.composite
def record_sets(draw):
    ids = draw(
        st.lists(
            st.text(alphabet="abAB01", min_size=1, max_size=3), unique=True, min_size=3, max_size=16
        )
    )

    def often() -> bool:  # three times in four
        return draw(st.integers(0, 3)) < 3

    records = []
    for record_id in ids:
        record = {"_id": record_id}
        if often() or often():
            # Whole hours sometimes, so that records share timestamps.
            if draw(st.booleans()):
                seconds = 3600 * draw(st.integers(0, SPAN_HOURS))
            else:
                seconds = draw(st.integers(0, SPAN_HOURS * 3600))
            record["_timestamp"] = BASE + timedelta(seconds=seconds)
        if often():
            record["channel"] = draw(st.sampled_from(CHANNELS)) if often() else None
        if often():
            record["n"] = draw(st.integers(-20, 100)) if often() else None
        if draw(st.booleans()):
            record["flag"] = draw(st.booleans())
        records.append(record)
    return records


@st.composite
def queries(draw):
    """(HTTP parameters, the same query as plain values for the reference)."""
    params: dict[str, object] = {}
    shape = draw(st.sampled_from(["raw", "grouped", "periods", "grouped periods"]))
    period = draw(st.sampled_from(PERIODS)) if "periods" in shape else None
    group_by = []
    if "grouped" in shape:
        group_by = draw(
            st.sampled_from(
                [["channel"], ["n"], ["flag"], ["channel", "n"], ["flag", "channel"], ["n", "flag"]]
            )
        )
    query = {
        "period": period,
        "group_by": group_by,
        "start": None,
        "end": None,
        "duration": None,
        "inclusive": False,
        "filters": [],
        "prefixes": [],
        "collect": [],
        "sort": None,
        "limit": None,
        "flatten": False,
    }
    if period:
        params["period"] = period
    if group_by:
        params["group_by"] = group_by

    kinds = ["none", "absolute"] + (["forward", "back"] if period else [])
    kind = draw(st.sampled_from(kinds))
    offset = draw(st.sampled_from([0, 0, 60, -300, 330]))
    if kind == "absolute":
        start = BASE + timedelta(hours=draw(st.integers(-48, SPAN_HOURS)))
        if draw(st.booleans()):
            start = start_of("day", start)
        hours = draw(st.sampled_from([1, 24, 7 * 24, 30 * 24, SPAN_HOURS]))
        end = start + timedelta(hours=hours + draw(st.integers(0, 23)))
        query["start"], query["end"] = start, end
        params["start_at"], params["end_at"] = written(start, offset), written(end, offset)
    elif kind in ("forward", "back"):
        anchor = BASE + timedelta(seconds=draw(st.integers(-86400, SPAN_HOURS * 3600)))
        query["start" if kind == "forward" else "end"] = anchor
        params["start_at" if kind == "forward" else "end_at"] = written(anchor, offset)
        query["duration"] = draw(st.integers(1, 4))
        params["duration"] = str(query["duration"])
    if kind != "none" and draw(st.booleans()):
        query["inclusive"] = True
        params["inclusive"] = "true"

    filters, prefixes = [], []
    if draw(st.integers(0, 3)) == 3:
        filters = draw(
            st.lists(
                st.one_of(
                    st.tuples(st.just("channel"), st.sampled_from(["web", "phone", "Web", "none"])),
                    st.tuples(st.just("flag"), st.sampled_from(["true", "false"])),
                ),
                min_size=1,
                max_size=2,
            )
        )
    if draw(st.integers(0, 3)) == 3:
        prefix = draw(st.sampled_from(["w", "W", "p", "ph", ""]))
        prefixes = [("channel", prefix)]
    query["filters"], query["prefixes"] = filters, prefixes
    if filters:
        params["filter_by"] = [f"{field}:{value}" for field, value in filters]
    if prefixes:
        params["filter_by_prefix"] = [f"{field}:{value}" for field, value in prefixes]

    if group_by or period:
        options = [
            ("n", "sum"),
            ("n", "mean"),
            ("n", "count"),
            ("n", "set"),
            ("n", None),
            ("channel", None),
            ("channel", "count"),
            ("flag", "set"),
        ]
        options = [option for option in options if option[0] not in group_by]
        collect = draw(st.lists(st.sampled_from(options), unique=True, max_size=3))
        query["collect"] = collect
        if collect:
            params["collect"] = [field if m is None else f"{field}:{m}" for field, m in collect]

    if period and group_by:
        query["flatten"] = draw(st.booleans())
        if query["flatten"]:
            params["flatten"] = "true"

    numeric_keys = [f"{f}:{m}" for f, m in query["collect"] if m in ("sum", "mean", "count")]
    if not group_by and not period:
        sort_keys = [*FIELDS, "_timestamp", "_id"]
    elif not group_by:
        sort_keys = []
    elif period and not query["flatten"]:
        sort_keys = [*group_by, "_count", "_group_count"]
    else:
        sort_keys = [*group_by, "_count", *numeric_keys]
    if sort_keys and draw(st.integers(0, 2)) < 2:
        key = draw(st.sampled_from(sort_keys))
        direction = draw(st.sampled_from(["descending", "ascending"]))
        query["sort"] = (key, direction == "descending")
        params["sort_by"] = f"{key}:{direction}"

    if draw(st.booleans()):
        query["limit"] = draw(st.sampled_from([2, 1, 3, 5, 2, 1, 3, 5, 0]))
        params["limit"] = str(query["limit"])
    return params, query


_data_sets = itertools.count()


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(records=record_sets(), params_and_query=queries())
def test_read_api_answers_as_a_plain_reading_of_the_spec(client, records, params_and_query):
    params, query = params_and_query
    data_type = f"example-{next(_data_sets)}"
    _, token = create_data_set(
        "property", data_type, settings=DataSetSettings(published=True, raw_queries_allowed=True)
    )
    url = f"/data/property/{data_type}"
    api = ApiClient(client)
    if records:
        sent = [
            {**record, "_timestamp": written(record["_timestamp"], 0)}
            if "_timestamp" in record
            else record
            for record in records
        ]
        response = api.post(url, sent, token)
        assert response.status_code == 200, response.content

    response = api.get(url, params)
    assert response.status_code == 200, (params, response.content)
    data = body(response)["data"]
    if not query["group_by"] and not query["period"]:
        for record in data:
            del record["_updated_at"]
    assert data == approximate(reference(records, query)), params
