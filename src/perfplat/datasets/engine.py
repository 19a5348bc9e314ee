"""The read pipeline's later stages: plan a Query as SQL, run it, shape the result.

Filtering, period bucketing, grouping and aggregation all run inside the database, on SQLite and
PostgreSQL alike; Python only shapes the (small) aggregated result. Field names reach the SQL
only after they match the identifier pattern, so they cannot break out of the JSON path; every
value travels as a query parameter.
"""

import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import orjson
from django.db import connections, router

from perfplat.errors import InvalidQuery

from .models import IDENTIFIER, MAX_NUMBER, DataSet, Record
from .periods import PERIOD_FIELDS, PERIODS, add_periods, format_timestamp, period_range
from .queries import Query

# Types that sum and mean refuse: (SQLite json_type, PostgreSQL jsonb_typeof) names.
_NUMERIC_TYPES = {"number", "null"}


class SQLite:
    """SQL for SQLite's JSON functions over the `data` text column (written by orjson, so
    every stored value has one canonical JSON text)."""

    decodes_json = True

    def value(self, field):  # the JSON text of the value, NULL when missing
        return f"data -> '$.{field}'"

    def scalar(self, field):  # the SQL value: text, number, 0/1 for booleans, NULL
        return f"data ->> '$.{field}'"

    def number(self, field):
        return self.scalar(field)

    def sum(self, field):
        # total(), not sum(): SQLite's integer sum() fails the whole statement with "integer
        # overflow" past 2^63, where total() adds in floating point (exact while the running
        # total stays within 2^53, which `_bounded` then requires of the answer).
        return f"total({self.number(field)})"

    def is_string(self, field):
        return f"json_type(data, '$.{field}') = 'text'"

    def is_text_or_boolean(self, field):
        return f"json_type(data, '$.{field}') IN ('text', 'true', 'false')"

    def json_param(self):
        return "%s"

    def starts_with(self, field):
        return f"substr(data ->> '$.{field}', 1, %s) = %s"

    def starts_with_params(self, prefix):
        return [len(prefix), prefix]

    def distinct_values(self, field):
        return f"json_group_array(DISTINCT data -> '$.{field}')"

    def sort_keys(self, field):
        rank = (
            f"CASE json_type(data, '$.{field}') WHEN 'true' THEN 1 WHEN 'false' THEN 1 "
            "WHEN 'integer' THEN 2 WHEN 'real' THEN 2 WHEN 'text' THEN 3 ELSE 0 END"
        )
        return [rank, self.scalar(field)]

    def text_order(self, column):
        return column

    def data_column(self):
        return "data"


class PostgreSQL(SQLite):
    """The same over PostgreSQL's jsonb."""

    # Django registers a text loader for jsonb (its JSONField decodes by itself), so jsonb
    # values reach Python as JSON text, as on SQLite.
    decodes_json = True

    def value(self, field):
        return f"data -> '{field}'"

    def scalar(self, field):
        return f"data ->> '{field}'"

    def number(self, field):
        return f"(data ->> '{field}')::numeric"

    def sum(self, field):
        # numeric sums are exact and never overflow; `_bounded` checks the answer.
        return f"coalesce(sum({self.number(field)}), 0)"

    def is_string(self, field):
        return f"jsonb_typeof(data -> '{field}') = 'string'"

    def is_text_or_boolean(self, field):
        return f"jsonb_typeof(data -> '{field}') IN ('string', 'boolean')"

    def json_param(self):
        return "%s::jsonb"

    def starts_with(self, field):
        return f"starts_with(data ->> '{field}', %s)"

    def starts_with_params(self, prefix):
        return [prefix]

    def distinct_values(self, field):
        return f"jsonb_agg(DISTINCT data -> '{field}')"

    def sort_keys(self, field):
        typeof = f"jsonb_typeof(data -> '{field}')"
        rank = (
            f"CASE {typeof} WHEN 'boolean' THEN 1 WHEN 'number' THEN 2 WHEN 'string' THEN 3 "
            "ELSE 0 END"
        )
        number = f"CASE WHEN {typeof} = 'number' THEN {self.number(field)} END"
        return [rank, number, self.text_order(self.scalar(field))]

    def text_order(self, column):
        # Code point order, as Python and SQLite sort, whatever the database's locale.
        return f'{column} COLLATE "C"'

    def data_column(self):
        return "data::text"


def _connection():
    # The database this request reads from (a replica for public reads, see
    # perfplat.deployment.replicas): the same one its data set's version was read from, so a
    # result is never cached under an older version than the records it counts.
    return connections[router.db_for_read(Record)]


def dialect():
    return PostgreSQL() if _connection().vendor == "postgresql" else SQLite()


