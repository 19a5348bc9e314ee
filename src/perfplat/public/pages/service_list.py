"""The services list (/services): one row per public service with its latest KPIs, filtered
and sorted as the GET parameters ask, and its JSON and CSV."""

from dataclasses import dataclass, field
from decimal import Decimal

from perfplat import csvfiles
from perfplat.errors import InvalidRequest
from perfplat.frontend.templatetags.govuk import PHASE_TAG_CLASSES
from perfplat.kpis import maths, schemas
from perfplat.kpis.periods import MONTH, PERIOD_KINDS, Period
from perfplat.registry.models import Service

from .. import figures
from ..caching import cached
from ..formatting import TILE_KPIS, kpi_value
from ..forms import ServiceFilterForm, range_fields
from .common import (
    LIST_KPIS,
    PHASE_LABELS,
    _chain,
    _organisation_ref,
    _organisation_tree,
    _service_ref,
    registry_fingerprint,
)

# the services list: one row per public service with its latest KPIs


PHASES = [key for key, _ in Service.PHASES]


def service_rows(kind: str, moment: int) -> tuple[Period, list[dict]]:
    """Every public service's row (name, organisation, phase, KPIs), by name, for the latest
    period complete for all of them (the period the overview adds up); cached under the
    registry fingerprint, so a write to any of their data sets recomputes it (from the
    per-service cache)."""
    key = ("service-rows", kind, figures.today_of(moment), registry_fingerprint())
    return cached(key, lambda: _compute_rows(kind, moment))


def _compute_rows(kind: str, moment: int) -> tuple[Period, list[dict]]:
    services = list(figures.public_services_with_data_sets().order_by("name", "pk"))
    memo: dict = {}
    period = figures.rolled_up_kpis(services, kind, moment, True, memo)[-1].period
    return period, rows_for(services, kind, moment, period, memo)


def rows_for(
    services: list[Service], kind: str, moment: int, period: Period, memo: dict | None = None
) -> list[dict]:
    """The services' rows with their KPIs for `period` (`memo`: see figures.service_data)."""
    memo = {} if memo is None else memo
    tree = _organisation_tree()
    keys = figures.sources_keys(services)
    rows = []
    for service in services:
        chain = _chain(service.organisation_id, tree)
        # Each service's row is cached by what it shows, so after a write only the rows of the
        # services written to are made again.
        parts = (
            "service-row",
            kind,
            period,
            service.pk,
            service.updated_at,
            tuple((o.pk, o.slug, o.name, o.abbreviation) for o in chain),
            keys[service.pk],
        )
        rows.append(
            cached(
                parts,
                lambda service=service, chain=chain: _row(
                    service, chain, moment, period, keys[service.pk], memo
                ),
            )
        )
    return rows


def _row(
    service: Service, chain: list, moment: int, period: Period, key: tuple, memo: dict
) -> dict:
    latest = figures.service_kpis_for(service, moment, (period,), key=key, memo=memo)[-1]
    main = latest.main
    return {
        "slug": service.slug,
        "name": service.name,
        "phase": service.phase,
        "organisation": _organisation_ref(service.organisation),
        "department": _organisation_ref(chain[-1]),
        "organisations": [o.slug for o in chain],
        "search": " ".join(
            [service.name, service.slug] + [f"{o.name} {o.abbreviation}" for o in chain]
        ).casefold(),
        "phase_label": PHASE_LABELS[service.phase],
        "phase_class": PHASE_TAG_CLASSES.get(service.phase, ""),
        "values": {kpi: _sortable(kpi, main[kpi].value) for kpi in LIST_KPIS},
        # The page's table shows the four KPIs; the downloads add the satisfaction score.
        "cell_list": [
            {"text": kpi_value(kpi, main[kpi].value), "missing": main[kpi].value is None}
            for kpi in TILE_KPIS
        ],
        "json": {
            "service": _service_ref(service)
            | {
                "organisation_name": service.organisation.name,
                "url": f"/services/{service.slug}",
            },
            "kpis": schemas.period_json(latest)["kpis"],
        },
    }


def _sortable(kpi: str, value) -> float | None:
    """A KPI's value in the units people filter by: pounds, or a percentage."""
    if value is None:
        return None
    if maths.UNITS[kpi] == maths.POUNDS:
        return float(maths.pounds(value))
    return round(float(value) * 100, 6)


RANGE_KPIS = TILE_KPIS


@dataclass
class Filters:
    q: str = ""
    organisation: str = ""
    phases: tuple[str, ...] = ()
    # kpi -> (at least, at most), in pounds or percentage points; None: no limit
    ranges: dict = field(default_factory=dict)
    sort: str = "name"
    order: str = "asc"
    period: str = MONTH

    @property
    def active(self) -> bool:
        return bool(self.q or self.organisation or self.phases or self.ranges)


