"""Which published KPI figures were revised: a figure of a complete period is first published
when the period ends (or when the dashboard is first published, if later); a correction made
after that to a record whose time span overlaps the period revised it (SPEC section 13)."""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import Min

from perfplat.dashboards.models import DashboardVersion
from perfplat.datasets.models import Correction
from perfplat.kpis import maths
from perfplat.kpis import services as kpi_services

from .caching import cached, data_set_key
from .formatting import MONTHS


@dataclass(frozen=True)
class Revision:
    correction_id: int
    made_at: datetime

    @property
    def text(self) -> str:
        made = self.made_at.astimezone(UTC)
        return f"Revised on {made.day} {MONTHS[made.month - 1]} {made.year}"

    @property
    def url(self) -> str:
        return f"/corrections/{self.correction_id}"


def _seconds(day: date) -> int:
    return calendar.timegm(day.timetuple())


def latest_revision(
    corrections: list[tuple[int, datetime, int, int]],
    period_start: int,
    period_end: int,
    first_published: datetime | None,
) -> Revision | None:
    """The newest of `corrections` ((id, made at, starts_at, ends_at), spans in epoch seconds,
    end exclusive) that changed data of the period [period_start, period_end) after its figure
    was first published: at the period's end, or at `first_published` if later."""
    published = datetime.fromtimestamp(period_end, UTC)
    if first_published is not None and first_published > published:
        published = first_published
    found = [
        (made_at, correction_id)
        for correction_id, made_at, starts_at, ends_at in corrections
        if starts_at < period_end and ends_at > period_start and made_at >= published
    ]
    if not found:
        return None
    made_at, correction_id = max(found)
    return Revision(correction_id, made_at)


def tile_revisions(service, latest: maths.PeriodKpis) -> dict[str, Revision]:
    """For each KPI of the latest period, the correction that last revised its figure (KPIs
    not revised are left out). Cached by the versions of the service's KPI data sets, which
    every correction bumps."""
    data_sets = kpi_services.kpi_data_sets(service)
    if not data_sets:
        return {}
    period = latest.period
    key = (
        "revisions",
        service.pk,
        period.kind,
        period.start,
        tuple((t, data_set_key(d)) for t, d in sorted(data_sets.items())),
    )
    return cached(key, lambda: _tile_revisions(service, data_sets, period))


def _tile_revisions(service, data_sets: dict, period) -> dict[str, Revision]:
    start, end = _seconds(period.start), _seconds(period.end)
    first_published = DashboardVersion.objects.filter(
        dashboard__service=service, published_at__isnull=False
    ).aggregate(first=Min("published_at"))["first"]
    by_data_set: dict[int, list] = {}
    rows = Correction.objects.filter(
        data_set__in=data_sets.values(), starts_at__lt=end, ends_at__gt=start
    ).values_list("data_set_id", "pk", "created_at", "starts_at", "ends_at")
    for data_set_id, *correction in rows:
        by_data_set.setdefault(data_set_id, []).append(tuple(correction))
    found = {}
    for kpi, types in maths.SIDES.items():
        corrections = [
            correction
            for data_type in set(types)
            if data_type in data_sets
            for correction in by_data_set.get(data_sets[data_type].pk, [])
        ]
        revision = latest_revision(corrections, start, end, first_published)
        if revision is not None:
            found[kpi] = revision
    return found
