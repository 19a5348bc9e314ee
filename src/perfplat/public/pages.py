"""What each public page shows, as plain data: one function per page feeds its template, its
JSON twin and its CSV twin ("every page is also data"), so the three always agree.

Only public services (those with a published dashboard, `registry.services.public_services`)
appear, and of a service's dashboard only the published version's content. Numbers come from
the cache (figures.py, modules.py); what is cheap to read (the registry) is read every time, and
a fingerprint of it keys the cached results of pages that list many services.
"""

import csv
import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from django.db.models import Count, Max, Sum

from perfplat.dashboards.models import DashboardVersion
from perfplat.dashboards.services import published_version
from perfplat.datasets.models import DataSet
from perfplat.datasets.services import sources_of
from perfplat.errors import InvalidRequest, NotFound
from perfplat.frontend.templatetags.govuk import PHASE_TAG_CLASSES
from perfplat.kpis import maths, schemas
from perfplat.kpis import services as kpi_services
from perfplat.kpis.periods import MONTH, PERIOD_KINDS, QUARTER, Period, latest_period
from perfplat.kpis.services import RollUpKpis, ServiceKpis
from perfplat.metrics.models import Metric
from perfplat.registry.models import Organisation, Service
from perfplat.registry.services import public_services

from . import charts, figures, formatting
from .caching import cached, data_set_key
from .formatting import KPI_HINTS, KPI_LABELS, TILE_KPIS, kpi_value, period_label
from .forms import ServiceFilterForm, range_fields
from .freshness import Freshness, data_freshness
from .modules import ModuleView, module_view

PHASES = [key for key, _ in Service.PHASES]
PHASE_LABELS = dict(Service.PHASES)
# The KPIs of the services list and its CSV: the four, and the satisfaction score.
LIST_KPIS = (*TILE_KPIS[:2], maths.SATISFACTION_SCORE, *TILE_KPIS[2:])
MAX_COMPARED = 5
# How many periods the comparison charts go back.
COMPARED_PERIODS = {MONTH: 12, QUARTER: 8, "rolling-year": 12}


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