def _checked(field: str) -> str:
    # Defence in depth: the query parser has already checked every field name.
    if not IDENTIFIER.fullmatch(field):
        raise InvalidQuery(f"{field!r} is not a valid field name")
    return field


# Ordering of JSON values, the same in Python as in the SQL above: missing and null first, then
# booleans, numbers, strings.
def value_sort_key(value):
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    return (3, value)


def _bounded(value, item) -> int | float | None:
    """A sum or mean from the database as JSON carries it exactly: a whole number within
    MAX_NUMBER is an int (1.5 + 1.5 is 3 on both databases), anything else a float. A sum
    beyond MAX_NUMBER, or a mean that is not finite (only data stored before numbers were
    bounded, or very many large values, can make one), is refused: the query cannot be
    answered exactly."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        # PostgreSQL's numeric: exact, of any size.
        if value.is_finite() and value == value.to_integral_value() and abs(value) <= MAX_NUMBER:
            return int(value)
        value = float(value) if value.is_finite() else math.inf
    value = float(value) if abs(value) > MAX_NUMBER else value
    if not math.isfinite(value) or (item.method == "sum" and abs(value) > MAX_NUMBER):
        verb = "sum" if item.method == "sum" else "average"
        raise InvalidQuery(
            f"Cannot {verb} field {item.field!r}: the result lies beyond ±{MAX_NUMBER} "
            "(2^53 - 1), the largest number perfplat adds up exactly"
        )
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass
class Plan:
    where: list[str]
    params: list
    # group_by fields that have only ever held strings: grouped by their text, which is
    # cheaper than by their JSON value (a third faster on PostgreSQL).
    text_groups: frozenset = frozenset()


def _where(query: Query, data_set: DataSet, sql) -> Plan:
    where = ["data_set_id = %s"]
    params: list = [data_set.pk]
    if query.start_at is not None:
        where.append("timestamp >= %s AND timestamp < %s")
        params += [query.start_at, query.end_at]
    elif query.period is not None:
        where.append("timestamp IS NOT NULL")
    for field, value in query.filters:
        # A value matches the string it spells; "true" and "false" also match booleans.
        candidates = [orjson.dumps(value).decode()]
        if value in ("true", "false"):
            candidates.append(value)
        where.append(
            f"{sql.value(_checked(field))} IN ({', '.join([sql.json_param()] * len(candidates))})"
        )
        params += candidates
    for field, prefix in query.prefix_filters:
        where.append(f"{sql.is_string(_checked(field))} AND {sql.starts_with(field)}")
        params += sql.starts_with_params(prefix)
    text_groups = frozenset(
        field
        for field in query.group_by
        if set(data_set.field_types.get(field, ("string",))) <= {"string", "null"}
    )
    for field in query.group_by:
        # Records without the field (or with null) belong to no group.
        if field in text_groups:
            where.append(f"{sql.scalar(_checked(field))} IS NOT NULL")
        else:
            where.append(f"{sql.value(_checked(field))} <> {sql.json_param()}")
            params.append("null")
    return Plan(where, params, text_groups)


def _fetch(statement: str, params: list) -> list[tuple]:
    with _connection().cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _check_numeric(query: Query, data_set: DataSet, plan: Plan, sql) -> None:
    """sum and mean need numbers: refuse, naming an example, when a matched record holds a
    string or boolean. Skipped when the field has only ever held numbers."""
    for item in query.collect:
        if item.method not in ("sum", "mean"):
            continue
        types = set(data_set.field_types.get(item.field, ()))
        if types <= _NUMERIC_TYPES:
            continue
        rows = _fetch(
            f"SELECT {sql.value(item.field)} FROM datasets_record "
            f"WHERE {' AND '.join(plan.where)} AND {sql.is_text_or_boolean(item.field)} LIMIT 1",
            plan.params,
        )
        if rows:
            example = rows[0][0] if sql.decodes_json else orjson.dumps(rows[0][0]).decode()
            raise InvalidQuery(
                f"Cannot {item.method} field {item.field!r}: it holds values that are not "
                f"numbers (such as {example})"
            )


def _aggregates(query: Query, sql) -> list[str]:
    columns = ["count(*)"]
    for item in query.collect:
        field = item.field
        if item.method == "sum":
            columns.append(sql.sum(field))
        elif item.method == "mean":
            columns.append(f"avg({sql.number(field)})")
        elif item.method == "count":
            columns.append(f"count({sql.scalar(field)})")
        else:
            columns.append(sql.distinct_values(field))
    return columns


def _collected(query: Query, values, sql) -> dict:
    """Output keys of the collected fields from one row's aggregate columns."""
    result = {}
    for item, value in zip(query.collect, values, strict=True):
        if item.method in ("sum", "mean"):
            value = _bounded(value, item)
            if item.method == "mean" and value is not None:
                value = float(value)
        elif item.method is None or item.method == "set":
            if sql.decodes_json:
                value = orjson.loads(value)
            value = sorted((v for v in value if v is not None), key=value_sort_key)
        for key in item.keys:
            result[key] = value
    return result


