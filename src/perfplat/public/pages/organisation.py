"""An organisation's page (/organisations/<slug>): the roll-up of its public services and
those of the bodies under it, and its JSON and CSV."""

from dataclasses import dataclass

from perfplat.kpis import maths, schemas
from perfplat.kpis import services as kpi_services
from perfplat.kpis.periods import MONTH
from perfplat.kpis.services import RollUpKpis, ServiceKpis
from perfplat.registry.models import Organisation

from .. import figures
from ..caching import cached
from .common import (
    Tile,
    _chain,
    _organisation_ref,
    _organisation_tree,
    registry_fingerprint,
    tiles,
)
from .service_list import rows_for

# an organisation's roll-up


@dataclass
class OrganisationPage:
    organisation: Organisation
    kind: str
    latest: maths.PeriodKpis
    tiles: list[Tile]
    services: list[dict]  # rows as in the services list
    children: list[dict]  # bodies under it with public services
    parents: list[Organisation]  # nearest first
    service_kpis: list[ServiceKpis]


def organisation_page(slug: str, moment: int, kind: str = MONTH) -> OrganisationPage:
    organisation = kpi_services.public_organisation(slug)
    key = ("organisation", organisation.pk, kind, figures.today_of(moment), registry_fingerprint())
    return cached(key, lambda: _compute_organisation(organisation, kind, moment))


def _compute_organisation(organisation, kind: str, moment: int) -> OrganisationPage:
    tree = _organisation_tree()
    inside = organisation.descendant_ids()
    services = list(
        figures.public_services_with_data_sets()
        .filter(organisation_id__in=inside)
        .order_by("name", "pk")
    )
    memo: dict = {}
    roll_up = figures.rolled_up_kpis(services, kind, moment, True, memo)[-1]
    rows = rows_for(services, kind, moment, roll_up.period, memo)
    keys = figures.sources_keys(services)
    per_service = [
        ServiceKpis(
            s,
            kind,
            figures.service_kpis_for(s, moment, (roll_up.period,), key=keys[s.pk], memo=memo),
        )
        for s in services
    ]
    counts: dict[int, int] = {}
    for service in services:
        for body in _chain(service.organisation_id, tree):
            counts[body.pk] = counts.get(body.pk, 0) + 1
    children = [
        {"organisation": _organisation_ref(child), "services": counts[child.pk]}
        for child in sorted(tree.values(), key=lambda o: o.name.casefold())
        if child.parent_id == organisation.pk and counts.get(child.pk)
    ]
    return OrganisationPage(
        organisation=organisation,
        kind=kind,
        latest=roll_up,
        tiles=tiles(roll_up),
        services=rows,
        children=children,
        parents=_chain(organisation.pk, tree)[1:],
        service_kpis=per_service,
    )


def organisation_json(result: OrganisationPage) -> dict:
    payload = schemas.roll_up_json(_roll_up(result))
    payload["children"] = result.children
    payload["parent"] = _organisation_ref(result.parents[0]) if result.parents else None
    return payload


def organisation_csv(result: OrganisationPage) -> str:
    return schemas.roll_up_csv(_roll_up(result))


def _roll_up(result: OrganisationPage) -> RollUpKpis:
    return RollUpKpis(
        result.organisation, result.kind, (result.latest,), tuple(result.service_kpis)
    )