def _csv_text(rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    return out.getvalue()


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


# the services list: one row per public service with its latest KPIs


def service_rows(kind: str, moment: int) -> tuple[Period, list[dict]]:
    """Every public service's row (name, organisation, phase, latest KPIs), by name; cached
    under the registry fingerprint, so a write to any of their data sets recomputes it (from
    the per-service cache)."""
    latest = latest_period(kind, figures.today_of(moment))
    key = ("service-rows", kind, latest.start, registry_fingerprint())
    return latest, cached(key, lambda: _compute_rows(kind, moment))


def _compute_rows(kind: str, moment: int) -> list[dict]:
    tree = _organisation_tree()
    services = list(public_services().select_related("organisation").order_by("name", "pk"))
    keys = figures.sources_keys(services)
    latest = latest_period(kind, figures.today_of(moment))
    rows = []
    for service in services:
        chain = _chain(service.organisation_id, tree)
        # Each service's row is cached by what it shows, so after a write only the rows of the
        # services written to are made again.
        parts = (
            "service-row",
            kind,
            latest.start,
            service.pk,
            service.updated_at,
            tuple((o.pk, o.slug, o.name, o.abbreviation) for o in chain),
            keys[service.pk],
        )
        rows.append(
            cached(
                parts,
                lambda service=service, chain=chain: _row(
                    service, chain, kind, moment, keys[service.pk]
                ),
            )
        )
    return rows


def _row(service: Service, chain: list, kind: str, moment: int, key: tuple) -> dict:
    latest = figures.service_kpis(service, kind, moment, only_latest=True, key=key)[-1]
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
    return _csv_text(rows)


# the overview (home page)


@dataclass
class Overview:
    kind: str
    latest: maths.PeriodKpis  # all of government, added up
    service_count: int
    # each department (or other top-level body) with its services and those of its bodies
    groups: list[dict]


def overview(moment: int, kind: str = MONTH) -> Overview:
    latest = latest_period(kind, figures.today_of(moment))
    key = ("overview", kind, latest.start, registry_fingerprint())
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


# a service's dashboard


SOURCE_TEXT = {
    "manual": "Manual (spreadsheet uploads)",
    "automatic": "Automatic (sent by the service's systems)",
    "mixed": "Mixed (automatic and spreadsheet uploads)",
    "no data": "No data in the last 90 days",
}


@dataclass
class DataSetInfo:
    address: str  # group/type
    name: str
    source: str  # manual, automatic, mixed or no data
    freshness: Freshness
    read_url: str

    @property
    def last_updated_text(self) -> str:
        last = self.freshness.last_updated
        return formatting.date_text(last) if last else "No data has arrived yet"

    @property
    def source_text(self) -> str:
        return SOURCE_TEXT.get(self.source, self.source)


@dataclass
class MetricInfo:
    slug: str
    name: str
    description: str
    unit: str
    rationale: str
    kpi: str
    source: str  # manual, automatic, mixed or no data
    data_set: str

    @property
    def source_text(self) -> str:
        return SOURCE_TEXT.get(self.source, self.source)


@dataclass
class Dashboard:
    service: Service
    kind: str
    version: int  # the published version's number
    published_at: datetime | None
    content: dict  # audience, usage, baseline
    latest: maths.PeriodKpis
    tiles: list[Tile]
    modules: list[ModuleView]
    metrics: list[MetricInfo]
    data_sets: list[DataSetInfo]
    stale: bool  # any data set shown is out of date
    breadcrumbs: list[tuple[str, str]]

    @property
    def last_updated_text(self) -> str:
        """When the newest data arrived."""
        known = [i.freshness.last_updated for i in self.data_sets if i.freshness.last_updated]
        return formatting.date_text(max(known)) if known else "No data has arrived yet"


def dashboard(slug: str, moment: int, kind: str = MONTH) -> Dashboard:
    """A public service's dashboard: its published version only, never a draft."""
    service = (
        public_services()
        .select_related("organisation")
        .prefetch_related("data_sets")
        .filter(slug=slug)
        .first()
    )
    if service is None:
        raise NotFound(f"No published service {slug!r}")
    version = published_version(service)
    if version is None:  # unpublished between the two queries
        raise NotFound(f"No published service {slug!r}")
    return dashboard_of(service, version, moment, kind)


def dashboard_of(service: Service, version, moment: int, kind: str = MONTH) -> Dashboard:
    """The dashboard of `service` (its data sets prefetched) showing `version`: the published
    version for the public; any version for the dashboard editor's live preview
    (perfplat.publishing.preview)."""
    content = version.content or {}
    data_sets = {str(d): d for d in service.data_sets.all()}
    modules = [
        module_view(number, module, data_sets.get(module.get("data_set", "")), moment)
        for number, module in enumerate(content.get("modules", []), start=1)
    ]
    latest = figures.service_kpis(service, kind, moment, only_latest=True)[-1]

    # The data sets shown: those of the modules and the KPIs, if published.
    shown = {m.data_set for m in modules if m.data_set}
    shown |= {str(d) for d in kpi_services.kpi_data_sets(service).values()}
    shown_sets = [data_sets[a] for a in sorted(shown) if a in data_sets and data_sets[a].published]
    now = datetime.fromtimestamp(moment, UTC)
    sources = _sources(shown_sets, now)
    infos = [
        DataSetInfo(
            address=str(d),
            name=formatting.key_label(d.data_type),
            source=sources[d.pk],
            freshness=data_freshness(d, now),
            read_url=f"/data/{d.data_group}/{d.data_type}",
        )
        for d in shown_sets
    ]
    by_id = {d.pk: str(d) for d in shown_sets}
    module_metrics = {m.metric for m in modules if m.metric}
    metrics = []
    for metric in Metric.objects.filter(service=service).order_by("name", "pk"):
        # Metrics of what the dashboard shows; a planned metric with no published data is not.
        if metric.data_set_id not in by_id and metric.slug not in module_metrics:
            continue
        address = by_id.get(metric.data_set_id, "")
        metrics.append(
            MetricInfo(
                slug=metric.slug,
                name=metric.name,
                description=metric.description,
                unit=metric.unit,
                rationale=metric.rationale,
                kpi=metric.get_kpi_display() if metric.kpi else "",
                source=sources.get(metric.data_set_id, "no data"),
                data_set=address,
            )
        )
    organisation = service.organisation
    return Dashboard(
        service=service,
        kind=kind,
        version=version.number,
        published_at=version.published_at,
        content={name: content.get(name, "") for name in ("audience", "usage", "baseline")},
        latest=latest,
        tiles=tiles(latest),
        modules=modules,
        metrics=metrics,
        data_sets=infos,
        stale=any(info.freshness.stale for info in infos),
        breadcrumbs=[
            ("Home", "/"),
            ("Services", "/services"),
            (organisation.name, f"/organisations/{organisation.slug}"),
        ],
    )


def _sources(data_sets: list, now: datetime) -> dict[int, str]:
    """How each data set's data arrives (manual, automatic, mixed): from its writes of the last
    90 days, so keyed by the data sets' versions and the day."""
    if not data_sets:
        return {}
    key = ("sources", now.date(), tuple(data_set_key(d) for d in data_sets))
    return cached(key, lambda: sources_of(data_sets, now))


def dashboard_json(result: Dashboard) -> dict:
    service = result.service
    return {
        "service": _service_ref(service)
        | {
            "name": service.name,
            "description": service.description,
            "start_page_url": service.start_page_url or None,
            "organisation_name": service.organisation.name,
        },
        "dashboard": {
            "version": result.version,
            "published_at": result.published_at.isoformat() if result.published_at else None,
            **result.content,
        },
        "period": result.kind,
        "kpis": schemas.period_json(result.latest),
        "modules": [
            {
                **module.as_json(),
                "downloads": module_links(service.slug, module),
            }
            for module in result.modules
        ],
        "metrics": [vars(metric) for metric in result.metrics],
        "data_sets": [
            {
                "data_set": info.address,
                "source": info.source,
                "last_updated": info.freshness.last_updated.isoformat()
                if info.freshness.last_updated
                else None,
                "stale": info.freshness.stale,
                "max_age_expected": info.freshness.max_age_expected,
                "read_api": info.read_url,
            }
            for info in result.data_sets
        ],
    }


def dashboard_csv(result: Dashboard) -> str:
    """The KPI tiles' figures (the KPI API's CSV, latest period)."""
    return schemas.service_csv(ServiceKpis(result.service, result.kind, (result.latest,)))


def module_links(slug: str, module: ModuleView) -> dict | None:
    if not module.has_data:
        return None
    base = f"/services/{slug}/modules/{module.number}"
    return {"csv": f"{base}.csv", "json": f"{base}.json"}


def dashboard_module(slug: str, number: int, moment: int) -> ModuleView:
    """One module of the published dashboard, for its CSV and JSON downloads."""
    result = dashboard(slug, moment)
    if not 1 <= number <= len(result.modules) or not result.modules[number - 1].has_data:
        raise NotFound(f"The dashboard of {slug!r} has no data module {number}")
    return result.modules[number - 1]


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
    latest = latest_period(kind, figures.today_of(moment))
    key = ("organisation", organisation.pk, kind, latest.start, registry_fingerprint())
    return cached(key, lambda: _compute_organisation(organisation, kind, moment))


def _compute_organisation(organisation, kind: str, moment: int) -> OrganisationPage:
    tree = _organisation_tree()
    inside = organisation.descendant_ids()
    services = list(
        public_services()
        .select_related("organisation")
        .filter(organisation_id__in=inside)
        .order_by("name", "pk")
    )
    roll_up = figures.rolled_up_kpis(services, kind, moment, only_latest=True)[-1]
    _, all_rows = service_rows(kind, moment)
    slugs = {s.slug for s in services}
    rows = [row for row in all_rows if row["slug"] in slugs]
    keys = figures.sources_keys(services)
    per_service = [
        ServiceKpis(
            s, kind, figures.service_kpis(s, kind, moment, only_latest=True, key=keys[s.pk])
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


# comparing services


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
    latest = latest_period(kind, figures.today_of(moment))
    periods = [latest]
    while len(periods) < COMPARED_PERIODS[kind]:
        periods.append(periods[-1].previous)
    periods.reverse()
    kpis = {}
    for service in services:
        history = figures.service_kpis(service, kind, moment)
        kpis[service.slug] = {p.period: p for p in history if p.period in set(periods)}
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
    return _csv_text(rows)


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
