"""The Service Standard readiness report (SPEC section 8): for a service's phase, each thing the
standard asks of its performance reporting, met or not, with the evidence or what to do next.

Everything is computed from the platform's own state (the metric catalogue and its support
verdicts, the data sets and how their records arrived, the dashboard's versions, the KPIs, the
assessment snapshots); nothing is typed in. A phase's items include the earlier phases' items.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.urls import reverse

from perfplat.dashboards.content import baseline_period, baseline_text
from perfplat.dashboards.models import DashboardVersion
from perfplat.dashboards.services import published_version, working_version
from perfplat.datasets.models import Record
from perfplat.datasets.services import NO_DATA
from perfplat.kpis import maths
from perfplat.kpis import services as kpi_services
from perfplat.kpis.periods import MONTH
from perfplat.metrics.services import metric_sources
from perfplat.public.formatting import KPI_LABELS, TILE_KPIS, kpi_value, period_label

from .changes import day_text
from .models import AssessmentSnapshot

ALPHA, BETA, LIVE = "alpha", "beta", "live"
# What the standard asks at each phase; a retired service was last assessed as live.
PHASE_RANK = {"discovery": 0, ALPHA: 1, BETA: 2, LIVE: 3, "retired": 3}
ITEM_PHASES = (ALPHA, BETA, LIVE)
MET, NOT_MET = "met", "not met"


@dataclass(frozen=True)
class Evidence:
    text: str
    href: str = ""


@dataclass(frozen=True)
class Item:
    key: str  # stable: "beta.published"
    phase: str  # the phase whose assessment first asks for it
    title: str
    met: bool
    evidence: tuple[Evidence, ...]
    next_step: str  # what to do; "" when met
    required: bool  # asked at the service's phase

    @property
    def status(self) -> str:
        return MET if self.met else NOT_MET


@dataclass(frozen=True)
class Report:
    service: object
    phase: str
    computed_at: datetime
    items: tuple[Item, ...]  # every phase's items; `required` marks the service phase's

    @property
    def required(self) -> list[Item]:
        return [item for item in self.items if item.required]

    @property
    def upcoming(self) -> list[Item]:
        """Items of later phases, for the team to prepare."""
        return [item for item in self.items if not item.required]

    @property
    def met_count(self) -> int:
        return sum(1 for item in self.required if item.met)

    @property
    def ready(self) -> bool:
        return all(item.met for item in self.required)

    @property
    def next_step(self) -> str:
        return next((item.next_step for item in self.required if not item.met), "")


def _day(value) -> str:
    return day_text(value) if value else ""


def current_version(service) -> DashboardVersion | None:
    """The version the team is working on, else the published one, else the latest."""
    return (
        working_version(service)
        or published_version(service)
        or DashboardVersion.objects.filter(dashboard__service=service).order_by("-number").first()
    )


def kpi_data_sets(service) -> dict:
    """The service's data set of each standard KPI type, published or not (the KPI API's rule
    for choosing between two of a type: the one in the service's own data group)."""
    found = {}
    candidates = [d for d in service.data_sets.all() if d.data_type in maths.SOURCES]
    for data_set in sorted(
        candidates, key=lambda d: (d.data_group != service.slug, d.data_group, d.pk)
    ):
        found.setdefault(data_set.data_type, data_set)
    return found


class _Facts:
    """What the items are judged on, read once."""

    def __init__(self, service, now: int):
        self.service = service
        self.now = now
        self.metrics = list(service.metrics.select_related("data_set").order_by("name", "pk"))
        self.sources = metric_sources(self.metrics, datetime.fromtimestamp(now, UTC))
        self.version = current_version(service)
        self.published = published_version(service)
        self.snapshots = list(
            AssessmentSnapshot.objects.filter(service=service).order_by("assessed_on", "pk")
        )
        self.kpi_data_sets = kpi_data_sets(service)

    @property
    def content(self) -> dict:
        return self.version.content if self.version else {}


def _service_url(service) -> str:
    return reverse("service", args=[service.slug])


def _editor_url(service) -> str:
    return reverse("publishing:editor", args=[service.slug])


def _metric_url(metric) -> str:
    # The metric catalogue's twin in the management API (signed-in users can open it).
    return f"/api/metrics/{metric.pk}"


def _data_set_url(data_set) -> str:
    return reverse("manage-data-set", args=[data_set.pk])


# alpha


def _registered(facts: _Facts) -> tuple:
    service = facts.service
    return (
        True,
        [
            Evidence(
                f"Registered on {_day(service.created_at)} by {service.organisation}",
                _service_url(service),
            )
        ],
        "",
    )


def _metrics_planned(facts: _Facts) -> tuple:
    if not facts.metrics:
        return (
            False,
            [],
            "Add the metrics the team will measure to the service's metric catalogue, with the "
            "data set type and fields each will use",
        )
    count = len(facts.metrics)
    return (
        True,
        [Evidence(f"{count} metric{'s' if count != 1 else ''} in the catalogue")]
        + [Evidence(metric.name, _metric_url(metric)) for metric in facts.metrics],
        "",
    )


