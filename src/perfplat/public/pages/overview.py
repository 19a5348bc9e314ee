"""The overview (the home page): the headline KPIs across government and every public service,
grouped by department, and its JSON and CSV."""

from dataclasses import dataclass

from perfplat.kpis import maths, schemas
from perfplat.kpis.periods import MONTH
from perfplat.kpis.services import RollUpKpis
from perfplat.registry.services import public_services

from .. import figures
from ..caching import cached
from .common import (
    PHASE_LABELS,
    _chain,
    _organisation_ref,
    _organisation_tree,
    _service_ref,
    registry_fingerprint,
)

# the overview (home page)


@dataclass
class Overview:
    kind: str
    latest: maths.PeriodKpis  # all of government, added up
    service_count: int
    # each department (or other top-level body) with its services and those of its bodies
    groups: list[dict]


def overview(moment: int, kind: str = MONTH) -> Overview:
    key = ("overview", kind, figures.today_of(moment), registry_fingerprint())
    return cached(key, lambda: _compute_overview(kind, moment))


def _compute_overview(kind: str, moment: int) -> Overview:
    services = list(public_services().select_related("organisation").order_by("name", "pk"))
    government = figures.rolled_up_kpis(services, kind, moment, only_latest=True)[-1]
    tree = _organisation_tree()
    groups: dict[int, dict] = {}
    for service in services:
        chain = _chain(service.organisation_id, tree)
        top = chain[-1]
        group = groups.setdefault(top.pk, {"organisation": _organisation_ref(top), "services": []})
        group["services"].append(
            {
                **_service_ref(service),
                "name": service.name,
                "phase_label": PHASE_LABELS[service.phase],
                "organisation_name": service.organisation.name,
                "organisation_abbreviation": service.organisation.abbreviation,
                "own_body": service.organisation_id != top.pk,
            }
        )
    ordered = sorted(groups.values(), key=lambda g: g["organisation"]["name"].casefold())
    return Overview(kind, government, len(services), ordered)


def overview_json(result: Overview) -> dict:
    return {
        "period": result.kind,
        "headline": schemas.period_json(result.latest),
        "service_count": result.service_count,
        "organisations": [
            {
                "organisation": group["organisation"],
                "services": [
                    {
                        "slug": s["slug"],
                        "name": s["name"],
                        "organisation": s["organisation"],
                        "phase": s["phase"],
                    }
                    for s in group["services"]
                ],
            }
            for group in result.groups
        ],
    }


def overview_csv(result: Overview) -> str:
    """The headline figures across government (the KPI API's CSV, latest period)."""
    return schemas.roll_up_csv(RollUpKpis(None, result.kind, (result.latest,), ()))