def _empty_collected(query: Query) -> dict:
    return {key: None for item in query.collect for key in item.keys}


def _period_object(query: Query, start: int, count: int, collected: dict) -> dict:
    return {
        "_start_at": format_timestamp(start),
        "_end_at": format_timestamp(add_periods(query.period, start, 1)),
        "_count": count,
        **collected,
    }


def _fill(query: Query, found: dict[int, dict]) -> list[dict]:
    """Period objects in time order; every period of the range when the range is known."""
    if query.start_at is None:
        starts = sorted(found)
    else:
        starts = period_range(query.period, query.start_at, query.end_at)
    empty = _empty_collected(query)
    return [found.get(start) or _period_object(query, start, 0, empty) for start in starts]


def _sort_and_limit(query: Query, items: list[dict], allowed_keys: set[str]) -> list[dict]:
    if query.sort_by is not None:
        if query.sort_by not in allowed_keys:
            raise InvalidQuery(
                f"Cannot sort by {query.sort_by!r}: sort by one of "
                f"{', '.join(sorted(allowed_keys))}"
            )
        items = sorted(
            items,
            key=lambda item: value_sort_key(item.get(query.sort_by)),
            reverse=query.descending,
        )
    if query.limit is not None:
        items = items[: query.limit]
    return items


def _group_key(groups: tuple):
    return tuple(value_sort_key(value) for value in groups)


def run_query(data_set: DataSet, query: Query) -> list[dict]:
    """Answer a validated query over one data set."""
    sql = dialect()
    plan = _where(query, data_set, sql)
    if query.is_raw:
        return _raw(query, plan, sql)
    _check_numeric(query, data_set, plan, sql)
    if query.period is None:
        return _grouped(query, plan, sql)
    if not query.group_by:
        return _periods(query, plan, sql)
    return _grouped_periods(query, plan, sql)


# The internal fields of raw records, which live in columns rather than in `data`.
_RAW_COLUMNS = {
    "_id": "record_id",
    "_timestamp": "timestamp",
    "_updated_at": "updated_at",
    **{name: f"{period}_start" for name, period in zip(PERIOD_FIELDS, PERIODS, strict=True)},
}


def _raw(query: Query, plan: Plan, sql) -> list[dict]:
    return list(_raw_records(query, plan, sql))


def _raw_records(query: Query, plan: Plan, sql) -> Iterator[dict]:
    """The records of a raw query, one at a time: the statement runs now (so its errors are
    raised here), and rows are fetched in chunks as the records are taken."""
    order = []
    if query.sort_by in _RAW_COLUMNS:
        column = _RAW_COLUMNS[query.sort_by]
        if column == "record_id":
            column = sql.text_order(column)
        # Missing first, as for fields (the databases differ in where NULLs sort by default).
        order = [column + (" DESC NULLS LAST" if query.descending else " ASC NULLS FIRST")]
    elif query.sort_by is not None:
        direction = " DESC" if query.descending else ""
        order = [key + direction for key in sql.sort_keys(_checked(query.sort_by))]
    order += ["timestamp ASC NULLS FIRST", sql.text_order("record_id")]
    statement = (
        "SELECT record_id, timestamp, hour_start, day_start, week_start, month_start, "
        f"quarter_start, year_start, updated_at, {sql.data_column()} "
        f"FROM datasets_record WHERE {' AND '.join(plan.where)} ORDER BY {', '.join(order)}"
    )
    params = list(plan.params)
    if query.limit is not None:
        statement += " LIMIT %s"
        params.append(query.limit)
    cursor = _connection().cursor()
    try:
        cursor.execute(statement, params)
    except Exception:
        cursor.close()
        raise
    return _records_of(cursor)


def _records_of(cursor) -> Iterator[dict]:
    loads = orjson.loads
    try:
        while rows := cursor.fetchmany(500):
            for row in rows:
                record = {"_id": row[0]}
                if row[1] is not None:
                    record["_timestamp"] = format_timestamp(row[1])
                # Fields by name: PostgreSQL's jsonb keeps no order.
                record.update(sorted(loads(row[9]).items()))
                if row[1] is not None:
                    for name, start in zip(PERIOD_FIELDS, row[2:8], strict=True):
                        record[name] = format_timestamp(start)
                record["_updated_at"] = format_timestamp(row[8])
                yield record
    finally:
        cursor.close()


