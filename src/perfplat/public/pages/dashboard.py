"""A service's dashboard (/services/<slug>): the published version's content, KPI tiles,
modules, metrics and data sets, its JSON and CSV, and the downloads of each module."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from perfplat.dashboards.content import BEACON, KPIS, baseline_period
from perfplat.dashboards.services import published_version
from perfplat.datasets.services import sources_of
from perfplat.errors import NotFound
from perfplat.kpis import maths, schemas
from perfplat.kpis import services as kpi_services
from perfplat.kpis.periods import MONTH, days_text
from perfplat.kpis.services import ServiceKpis
from perfplat.metrics.models import Metric
from perfplat.registry.models import Service
from perfplat.registry.services import public_services

from .. import figures, formatting
from ..caching import cached, data_set_key
from ..freshness import Freshness, data_freshness
from ..modules import ModuleView, module_view
from ..revisions import Revision, tile_revisions
from .common import Tile, _service_ref, tiles

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
    # The KPIs over the baseline period, and each one's change since then; None when the
    # dashboard has no baseline.
    baseline: maths.PeriodKpis | None
    since_baseline: dict
    revisions: dict[str, Revision]  # KPI -> the correction that last revised its figure
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
    beacon = None
    if any(module.get("source") == BEACON for module in content.get("modules", [])):
        from perfplat.beacon.services import beacon_of

        beacon = beacon_of(service)
    modules = numbered_modules(content.get("modules", []), data_sets, moment, beacon)
    latest = figures.service_kpis(service, kind, moment, only_latest=True)[-1]
    chosen = baseline_period(content.get("baseline"))
    baseline = figures.baseline_kpis(service, moment, *chosen) if chosen else None
    revisions = tile_revisions(service, latest)

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
        baseline=baseline,
        since_baseline=maths.change_since(latest, baseline) if baseline else {},
        tiles=[replace(tile, revision=revisions.get(tile.kpi)) for tile in tiles(latest)],
        revisions=revisions,
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


KPI_TILES = 1
KPI_TILES_TITLE = "Key performance indicators"


def numbered_modules(
    content_modules: list, data_sets: dict, moment: int, beacon=None
) -> list[ModuleView]:
    """The modules as the public page shows them, numbered as a reader counts them: the KPI
    tiles, always at the top of the page, are module 1; the others follow from 2 in their
    order (a KPI tiles module placed elsewhere in the content is the same tiles, not another)."""
    kpis = next((m for m in content_modules if m["kind"] == KPIS), {})
    modules = [ModuleView(number=KPI_TILES, kind=KPIS, title=kpis.get("title") or KPI_TILES_TITLE)]
    for module in content_modules:
        if module["kind"] == KPIS:
            continue
        data_set = data_sets.get(module.get("data_set", ""))
        modules.append(module_view(len(modules) + 1, module, data_set, moment, beacon))
    return modules


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
        "baseline": baseline_json(result),
        "revisions": {
            kpi: {"revised_on": revision.made_at.isoformat(), "correction": revision.url}
            for kpi, revision in result.revisions.items()
        },
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
        "how_the_service_has_changed": _changes_json(result),
        "corrections": f"/services/{service.slug}/corrections",
        "feed": f"/services/{service.slug}/feed.atom",
    }


def baseline_json(result: Dashboard) -> dict | None:
    """The KPIs over the baseline's days, each with its change from the baseline to the latest
    period: {"first_day", "last_day", "complete", "compared_with", "kpis": {name: {...,
    "change_since": {"absolute", "relative", "not_enough_data"}}}}."""
    baseline = result.baseline
    if baseline is None:
        return None
    kpis = {}
    for name, kpi in baseline.main.items():
        shaped = schemas.kpi_json(kpi)
        del shaped["previous_period"], shaped["year_earlier"]
        since = schemas.change_json(name, result.since_baseline[(name, None)])
        shaped["change_since"] = {
            key: since[key] for key in ("absolute", "relative", "not_enough_data")
        }
        kpis[name] = shaped
    latest = result.latest.period
    return {
        "first_day": baseline.period.start.isoformat(),
        "last_day": baseline.period.last_day.isoformat(),
        "complete": baseline.complete,
        "compared_with": {
            "start_at": schemas.timestamp(latest.start),
            "end_at": schemas.timestamp(latest.end),
        },
        "kpis": kpis,
    }


def baseline_rows(result: Dashboard) -> list[dict]:
    """The baseline table: a row per tile KPI with its baseline value, latest value and change
    since the baseline, in words."""
    if result.baseline is None:
        return []
    rows = []
    for kpi in formatting.TILE_KPIS:
        then, now = result.baseline.main[kpi], result.latest.main[kpi]
        since = result.since_baseline[(kpi, None)]
        rows.append(
            {
                "label": formatting.KPI_LABELS[kpi],
                "baseline": formatting.kpi_value(kpi, then.value),
                "baseline_reason": then.not_enough_data or "",
                "latest": formatting.kpi_value(kpi, now.value),
                "change": formatting.change_text(kpi, since) if since.absolute is not None else "",
            }
        )
    return rows


def how_made(latest: maths.PeriodKpis) -> list[dict]:
    """For "About the data": how each tile's figure was made and the days it covers."""
    found = []
    for kpi in formatting.TILE_KPIS:
        value = latest.main[kpi]
        if value.made_from is None:
            text = f"not enough data: {value.not_enough_data}"
        else:
            days = days_text(value.first_day, value.last_day)
            text = f"{value.made_from}, covering {days}"
        found.append({"label": formatting.KPI_LABELS[kpi], "text": text})
    return found


