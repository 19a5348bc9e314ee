"""A published dashboard's modules, each turned into one `ModuleView`: its table (raw values for
the CSV and JSON downloads, formatted cells for the page) and its SVG chart, both made from the
same read API result, so the chart, the table and the downloads always agree.

A data module reads its data set through the read pipeline (`parse_query` -> `run_query`, all
aggregation in SQL). The result is cached by the data set's version, the module and the query's
resolved time range: a write to the data set, a new published version or a new period (for
relative ranges such as `duration=12`) each give a new key.

A completion funnel of the journey beacon (source "beacon") reads the beacon's counts of each
step instead, over its query's time range, and also shows the share of each step that goes on
to the next. It is cached by the version of the beacon's completion data set, which the beacon
writes to at least every PERFPLAT_BEACON_DATA_SET_SECONDS while it counts.
"""

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from perfplat import csvfiles
from perfplat.dashboards.content import (
    BEACON,
    COMPLETION_FUNNEL,
    GROUPED_TIME_SERIES,
    KPIS,
    SATISFACTION,
    TABLE,
    TEXT,
    TIME_SERIES,
)
from perfplat.datasets.engine import run_query
from perfplat.datasets.queries import Query, parse_query
from perfplat.errors import InvalidQuery

from . import charts
from .caching import cached, data_set_key, key_of
from .formatting import PERIOD_COLUMN, compact, key_label, number, percent, read_period

RATING_LABELS = {
    "rating_1": "Very dissatisfied",
    "rating_2": "Dissatisfied",
    "rating_3": "Neither satisfied nor dissatisfied",
    "rating_4": "Satisfied",
    "rating_5": "Very satisfied",
}
NO_DATA = "No data"


@dataclass(frozen=True)
class Column:
    key: str  # the CSV heading and JSON key
    label: str  # the page's table heading
    numeric: bool = False


@dataclass(frozen=True)
class ModuleView:
    number: int  # its position on the dashboard, from 1: its download URLs use it
    kind: str
    title: str
    description: str = ""
    text: str = ""
    data_set: str = ""  # "group/type"
    query: str = ""
    value: str = ""
    metric: str = ""
    unavailable: str = ""  # why there is no data to show; "" when there is
    columns: tuple[Column, ...] = ()
    rows: tuple[tuple, ...] = ()  # raw values, one per column
    cells: tuple[tuple[str, ...], ...] = ()  # the same, formatted for people
    chart: charts.Svg | None = None
    # The cache key of this view (empty when it was not computed from a data set): what is
    # rendered from it can be cached under it.
    key: str = ""
    source: str = ""  # "beacon": the journey beacon's counts; "": the data set

    @property
    def has_data(self) -> bool:
        return self.kind not in (TEXT, KPIS) and not self.unavailable

    @property
    def chart_id(self) -> str:
        return f"module-{self.number}-chart"

    def as_json(self) -> dict:
        payload = {
            "number": self.number,
            "kind": self.kind,
            "title": self.title,
            "description": self.description,
        }
        if self.kind == TEXT:
            payload["text"] = self.text
            return payload
        payload.update(
            {
                "data_set": self.data_set,
                "query": self.query,
                "value": self.value,
                "metric": self.metric or None,
                **({"source": self.source} if self.source else {}),
                "not_available": self.unavailable or None,
                "columns": [{"key": c.key, "label": c.label} for c in self.columns],
                "rows": [
                    {c.key: value for c, value in zip(self.columns, row, strict=True)}
                    for row in self.rows
                ],
            }
        )
        return payload

    def as_csv(self) -> str:
        rows = [[_csv_value(value) for value in row] for row in self.rows]
        return csvfiles.csv_text([[column.key for column in self.columns], *rows])


def _csv_value(value):
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def module_view(number: int, module: dict, data_set, moment: int, beacon=None) -> ModuleView:
    """The view of the dashboard's module at `number` (from 1); `data_set` is the data set it
    names, or None when it has none or it no longer exists; `beacon` the service's journey
    beacon (perfplat.beacon), or None when it is off."""
    base = {
        "number": number,
        "kind": module["kind"],
        "title": module.get("title", ""),
        "description": module.get("description", ""),
        "metric": module.get("metric", ""),
    }
    if module["kind"] == TEXT:
        return ModuleView(**base, text=module.get("text", ""))
    if module["kind"] == KPIS:
        return ModuleView(**base)
    base.update(
        data_set=module.get("data_set", ""),
        query=module.get("query", ""),
        value=module.get("value", "_count"),
    )
    if module.get("source") == BEACON:
        return _beacon_view(base, module, beacon, moment)
    if data_set is None or not data_set.published:
        return ModuleView(**base, unavailable="This data is not published.")
    try:
        query = parse_query(
            parse_qs(base["query"], keep_blank_values=True),
            raw_queries_allowed=data_set.raw_queries_allowed,
            now=moment,
        )
    except InvalidQuery as error:
        return ModuleView(**base, unavailable=f"This data cannot be shown: {error.message}")
    parts = ("module", number, sorted(module.items()), data_set_key(data_set), repr(query))
    base["key"] = key_of(parts)
    return cached(parts, lambda: _computed(base, module, data_set, query))


