""" "How this service has changed": a service's assessment snapshots side by side, with the KPIs
frozen at each and the KPIs now, and the team's account of how the service evolved.

The public dashboard shows it with `{% load publishing %}{% service_changes dashboard %}`
(templatetags/publishing.py, template publishing/_service_changes.html); the management pages
use `kpi_rows`; `service_changes_json` is its JSON twin.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from perfplat.kpis import maths
from perfplat.kpis.periods import MONTH, Period
from perfplat.public.formatting import KPI_LABELS, MONTHS, TILE_KPIS, kpi_value, period_label

from .models import AssessmentSnapshot


@dataclass(frozen=True)
class Column:
    heading: str  # "Beta assessment, 3 March 2025"
    period: str  # "February 2025": the month its KPIs are of


def _period_of(kpis: dict) -> str:
    if not kpis.get("start_at"):
        return ""
    start = date.fromisoformat(kpis["start_at"][:10])
    end = date.fromisoformat(kpis["end_at"][:10])
    return period_label(Period(kpis.get("period", MONTH), start, end))


def _stored_value(name: str, kpi: dict | None) -> str:
    value = None if kpi is None else kpi.get("value")
    if value is not None and maths.UNITS[name] == maths.POUNDS:
        value = Decimal(str(value))
    return kpi_value(name, value)


def snapshot_heading(taken: AssessmentSnapshot) -> str:
    return f"{taken.get_phase_display()} assessment, {day_text(taken.assessed_on)}"


def day_text(value: date) -> str:
    """ "3 February 2025"."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def kpi_rows(snapshots, latest: maths.PeriodKpis | None = None) -> dict:
    """The four KPIs at each snapshot (as frozen) and, given `latest`, now: a table's columns
    and rows of formatted values."""
    columns = [Column(snapshot_heading(s), _period_of(s.kpis)) for s in snapshots]
    if latest is not None:
        columns.append(Column("Now", period_label(latest.period)))
    rows = []
    for name in TILE_KPIS:
        cells = [_stored_value(name, s.kpis.get("kpis", {}).get(name)) for s in snapshots]
        if latest is not None:
            now = latest.get(name)
            cells.append(kpi_value(name, now.value if now else None))
        rows.append({"kpi": KPI_LABELS[name], "cells": cells})
    return {
        "columns": columns,
        "head": ["Key performance indicator"]
        + [f"{c.heading} ({c.period})" if c.period else c.heading for c in columns],
        "rows": [[row["kpi"], *row["cells"]] for row in rows],
        "numeric": list(range(1, len(columns) + 1)),
    }


def public_snapshots(service) -> list[AssessmentSnapshot]:
    return list(AssessmentSnapshot.objects.filter(service=service).order_by("assessed_on", "pk"))


def service_changes(service, latest: maths.PeriodKpis | None) -> dict | None:
    """The context of the public section; None when the service has no assessment yet. The
    assessors' notes stay in the management area: the public sees the phase, date, outcome,
    the team's account and the KPIs."""
    snapshots = public_snapshots(service)
    if not snapshots:
        return None
    return {
        "service": service,
        "snapshots": [
            {
                "heading": snapshot_heading(s),
                "outcome": s.get_outcome_display(),
                "evolution": s.evolution,
                "audience": s.metadata.get("audience", ""),
            }
            for s in snapshots
        ],
        "table": kpi_rows(snapshots, latest),
    }


def service_changes_json(service) -> list[dict]:
    """The public twin of the section: each assessment with its frozen KPIs (the KPI API's
    JSON of the last complete month before it)."""
    return [
        {
            "phase": s.phase,
            "assessed_on": s.assessed_on.isoformat(),
            "outcome": s.outcome,
            "evolution": s.evolution,
            "dashboard": {
                name: s.metadata.get(name, "") for name in ("audience", "usage", "baseline")
            },
            "kpis": s.kpis,
        }
        for s in public_snapshots(service)
    ]