def _changes_json(result: Dashboard) -> dict:
    """The "How this service has changed" section: each assessment with its frozen KPIs, and
    the latest complete month's KPIs it is compared with (as on the page)."""
    from perfplat.publishing.changes import service_changes_json

    assessments = service_changes_json(result.service)
    if not assessments:
        return {"assessments": [], "now": None}
    latest = result.latest
    if result.kind != MONTH:
        latest = figures.service_kpis(result.service, MONTH, figures.now(), only_latest=True)[-1]
    return {"assessments": assessments, "now": schemas.period_json(latest)}


def dashboard_csv(result: Dashboard) -> str:
    """The KPI tiles' figures (the KPI API's CSV, latest period)."""
    return schemas.service_csv(ServiceKpis(result.service, result.kind, (result.latest,)))


def module_links(slug: str, module: ModuleView) -> dict | None:
    if not module.has_data and module.kind != KPIS:
        return None
    base = f"/services/{slug}/modules/{module.number}"
    return {"csv": f"{base}.csv", "json": f"{base}.json"}


def kpi_tiles_json(result: Dashboard) -> dict:
    """Module 1, the KPI tiles, as data: the figures of the latest complete period."""
    tiles = result.modules[0]
    return {
        "number": tiles.number,
        "kind": tiles.kind,
        "title": tiles.title,
        "period": result.kind,
        "kpis": schemas.period_json(result.latest),
        "revisions": {
            kpi: {"revised_on": revision.made_at.isoformat(), "correction": revision.url}
            for kpi, revision in result.revisions.items()
        },
    }


def module_of(result: Dashboard, number: int) -> ModuleView:
    """The module a reader knows by `number` (1: the KPI tiles), or NotFound."""
    if not 1 <= number <= len(result.modules):
        raise NotFound(f"The dashboard of {result.service.slug!r} has no module {number}")
    return result.modules[number - 1]


def dashboard_module(slug: str, number: int, moment: int) -> ModuleView:
    """One data module of the published dashboard, for its CSV and JSON downloads."""
    module = module_of(dashboard(slug, moment), number)
    if not module.has_data:
        raise NotFound(f"The dashboard of {slug!r} has no data module {number}")
    return module