def _metrics_supported(facts: _Facts) -> tuple:
    if not facts.metrics:
        return False, [], "Plan the metrics first, then check that the platform supports each"
    evidence, unchecked, unsupported = [], [], []
    for metric in facts.metrics:
        if metric.support == "supported":
            text = f"{metric.name}: supported (checked {_day(metric.support_checked_at)})"
        elif metric.support == "unsupported":
            unsupported.append(metric.name)
            problems = "; ".join(metric.support_problems) or "no reason given"
            text = f"{metric.name}: not supported: {problems}"
        else:
            unchecked.append(metric.name)
            text = f"{metric.name}: not checked yet"
        evidence.append(Evidence(text, _metric_url(metric)))
    steps = []
    if unchecked:
        steps.append(f"Check {', '.join(unchecked)} (“Check the metrics” on this page)")
    if unsupported:
        steps.append(
            f"Fix {', '.join(unsupported)}: change the metric's type, fields or query so that "
            "the platform can support it, then check again"
        )
    return not steps, evidence, ". ".join(steps)


# beta


def _dashboard_exists(facts: _Facts) -> tuple:
    version = facts.version
    if version is None:
        return False, [], "Start the service's dashboard in the dashboard editor"
    text = f"Version {version.number} ({version.get_state_display().lower()})"
    return True, [Evidence(text, _editor_url(facts.service))], ""


def _records_between(data_set, start: date, end: date) -> int:
    first = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    last = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp()) + 86400
    return Record.objects.filter(
        data_set=data_set, timestamp__gte=first, timestamp__lt=last
    ).count()


def _baseline_data(facts: _Facts) -> tuple:
    if facts.version is None:
        return False, [], "Start the dashboard, then choose its baseline period"
    period = baseline_period(facts.content.get("baseline"))
    if period is None:
        return (
            False,
            [],
            "Choose the baseline period in the dashboard's details: the period the team "
            "measures change from",
        )
    evidence = [Evidence(f"Baseline: {baseline_text(facts.content['baseline'])}")]
    steps = []
    for data_type in maths.SOURCES:
        data_set = facts.kpi_data_sets.get(data_type)
        if data_set is None:
            steps.append(f"Create a {data_type} data set and send its baseline records")
            evidence.append(Evidence(f"No {data_type} data set"))
            continue
        count = _records_between(data_set, *period)
        plural = "record" if count == 1 else "records"
        evidence.append(
            Evidence(
                f"{data_set}: {count:,} {plural} in the baseline period", _data_set_url(data_set)
            )
        )
        if not count:
            steps.append(f"Send {data_set} its records for the baseline period")
    return not steps, evidence, ". ".join(steps)


def _described(name: str, label: str, step: str):
    def judge(facts: _Facts) -> tuple:
        if facts.version is None:
            return False, [], f"Start the dashboard, then {step}"
        text = (facts.content.get(name) or "").strip()
        if not text:
            return False, [], f"In the dashboard's details, {step}"
        shown = text if len(text) <= 200 else text[:199] + "…"
        where = f"{label} (version {facts.version.number}): {shown}"
        return True, [Evidence(where, _editor_url(facts.service))], ""

    return judge


def _metric_sources(facts: _Facts) -> tuple:
    if not facts.metrics:
        return False, [], "Add metrics and send their data"
    evidence, steps = [], []
    for metric in facts.metrics:
        if metric.data_set is None:
            evidence.append(Evidence(f"{metric.name}: no data set yet", _metric_url(metric)))
            steps.append(f"Connect {metric.name} to the data set its numbers come from")
            continue
        source = facts.sources.get(metric.pk, NO_DATA)
        if source == NO_DATA:
            evidence.append(
                Evidence(
                    f"{metric.name}: no data arrived in {metric.data_set} in the last 90 days",
                    _data_set_url(metric.data_set),
                )
            )
            steps.append(f"Send data to {metric.data_set} (by the API or a spreadsheet upload)")
        else:
            evidence.append(
                Evidence(
                    f"{metric.name}: {source} ({metric.data_set})", _data_set_url(metric.data_set)
                )
            )
    return not steps, evidence, ". ".join(dict.fromkeys(steps))


def _published(facts: _Facts) -> tuple:
    version = facts.published
    if version is None:
        return (
            False,
            [],
            "Submit the dashboard for review; an organisation admin approves and publishes it",
        )
    text = f"Version {version.number}, published {_day(version.published_at)}"
    return True, [Evidence(text, f"/services/{facts.service.slug}")], ""


# live


