"""What several public pages share: the period check, the KPI tiles, the registry fingerprint
that keys the cached results of pages listing many services, organisation chains and the
references to organisations and services in their JSON, and CSV text."""

import hashlib
from dataclasses import dataclass

from django.db.models import Count, Max, Sum

from perfplat.dashboards.models import DashboardVersion
from perfplat.datasets.models import DataSet
from perfplat.errors import InvalidRequest
from perfplat.kpis import maths
from perfplat.kpis.periods import MONTH, PERIOD_KINDS
from perfplat.registry.models import Organisation, Service

from .. import formatting
from ..formatting import KPI_HINTS, KPI_LABELS, TILE_KPIS, kpi_value, period_label

PHASE_LABELS = dict(Service.PHASES)
# The KPIs of the services list and its CSV: the four, and the satisfaction score.
LIST_KPIS = (*TILE_KPIS[:2], maths.SATISFACTION_SCORE, *TILE_KPIS[2:])


def check_period(kind: str | None) -> str:
    kind = kind or MONTH
    if kind not in PERIOD_KINDS:
        raise InvalidRequest(
            f"period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}", field="period"
        )
    return kind


# KPI tiles


@dataclass(frozen=True)
class Tile:
    kpi: str
    label: str
    hint: str
    value: str  # as people read it, or "Not enough data"
    not_enough_data: str  # why there is no value; "" when there is one
    period: str
    previous: str  # the change from the previous period, in words
    year_earlier: str
    extra: str = ""  # the satisfaction score, with user satisfaction
    # The correction that last revised the figure after it was published (revisions.Revision).
    revision: object = None


def tiles(latest: maths.PeriodKpis) -> list[Tile]:
    """The four KPI tiles of a period."""
    found = latest.main
    result = []
    for kpi in TILE_KPIS:
        value = found[kpi]
        extra = ""
        if kpi == maths.USER_SATISFACTION:
            score = found[maths.SATISFACTION_SCORE]
            if score.value is not None:
                extra = f"Satisfaction score: {formatting.percent(score.value)}"
        result.append(
            Tile(
                kpi=kpi,
                label=KPI_LABELS[kpi],
                hint=KPI_HINTS[kpi],
                value=kpi_value(kpi, value.value),
                not_enough_data=value.not_enough_data or "",
                period=period_label(latest.period),
                previous=formatting.change_text(kpi, value.previous_period),
                year_earlier=formatting.change_text(kpi, value.year_earlier),
                extra=extra,
            )
        )
    return result


# what is public, cheaply: the fingerprint that keys pages listing many services


def registry_fingerprint() -> str:
    """A hash that changes whenever anything the pages listing many services show may have
    changed: a service (its `updated_at`), a dashboard version (published, unpublished), any
    data set (the sum of the versions, which every write bumps) or an organisation. A few
    aggregate queries, whatever the number of services: cheap enough to ask on every request.
    Any write anywhere changes it; what is then recomputed comes from the per-service cache."""
    services = Service.objects.aggregate(count=Count("pk"), ids=Sum("pk"), last=Max("updated_at"))
    versions = DashboardVersion.objects.aggregate(count=Count("pk"), last=Max("updated_at"))
    data_sets = DataSet.objects.aggregate(count=Count("pk"), ids=Sum("pk"), versions=Sum("version"))
    organisations = list(
        Organisation.objects.order_by("pk").values_list(
            "pk", "slug", "name", "abbreviation", "type", "parent_id"
        )
    )
    text = repr((services, versions, data_sets, organisations))
    return hashlib.sha256(text.encode()).hexdigest()


def _organisation_tree() -> dict[int, Organisation]:
    return {o.pk: o for o in Organisation.objects.all()}


def _chain(organisation_id: int, tree: dict[int, Organisation]) -> list[Organisation]:
    """The organisation and those above it, nearest first."""
    chain, seen = [], set()
    current = tree.get(organisation_id)
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = tree.get(current.parent_id)
    return chain


def _organisation_ref(organisation: Organisation) -> dict:
    return {
        "slug": organisation.slug,
        "name": organisation.name,
        "abbreviation": organisation.abbreviation,
    }


def _service_ref(service: Service) -> dict:
    return {
        "slug": service.slug,
        "name": service.name,
        "organisation": service.organisation.slug,
        "phase": service.phase,
    }