def result_table(data_set: DataSet, query: Query) -> tuple[list[str], Iterator[list]]:
    """A query's result as a table, for CSV: its columns, known before any row is read (from
    the query, and for a raw read from the fields the data set holds), and its rows, one at a
    time (a raw read's records are fetched in chunks as they are written out). Nested period
    results are flattened: a row per group and period."""
    if query.is_raw:
        sql = dialect()
        records = _raw_records(query, _where(query, data_set, sql), sql)
        columns = ["_id", "_timestamp", *sorted(data_set.field_types), *PERIOD_FIELDS]
        columns.append("_updated_at")
    else:
        records = _flattened(run_query(data_set, query), query.group_by)
        collected = [key for item in query.collect for key in item.keys]
        columns = list(query.group_by)
        if query.period is not None:
            columns += ["_start_at", "_end_at"]
        columns += ["_count", *collected]
    return columns, ([record.get(column) for column in columns] for record in records)


def _flattened(items: list[dict], group_by: tuple[str, ...]) -> Iterator[dict]:
    for item in items:
        if "values" in item:
            head = {key: item[key] for key in group_by}
            for period in item["values"]:
                yield {**head, **period}
        else:
            yield item


def _group_columns(query: Query, plan: Plan, sql) -> list[str]:
    return [
        sql.scalar(field) if field in plan.text_groups else sql.value(field)
        for field in query.group_by
    ]


def _decode_groups(row, query: Query, plan: Plan, sql) -> tuple:
    values = row[: len(query.group_by)]
    if not sql.decodes_json:
        return tuple(values)
    return tuple(
        value if field in plan.text_groups else orjson.loads(value)
        for field, value in zip(query.group_by, values, strict=True)
    )


def _grouped(query: Query, plan: Plan, sql) -> list[dict]:
    groups = _group_columns(query, plan, sql)
    statement = (
        f"SELECT {', '.join(groups + _aggregates(query, sql))} "
        f"FROM datasets_record WHERE {' AND '.join(plan.where)} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(len(groups)))}"
    )
    width = len(groups)
    results = []
    for row in _fetch(statement, plan.params):
        values = _decode_groups(row, query, plan, sql)
        item = dict(zip(query.group_by, values, strict=True))
        item["_count"] = row[width]
        item.update(_collected(query, row[width + 1 :], sql))
        results.append((values, item))
    results.sort(key=lambda pair: _group_key(pair[0]))
    items = [item for _, item in results]
    keys = {*query.group_by, "_count", *(k for c in query.collect for k in c.keys)}
    return _sort_and_limit(query, items, keys)


def _period_column(query: Query) -> str:
    return f"{PERIODS[PERIODS.index(query.period)]}_start"


def _periods(query: Query, plan: Plan, sql) -> list[dict]:
    column = _period_column(query)
    statement = (
        f"SELECT {column}, {', '.join(_aggregates(query, sql))} "
        f"FROM datasets_record WHERE {' AND '.join(plan.where)} GROUP BY {column}"
    )
    found = {
        row[0]: _period_object(query, row[0], row[1], _collected(query, row[2:], sql))
        for row in _fetch(statement, plan.params)
    }
    items = _fill(query, found)
    if query.limit is not None:
        items = items[: query.limit]
    return items


def _grouped_periods(query: Query, plan: Plan, sql) -> list[dict]:
    groups = _group_columns(query, plan, sql)
    width = len(groups)
    column = _period_column(query)
    statement = (
        f"SELECT {', '.join(groups)}, {column}, "
        f"{', '.join(_aggregates(query, sql))} "
        f"FROM datasets_record WHERE {' AND '.join(plan.where)} "
        f"GROUP BY {', '.join(str(i + 1) for i in range(width + 1))}"
    )
    by_group: dict[tuple, dict[int, dict]] = {}
    for row in _fetch(statement, plan.params):
        values = _decode_groups(row, query, plan, sql)
        start = row[width]
        by_group.setdefault(values, {})[start] = _period_object(
            query, start, row[width + 1], _collected(query, row[width + 2 :], sql)
        )
    items = []
    for values in sorted(by_group, key=_group_key):
        found = by_group[values]
        item = dict(zip(query.group_by, values, strict=True))
        item["_count"] = sum(period["_count"] for period in found.values())
        item["_group_count"] = len(found)
        item["values"] = _fill(query, found)
        items.append(item)
    if query.flatten:
        flat = [
            {**{f: item[f] for f in query.group_by}, **period}
            for item in items
            for period in item["values"]
        ]
        keys = {*query.group_by, "_count", "_start_at", "_end_at"}
        keys |= {k for c in query.collect for k in c.keys}
        return _sort_and_limit(query, flat, keys)
    return _sort_and_limit(query, items, {*query.group_by, "_count", "_group_count"})