def _computed(base: dict, module: dict, data_set, query: Query) -> ModuleView:
    try:
        result = run_query(data_set, query)
    except InvalidQuery as error:
        return ModuleView(**base, unavailable=f"This data cannot be shown: {error.message}")
    shape = {
        TIME_SERIES: _time_series,
        GROUPED_TIME_SERIES: _time_series,
        COMPLETION_FUNNEL: _funnel,
        SATISFACTION: _distribution,
        TABLE: _table,
    }[module["kind"]]
    parts = shape(base, module, query, result)
    if not parts.get("rows"):
        parts["unavailable"] = "There is no data for this period yet."
    return ModuleView(**base, **parts)


# shaping a read API result


def _flat(query: Query, result: list[dict]) -> list[dict]:
    """Grouped period results as flat rows (group fields with each period's values)."""
    flat = []
    for item in result:
        if "values" in item:
            fields = {name: item[name] for name in query.group_by}
            flat.extend({**fields, **period} for period in item["values"])
        else:
            flat.append(item)
    return flat


def _group_label(query: Query, row: dict) -> str:
    return " / ".join(
        "(none)" if row.get(name) is None else str(row.get(name)) for name in query.group_by
    )


def _value(row: dict, key: str):
    value = row.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _time_series(base: dict, module: dict, query: Query, result: list[dict]) -> dict:
    """One line (a time series) or one per group (a grouped time series)."""
    value_key = base["value"]
    period = query.period
    rows = _flat(query, result)
    starts = sorted({row["_start_at"] for row in rows if "_start_at" in row})
    if query.group_by:
        groups: dict[str, dict[str, float | None]] = {}
        for row in rows:
            groups.setdefault(_group_label(query, row), {})[row["_start_at"]] = _value(
                row, value_key
            )
        labels = list(groups)
        series = [
            charts.Series(label, tuple(groups[label].get(s) for s in starts)) for label in labels
        ]
        columns = (
            Column("_start_at", PERIOD_COLUMN.get(period, "Period")),
            *(Column(label, label, True) for label in labels),
        )
    else:
        by_start = {row["_start_at"]: _value(row, value_key) for row in rows}
        series = [charts.Series(key_label(value_key), tuple(by_start.get(s) for s in starts))]
        columns = (
            Column("_start_at", PERIOD_COLUMN.get(period, "Period")),
            Column(value_key, key_label(value_key), True),
        )
    table_rows = tuple(
        (start, *(item.values[index] for item in series)) for index, start in enumerate(starts)
    )
    cells = tuple(
        (
            read_period(period, row[0]),
            *(NO_DATA if value is None else number(value) for value in row[1:]),
        )
        for row in table_rows
    )
    chart = None
    if starts and any(v is not None for item in series for v in item.values):
        chart = charts.line_chart(
            f"module-{base['number']}-chart",
            base["title"],
            base["description"],
            [read_period(period, start, short=True) for start in starts],
            series,
            x_axis=PERIOD_COLUMN.get(period, "Period"),
            y_axis=key_label(value_key),
            value_text=number,
            tick_text=compact,
        )
    return {"columns": columns, "rows": table_rows, "cells": cells, "chart": chart}


def _stage_label(key: str) -> str:
    field_name = key.split(":")[0]
    if field_name in RATING_LABELS:
        return RATING_LABELS[field_name]
    return field_name.replace("_", " ").strip().capitalize()


def _stages(module: dict, query: Query, result: list[dict]) -> list[tuple[str, float | None]]:
    """(label, total) of each stage or rating: the collected fields, in the query's order, added
    up over the periods; or, for a grouped query, each group's value."""
    if query.group_by:
        totals: dict[str, float | None] = {}
        for row in _flat(query, result):
            label = _group_label(query, row)
            value = _value(row, module.get("value", "_count"))
            if value is not None:
                totals[label] = (totals.get(label) or 0) + value
            else:
                totals.setdefault(label, None)
        return list(totals.items())
    keys = [
        key
        for item in query.collect
        if item.method in ("sum", "mean", "count")
        for key in item.keys
    ]
    stages = []
    for key in keys:
        values = [_value(row, key) for row in result]
        known = [v for v in values if v is not None]
        stages.append((_stage_label(key), sum(known) if known else None))
    return stages