def filters_of(form: ServiceFilterForm, kind: str) -> Filters:
    """The filters of a validated form; fields with errors are left out."""
    data = form.cleaned_data
    ranges = {}
    for kpi in RANGE_KPIS:
        low, high = (data.get(name) for name in range_fields(kpi))
        if low is not None or high is not None:
            ranges[kpi] = (
                None if low is None else float(low),
                None if high is None else float(high),
            )
    return Filters(
        q=(data.get("q") or "").strip(),
        organisation=data.get("organisation") or "",
        phases=tuple(p for p in PHASES if p in (data.get("phase") or ())),
        ranges=ranges,
        sort=data.get("sort") or "name",
        order=data.get("order") or "asc",
        period=kind,
    )


def _matches(row: dict, filters: Filters) -> bool:
    if filters.q and not all(word in row["search"] for word in filters.q.casefold().split()):
        return False
    if filters.organisation and filters.organisation not in row["organisations"]:
        return False
    if filters.phases and row["phase"] not in filters.phases:
        return False
    for kpi, (low, high) in filters.ranges.items():
        value = row["values"][kpi]
        # A service without enough data cannot be said to be in the range.
        if value is None:
            return False
        if low is not None and value < low:
            return False
        if high is not None and value > high:
            return False
    return True


def _sort_key(filters: Filters):
    sort = filters.sort
    if sort == "organisation":
        return lambda row: row["organisation"]["name"].casefold()
    if sort == "phase":
        return lambda row: PHASES.index(row["phase"])
    return lambda row: row["values"][sort]


def _sorted(rows: list[dict], filters: Filters) -> list[dict]:
    """Rows in the order asked for; rows that tie stay in name order (a stable sort of rows
    already in name order), and services without enough data for a KPI sorted by go last."""
    by_name = sorted(rows, key=lambda row: (row["name"].casefold(), row["slug"]))
    if filters.sort == "name":
        return by_name[::-1] if filters.order == "desc" else by_name
    descending = filters.order == "desc"
    if filters.sort in LIST_KPIS:
        known = [row for row in by_name if row["values"][filters.sort] is not None]
        unknown = [row for row in by_name if row["values"][filters.sort] is None]
        return sorted(known, key=_sort_key(filters), reverse=descending) + unknown
    return sorted(by_name, key=_sort_key(filters), reverse=descending)


@dataclass
class ServiceList:
    form: ServiceFilterForm
    filters: Filters
    errors: list[tuple[str, str]]  # (field, message)
    period: Period
    rows: list[dict]  # filtered and sorted
    total: int  # public services before filtering


def service_list(params, moment: int) -> ServiceList:
    """The services list as the GET parameters ask: filtered, then sorted."""
    kind = params.get("period") if params.get("period") in PERIOD_KINDS else MONTH
    latest, rows = service_rows(kind, moment)
    organisations: dict[str, str] = {}
    for row in rows:
        organisations[row["organisation"]["slug"]] = row["organisation"]["name"]
        organisations[row["department"]["slug"]] = row["department"]["name"]
    form = ServiceFilterForm(
        params,
        organisations=sorted(organisations.items(), key=lambda item: item[1].casefold()),
    )
    form.is_valid()
    filters = filters_of(form, kind)
    chosen = _sorted([row for row in rows if _matches(row, filters)], filters)
    return ServiceList(
        form=form,
        filters=filters,
        errors=[(name, message) for name, messages in form.errors.items() for message in messages],
        period=latest,
        rows=chosen,
        total=len(rows),
    )


def check_no_errors(errors: list[tuple[str, str]]) -> None:
    """The JSON and CSV twins refuse what the page would show as an error."""
    if errors:
        messages = [message for _, message in errors]
        raise InvalidRequest(messages[0], messages=messages)


def service_list_json(result: ServiceList) -> dict:
    filters = result.filters
    return {
        "period": filters.period,
        "start_at": schemas.timestamp(result.period.start),
        "end_at": schemas.timestamp(result.period.end),
        "filters": {
            "q": filters.q or None,
            "organisation": filters.organisation or None,
            "phase": list(filters.phases),
            "ranges": {
                kpi: {"at_least": low, "at_most": high}
                for kpi, (low, high) in filters.ranges.items()
            },
        },
        "sort": filters.sort,
        "order": filters.order,
        "count": len(result.rows),
        "services": [row["json"] for row in result.rows],
    }


LIST_CSV_COLUMNS = (
    "slug",
    "name",
    "organisation",
    "organisation_name",
    "phase",
    "period",
    "start_at",
    "end_at",
    *(name for kpi in LIST_KPIS for name in (kpi, f"{kpi}_not_enough_data")),
)


def service_list_csv(result: ServiceList) -> str:
    rows = [list(LIST_CSV_COLUMNS)]
    start, end = schemas.timestamp(result.period.start), schemas.timestamp(result.period.end)
    for row in result.rows:
        kpis = row["json"]["kpis"]
        cells = [
            row["slug"],
            row["name"],
            row["organisation"]["slug"],
            row["organisation"]["name"],
            row["phase"],
            result.filters.period,
            start,
            end,
        ]
        for kpi in LIST_KPIS:
            value = kpis[kpi]["value"]
            if value is not None and maths.UNITS[kpi] == maths.POUNDS:
                value = maths.pounds(Decimal(str(value)))
            cells += [value, kpis[kpi]["not_enough_data"]]
        rows.append(cells)
    return csvfiles.csv_text(rows)
