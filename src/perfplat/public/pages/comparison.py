"""Comparing services (/compare): up to MAX_COMPARED public services side by side over the
recent periods, as a table, a chart per KPI, JSON and CSV."""

import csv
import io
from dataclasses import dataclass

from perfplat import csvfiles
from perfplat.errors import InvalidRequest
from perfplat.kpis import maths, schemas
from perfplat.kpis.periods import MONTH, QUARTER, ROLLING_YEAR, WEEK, Period, latest_period
from perfplat.kpis.services import ServiceKpis
from perfplat.registry.models import Service
from perfplat.registry.services import public_services

from .. import charts, figures, formatting
from ..formatting import KPI_LABELS, TILE_KPIS, kpi_value, period_label
from .common import LIST_KPIS, _service_ref, check_period

# comparing services


MAX_COMPARED = 5
# How many periods the comparison charts go back.
COMPARED_PERIODS = {WEEK: 13, MONTH: 12, QUARTER: 8, ROLLING_YEAR: 12}


@dataclass
class Comparison:
    kind: str
    chosen: list[str]  # the slugs asked for, in order
    errors: list[str]
    services: list[Service]
    periods: list[Period]  # the common periods, oldest first; the last is the latest
    # slug -> period -> that service's KPIs (absent: no data in that period)
    kpis: dict[str, dict[Period, maths.PeriodKpis]]
    choices: list[tuple[str, str]]  # (slug, name) of every public service

    def value(self, slug: str, period: Period, kpi: str) -> maths.KpiValue | None:
        found = self.kpis.get(slug, {}).get(period)
        return found.main.get(kpi) if found else None


def chosen_services(params) -> list[str]:
    """The slugs of `services=a,b,c` (or `services=a&services=b`), in order, once each."""
    slugs = []
    for value in params.getlist("services"):
        slugs += [s.strip() for s in value.split(",")]
    return list(dict.fromkeys(s for s in slugs if s))


def comparison(params, moment: int) -> Comparison:
    errors = []
    try:
        kind = check_period(params.get("period"))
    except InvalidRequest as error:
        errors.append(error.message)
        kind = MONTH
    chosen = chosen_services(params)
    choices = list(public_services().order_by("name", "pk").values_list("slug", "name"))
    public = {
        s.slug: s for s in figures.public_services_with_data_sets().filter(slug__in=chosen[:50])
    }
    unknown = [slug for slug in chosen if slug not in public]
    for slug in unknown:
        errors.append(f"There is no published service called ‘{slug[:100]}’")
    if len(chosen) > MAX_COMPARED:
        errors.append(f"Compare up to {MAX_COMPARED} services at a time: you chose {len(chosen)}")
    services = [public[slug] for slug in chosen if slug in public][:MAX_COMPARED]
    # The same periods for every service: up to the latest complete for all of them.
    if services:
        latest = figures.rolled_up_kpis(services, kind, moment, only_latest=True)[-1].period
    else:
        latest = latest_period(kind, figures.today_of(moment))
    periods = [latest]
    while len(periods) < COMPARED_PERIODS[kind]:
        periods.append(periods[-1].previous)
    periods.reverse()
    kpis = {}
    for service in services:
        # From the period of its first data, as its own history (the JSON says null before).
        first = figures.service_data(service, moment).first_day
        ours = tuple(p for p in periods if first is not None and p.end > first)
        found = figures.service_kpis_for(service, moment, ours) if ours else ()
        kpis[service.slug] = {p.period: p for p in found}
    return Comparison(
        kind=kind,
        chosen=chosen,
        errors=errors,
        services=services,
        periods=periods,
        kpis=kpis,
        choices=choices,
    )