def _funnel(base: dict, module: dict, query: Query, result: list[dict]) -> dict:
    return _funnel_of(base, _stages(module, query, result))


def _funnel_of(base: dict, stages: list, going_on: bool = False) -> dict:
    """A funnel's table and chart from its (label, count) stages: each stage's share of the
    first; with `going_on`, also the share of each stage that reaches the next."""
    first = stages[0][1] if stages else None
    rows, cells, bars = [], [], []
    for index, (label, value) in enumerate(stages):
        share = value / first if value is not None and first else None
        row, cell = (
            [label, value, share],
            [
                label,
                NO_DATA if value is None else number(value),
                "" if share is None else percent(share),
            ],
        )
        if going_on:
            following = stages[index + 1][1] if index + 1 < len(stages) else None
            on = following / value if following is not None and value else None
            row.append(on)
            cell.append("" if on is None else percent(on))
        rows.append(tuple(row))
        cells.append(tuple(cell))
        note = f"{percent(share)} of {stages[0][0].lower()}" if share is not None else ""
        bars.append(charts.Bar(label, value, note if len(bars) else ""))
    chart = None
    if any(value for _, value in stages):
        chart = charts.bar_chart(
            f"module-{base['number']}-chart",
            base["title"],
            base["description"],
            bars,
            value_text=number,
        )
    columns = (
        Column("stage", "Stage"),
        Column("count", "Count", True),
        Column("share_of_first_stage", f"Share of {stages[0][0].lower()}" if stages else "", True),
    )
    if going_on:
        columns += (Column("share_going_on", "Share going on to the next step", True),)
    return {"columns": columns, "rows": tuple(rows), "cells": tuple(cells), "chart": chart}


def _beacon_view(base: dict, module: dict, beacon, moment: int) -> ModuleView:
    """A completion funnel of every step of the journey beacon, over the query's range."""
    from perfplat.beacon.services import step_totals

    base["source"] = BEACON
    if beacon is None:
        return ModuleView(**base, unavailable="The service's journey beacon is off.")
    try:
        query = parse_query(
            parse_qs(base["query"], keep_blank_values=True), raw_queries_allowed=True, now=moment
        )
    except InvalidQuery as error:
        return ModuleView(**base, unavailable=f"This data cannot be shown: {error.message}")
    parts = (
        "beacon-funnel",
        base["number"],
        sorted(module.items()),
        tuple(beacon.steps),
        data_set_key(beacon.data_set),
        (query.start_at, query.end_at),
    )
    base["key"] = key_of(parts)

    def compute():
        stages = step_totals(beacon, query.start_at, query.end_at)
        shaped = _funnel_of(base, stages, going_on=True)
        if not any(count for _, count in stages):
            shaped["unavailable"] = "There is no data for this period yet."
        return ModuleView(**base, **shaped)

    return cached(parts, compute)


def _distribution(base: dict, module: dict, query: Query, result: list[dict]) -> dict:
    stages = _stages(module, query, result)
    total = sum(value for _, value in stages if value is not None)
    rows, cells, bars = [], [], []
    for label, value in stages:
        share = value / total if value is not None and total else None
        rows.append((label, value, share))
        cells.append(
            (
                label,
                NO_DATA if value is None else number(value),
                "" if share is None else percent(share),
            )
        )
        bars.append(charts.Bar(label, value, "" if share is None else percent(share)))
    chart = None
    if total:
        chart = charts.bar_chart(
            f"module-{base['number']}-chart",
            base["title"],
            base["description"],
            bars,
            value_text=number,
        )
    columns = (
        Column("rating", "Rating"),
        Column("responses", "Responses", True),
        Column("share", "Share of responses", True),
    )
    return {"columns": columns, "rows": tuple(rows), "cells": tuple(cells), "chart": chart}


def _table(base: dict, module: dict, query: Query, result: list[dict]) -> dict:
    rows = _flat(query, result)
    keys = list(query.group_by)
    if query.period is not None:
        keys.append("_start_at")
    keys += [key for item in query.collect for key in item.keys]
    keys.append("_count")
    keys = list(dict.fromkeys(keys))
    columns = []
    for key in keys:
        if key == "_start_at":
            columns.append(Column(key, PERIOD_COLUMN.get(query.period, "Period")))
        elif key in query.group_by:
            columns.append(Column(key, key_label(key)))
        else:
            columns.append(Column(key, key_label(key), True))
    table_rows = tuple(tuple(row.get(key) for key in keys) for row in rows)

    def cell(key, value):
        if key == "_start_at" and value is not None:
            return read_period(query.period, value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return "" if value is None else number(value)

    cells = tuple(
        tuple(cell(key, value) for key, value in zip(keys, row, strict=True)) for row in table_rows
    )
    return {"columns": tuple(columns), "rows": table_rows, "cells": cells, "chart": None}
