"""What the readiness items are judged with: the judgement of an item (met, not met, not
applicable) with its evidence and next steps, the facts read once per report, the evidence of
baseline data (records the KPIs use), and the pages that do each next step.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.urls import reverse

from perfplat.dashboards.models import DashboardVersion
from perfplat.dashboards.services import published_version, working_version
from perfplat.datasets.models import DataSet
from perfplat.kpis import maths
from perfplat.kpis.services import data_set_use
from perfplat.metrics.services import metric_sources

from .changes import day_text

ALPHA, BETA, LIVE, RETIRED = "alpha", "beta", "live", "retired"
MET, NOT_MET, NOT_APPLICABLE = "met", "not met", "not applicable"


@dataclass(frozen=True)
class Evidence:
    text: str
    href: str = ""


@dataclass(frozen=True)
class Step:
    """Something to do next, and the page that does it."""

    text: str
    href: str


@dataclass(frozen=True)
class Judgement:
    status: str  # MET, NOT_MET or NOT_APPLICABLE
    evidence: tuple[Evidence, ...] = ()
    steps: tuple[Step, ...] = ()  # what to do next, when not met
    reason: str = ""  # why the item does not apply, when it does not


def met(*evidence: Evidence) -> Judgement:
    return Judgement(MET, tuple(evidence))


def not_met(evidence, *steps: Step) -> Judgement:
    # The same step asked twice (say, for two metrics reading one data set) is said once.
    return Judgement(NOT_MET, tuple(evidence), tuple(dict.fromkeys(steps)))


def not_applicable(reason: str) -> Judgement:
    return Judgement(NOT_APPLICABLE, reason=reason)


def current_version(service) -> DashboardVersion | None:
    """The version the team is working on, else the published one, else the latest."""
    return (
        working_version(service)
        or published_version(service)
        or DashboardVersion.objects.filter(dashboard__service=service).order_by("-number").first()
    )


def kpi_data_sets(service) -> dict[str, DataSet]:
    """The service's data set of each KPI standard type (chosen by `standard_type`, never by
    name): the one the KPIs read (published; the service's own data group first), else an
    unpublished one for the team to publish."""
    found: dict[str, DataSet] = {}
    candidates = [d for d in service.data_sets.all() if d.standard_type in maths.SOURCES]
    for data_set in sorted(
        candidates,
        key=lambda d: (not d.published, d.data_group != service.slug, d.data_group, d.pk),
    ):
        found.setdefault(data_set.standard_type, data_set)
    return found


def kpi_records_between(data_set: DataSet, first: date, last: date) -> int:
    """How many records of `data_set` the KPIs use for the days `first` to `last` (inclusive):
    the readiness report's evidence of baseline data. The KPI engine decides
    (`kpis.services.data_set_use`): only a published data set of a KPI standard type counts,
    and of its records those the KPIs add up (a period they know, a channel where needed) that
    describe some of those days."""
    if not data_set.published or data_set.standard_type not in maths.SOURCES:
        return 0
    return data_set_use(data_set, first, last).records


class Facts:
    """What the items are judged on, read once."""

    def __init__(self, service, now: int):
        self.service = service
        self.now = now
        self.metrics = list(service.metrics.select_related("data_set").order_by("name", "pk"))
        self.sources = metric_sources(self.metrics, datetime.fromtimestamp(now, UTC))
        self.version = current_version(service)
        self.published = published_version(service)
        self.kpi_data_sets = kpi_data_sets(service)

    @property
    def content(self) -> dict:
        return self.version.content if self.version else {}


def day(value) -> str:
    return day_text(value) if value else ""


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


# the pages that do things


def service_url(service) -> str:
    return reverse("service", args=[service.slug])


def editor_url(service) -> str:
    return reverse("publishing:editor", args=[service.slug])


def details_step(facts, what: str) -> Step:
    """A change to the dashboard's details: on the details page of the draft, or, with no
    draft to change, in the editor, which starts one."""
    service = facts.service
    if facts.version is not None and facts.version.state == DashboardVersion.DRAFT:
        return Step(
            f"In the dashboard's details, {what}",
            reverse("publishing:details", args=[service.slug]),
        )
    return Step(
        f"In the dashboard editor, start a new draft, then in its details {what}",
        editor_url(service),
    )


def metric_url(metric) -> str:
    # The metric catalogue's twin in the management API (signed-in users can open it).
    return f"/api/metrics/{metric.pk}"


def metric_edit_url(metric) -> str:
    return reverse("metrics:edit", args=[metric.pk])


def data_set_url(data_set) -> str:
    return reverse("manage-data-set", args=[data_set.pk])


def data_set_edit_url(data_set) -> str:
    return reverse("data-set-edit", args=[data_set.pk])


def new_data_set_url(service) -> str:
    return reverse("data-set-new", args=[service.slug])


def upload_url(data_set) -> str:
    return reverse("uploads:new", args=[data_set.pk])


def send_step(data_set, what: str) -> Step:
    return Step(
        f"Send {data_set} {what} (upload a spreadsheet, or write them with its token)",
        upload_url(data_set),
    )


def create_step(service, data_type: str, what: str) -> Step:
    return Step(
        f"Create a data set of the standard type {data_type} and send {what}",
        new_data_set_url(service),
    )


def publish_step(data_set) -> Step:
    return Step(
        f"Publish {data_set} (in its settings): the KPIs read only published data",
        data_set_edit_url(data_set),
    )


def public_url(service) -> str:
    return reverse("public-service", args=[service.slug])