def comparison_json(result: Comparison, kpi: str | None = None) -> dict:
    """Each service's KPIs over the compared periods (null where it has no data); only one
    KPI's when `kpi` is given."""

    def shaped(period_kpis: maths.PeriodKpis) -> dict:
        found = schemas.period_json(period_kpis)
        if kpi is not None:
            found["kpis"] = {kpi: found["kpis"][kpi]}
            if kpi != maths.COST_PER_TRANSACTION:
                found["cost_per_transaction_by_channel"] = {}
        return found

    return {
        "period": result.kind,
        "kpi": kpi,
        "periods": [
            {"start_at": schemas.timestamp(p.start), "end_at": schemas.timestamp(p.end)}
            for p in result.periods
        ],
        "services": [
            {
                "service": _service_ref(service) | {"name": service.name},
                "periods": [
                    shaped(result.kpis[service.slug][p]) if p in result.kpis[service.slug] else None
                    for p in result.periods
                ],
            }
            for service in result.services
        ],
    }


def comparison_csv(result: Comparison, kpi: str | None = None) -> str:
    """The KPI API's CSV rows of each service over the compared periods (only one KPI's rows
    when `kpi` is given: the data of that KPI's chart)."""
    rows = [list(schemas.CSV_COLUMNS)]
    column = schemas.CSV_COLUMNS.index("kpi")
    for service in result.services:
        periods = tuple(
            result.kpis[service.slug][p] for p in result.periods if p in result.kpis[service.slug]
        )
        text = schemas.service_csv(ServiceKpis(service, result.kind, periods))
        found = list(csv.reader(io.StringIO(text)))[1:]
        rows += [row for row in found if kpi is None or row[column] == kpi]
    return csvfiles.csv_text(rows)


def comparison_table(result: Comparison) -> list[dict]:
    """The latest period's KPIs side by side: a row per KPI, a cell per service."""
    latest = result.periods[-1]
    table = []
    for kpi in LIST_KPIS:
        cells = []
        for service in result.services:
            found = result.value(service.slug, latest, kpi)
            cells.append(
                {
                    "value": kpi_value(kpi, None if found is None else found.value),
                    "reason": "" if found is None else (found.not_enough_data or ""),
                    "change": ""
                    if found is None
                    else formatting.change_text(kpi, found.previous_period),
                }
            )
        table.append({"label": KPI_LABELS[kpi], "cells": cells})
    return table


def comparison_charts(result: Comparison, params) -> list[dict]:
    """A line chart of each of the four KPIs over the compared periods, one line per service,
    with the rows of its table and its CSV and JSON links (the same data, one KPI)."""
    charts_ = []
    if not result.services:
        return charts_
    labels = [period_label(p) for p in result.periods]
    short = [formatting.short_period_label(p) for p in result.periods]
    for kpi in TILE_KPIS:
        unit = maths.UNITS[kpi]
        label = KPI_LABELS[kpi]
        series, rows = [], [[text] for text in labels]
        for service in result.services:
            values = []
            for index, period in enumerate(result.periods):
                found = result.value(service.slug, period, kpi)
                value = None if found is None else found.value
                values.append(None if value is None else float(value))
                rows[index].append(kpi_value(kpi, value))
            series.append(charts.Series(service.name, tuple(values)))
        chart_id = f"compare-{kpi.replace('_', '-')}"
        svg = None
        if any(v is not None for s in series for v in s.values):
            svg = charts.line_chart(
                chart_id,
                f"{label} of {', '.join(s.name for s in result.services)}",
                "",
                short,
                series,
                x_axis=formatting.PERIOD_NAMES[result.kind],
                y_axis=f"{label} ({'£' if unit == maths.POUNDS else '%'})",
                value_text=lambda value, kpi=kpi: kpi_value(kpi, maths.exact(value)),
                tick_text=formatting.axis_text(unit),
            )
        query = params.copy()
        query["kpi"] = kpi
        charts_.append(
            {
                "kpi": kpi,
                "label": label,
                "id": chart_id,
                "chart": svg,
                "head": [formatting.PERIOD_NAMES[result.kind], *(s.name for s in result.services)],
                "numeric": list(range(1, len(result.services) + 1)),
                "rows": rows,
                "downloads": {
                    "csv": f"/compare.csv?{query.urlencode()}",
                    "json": f"/compare.json?{query.urlencode()}",
                },
            }
        )
    return charts_