def _kpis_computed(facts: _Facts) -> tuple:
    latest = kpi_services.service_kpis(facts.service, MONTH, now=facts.now).latest
    when = period_label(latest.period)
    evidence, missing = [], []
    for name in TILE_KPIS:
        kpi = latest.get(name)
        label = KPI_LABELS[name]
        if kpi is None or kpi.value is None:
            reason = kpi.not_enough_data if kpi else "not computed"
            evidence.append(Evidence(f"{label}, {when}: not enough data ({reason})"))
            missing.append(label.lower())
        else:
            evidence.append(Evidence(f"{label}, {when}: {kpi_value(name, kpi.value)}"))
    if facts.published is not None:
        evidence.append(Evidence("The KPI API", f"/api/services/{facts.service.slug}/kpis"))
    if missing:
        return (
            False,
            evidence,
            f"Send and publish {when}'s data for: {', '.join(missing)}",
        )
    return True, evidence, ""


def _rationales(facts: _Facts) -> tuple:
    others = [metric for metric in facts.metrics if not metric.kpi]
    if not others:
        return True, [Evidence("The catalogue has no metrics besides the four KPIs")], ""
    evidence, without = [], []
    for metric in others:
        if metric.rationale.strip():
            evidence.append(
                Evidence(f"{metric.name}: {metric.rationale.strip()}", _metric_url(metric))
            )
        else:
            evidence.append(Evidence(f"{metric.name}: no rationale", _metric_url(metric)))
            without.append(metric.name)
    if without:
        return False, evidence, f"Say why the team measures {', '.join(without)}"
    return True, evidence, ""


def _evolution(facts: _Facts) -> tuple:
    if not facts.snapshots:
        return (
            False,
            [],
            "An organisation admin records the service's assessment; then the team writes how "
            "the service has evolved since the previous one",
        )
    latest = facts.snapshots[-1]
    href = reverse("publishing:assessment", args=[latest.pk])
    name = f"{latest.get_phase_display()} assessment of {_day(latest.assessed_on)}"
    if not latest.evolution.strip():
        return (
            False,
            [Evidence(name, href)],
            f"Write how the service has evolved since the previous assessment, on the {name}",
        )
    return True, [Evidence(f"{name}: the team's note is written", href)], ""


ITEMS = (
    ("alpha.registered", ALPHA, "The service is registered", _registered),
    ("alpha.metrics-planned", ALPHA, "Its metrics are planned", _metrics_planned),
    (
        "alpha.metrics-supported",
        ALPHA,
        "Each metric is checked: the platform can support it",
        _metrics_supported,
    ),
    ("beta.dashboard", BETA, "A dashboard exists", _dashboard_exists),
    ("beta.baseline", BETA, "The dashboard has baseline data for the KPIs", _baseline_data),
    (
        "beta.audience",
        BETA,
        "The dashboard says who uses the service",
        _described("audience", "Who uses the service", "say who uses the service"),
    ),
    (
        "beta.usage",
        BETA,
        "The dashboard says how it is used",
        _described("usage", "How the dashboard is used", "say how the dashboard is used"),
    ),
    (
        "beta.sources",
        BETA,
        "Each metric is marked manual or automatic, from how its data arrived",
        _metric_sources,
    ),
    ("beta.published", BETA, "The dashboard is published", _published),
    (
        "live.kpis",
        LIVE,
        "All four KPIs are computed for the latest complete month",
        _kpis_computed,
    ),
    ("live.rationales", LIVE, "Every other metric has a rationale", _rationales),
    (
        "live.evolution",
        LIVE,
        "How the service has evolved since the previous assessment is written",
        _evolution,
    ),
)


def readiness(service, now: int | None = None) -> Report:
    """The service's readiness report, from the platform's state at `now` (epoch seconds)."""
    now = kpi_services.current_time() if now is None else now
    facts = _Facts(service, now)
    rank = PHASE_RANK.get(service.phase, 0)
    items = []
    for key, phase, title, judge in ITEMS:
        met, evidence, next_step = judge(facts)
        items.append(
            Item(
                key=key,
                phase=phase,
                title=title,
                met=met,
                evidence=tuple(evidence),
                next_step="" if met else next_step,
                required=PHASE_RANK[phase] <= rank,
            )
        )
    return Report(service, service.phase, datetime.fromtimestamp(now, UTC), tuple(items))


def report_json(report: Report) -> dict:
    service = report.service
    return {
        "service": {
            "slug": service.slug,
            "name": service.name,
            "organisation": service.organisation.slug,
            "phase": service.phase,
        },
        "computed_at": report.computed_at.isoformat(),
        "ready": report.ready,
        "met": report.met_count,
        "required": len(report.required),
        "items": [
            {
                "key": item.key,
                "phase": item.phase,
                "title": item.title,
                "required": item.required,
                "status": item.status,
                "met": item.met,
                "evidence": [{"text": e.text, "href": e.href or None} for e in item.evidence],
                "next_step": item.next_step or None,
            }
            for item in report.items
        ],
    }


def organisation_readiness(user, organisation, now: int | None = None) -> list[Report]:
    """The readiness of every service of the organisation and the bodies under it that the
    user works on."""
    from perfplat.registry.services import services_visible_to

    services = (
        services_visible_to(user)
        .filter(organisation_id__in=organisation.descendant_ids())
        .prefetch_related("data_sets")
        .order_by("name")
    )
    now = kpi_services.current_time() if now is None else now
    return [readiness(service, now) for service in services]
