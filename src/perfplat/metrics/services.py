"""The metric catalogue, and the alpha "can the platform support these metrics" check.

The support check dry-runs the real pieces: the standard type's schema and the write path's
record validation (datasets.writes.validate_records) for sample data, and the read API's query
parser for the aggregation. Nothing is written.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from perfplat.accounts.permissions import check
from perfplat.audit.services import record, snapshot
from perfplat.datasets.periods import PERIODS
from perfplat.datasets.queries import parse_query
from perfplat.datasets.types import TYPES
from perfplat.datasets.writes import key_problem, validate_records
from perfplat.errors import Conflict, InvalidQuery, InvalidRecords, InvalidRequest

from .models import Metric

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")
METRIC_FIELDS = [
    "slug",
    "name",
    "description",
    "unit",
    "rationale",
    "data_set",
    "query",
    "period",
    "kpi",
    "planned_type",
    "planned_fields",
    "planned_data_period",
]
# Each KPI and the standard type whose data it needs.
KPI_TYPES = {
    Metric.COST_PER_TRANSACTION: ("cost", "transactions-by-channel"),
    Metric.USER_SATISFACTION: ("user-satisfaction",),
    Metric.COMPLETION_RATE: ("completion",),
    Metric.DIGITAL_TAKE_UP: ("transactions-by-channel",),
}
# How long each period is, to tell whether data recorded per one period can give another.
_PERIOD_ORDER = {period: index for index, period in enumerate(PERIODS)}


# support check


@dataclass(frozen=True)
class PlannedMetric:
    """A metric a team plans, as it describes it at alpha."""

    name: str
    data_set_type: str = ""  # a standard type, or "" for free-form data
    fields: tuple[str, ...] = ()
    period: str = "month"
    # The period the data will be recorded in (week, month, ...); "" when unknown.
    data_period: str = ""
    query: str = ""  # a read API query, e.g. "collect=count:sum&group_by=channel"
    sample_records: tuple[dict, ...] = ()
    kpi: str = ""
    # When the sample came from a spreadsheet (metrics.plans.read_sample): the row each sample
    # record came from, so problems name the row people see, and the problems found reading
    # the file itself (a date that is not a date, a column missing).
    sample_rows: tuple[int, ...] = ()
    sample_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    name: str
    supported: bool
    problems: list[str] = field(default_factory=list)


def _query_params(query: str) -> dict[str, list[str]]:
    return parse_qs(query, keep_blank_values=True)


def check_support(planned: PlannedMetric) -> Verdict:
    """Whether the platform can hold and compute a planned metric; every problem if not."""
    problems: list[str] = []
    data_set_type = None
    if planned.data_set_type:
        data_set_type = TYPES.get(planned.data_set_type)
        if data_set_type is None:
            problems.append(
                f"unknown data set type {planned.data_set_type!r}: use one of "
                f"{', '.join(TYPES)}, or none for free-form data"
            )
    if planned.kpi:
        needed = KPI_TYPES.get(planned.kpi)
        if needed is None:
            problems.append(f"unknown KPI {planned.kpi!r}: use one of {', '.join(KPI_TYPES)}")
        elif planned.data_set_type and planned.data_set_type not in needed:
            problems.append(
                f"the KPI {planned.kpi} is computed from {' and '.join(needed)} data, "
                f"not {planned.data_set_type}"
            )
    for name in planned.fields:
        problem = key_problem(name) if isinstance(name, str) else "a field name must be text"
        if problem:
            problems.append(problem)
        elif data_set_type is not None and data_set_type.field(name) is None:
            known = ", ".join(spec.name for spec in data_set_type.fields)
            problems.append(
                f"missing field: {name!r} is not part of the {data_set_type.slug} type "
                f"(its fields are {known})"
            )
    if planned.period not in PERIODS:
        problems.append(f"period must be one of {', '.join(PERIODS)}, not {planned.period!r}")
    elif planned.data_period:
        if planned.data_period not in PERIODS:
            problems.append(f"the data period {planned.data_period!r} is not a period")
        elif _PERIOD_ORDER[planned.data_period] > _PERIOD_ORDER[planned.period]:
            problems.append(
                f"a {planned.period}ly figure cannot be computed from data recorded per "
                f"{planned.data_period}"
            )
    if planned.query:
        try:
            parse_query(_query_params(planned.query), raw_queries_allowed=False, now=0)
        except InvalidQuery as error:
            problems.append(f"the query cannot run: {error.message}")
        numeric = _summed_fields(planned.query)
        if data_set_type is not None:
            for name in numeric:
                spec = data_set_type.field(name)
                if spec is None or spec.type == "string":
                    problems.append(f"the query adds up {name!r}, which is not a number field")
    problems.extend(f"sample data would be rejected: {p}" for p in sample_problems(planned))
    return Verdict(planned.name, not problems, problems)


def sample_problems(planned: PlannedMetric) -> list[str]:
    """What is wrong with a planned metric's sample data: the problems found reading its file,
    then every problem the write path finds in its records (validated as a write to a data set
    of the planned type would be), each named by its spreadsheet row when it came from one."""
    found = list(planned.sample_problems)
    if not planned.sample_records:
        return found
    data_set_type = TYPES.get(planned.data_set_type)
    auto_ids = list(data_set_type.auto_ids) if data_set_type else None
    try:
        validate_records(list(planned.sample_records), auto_ids, data_set_type)
    except InvalidRecords as error:
        record_problems = getattr(error, "problems", None)
        if not (planned.sample_rows and record_problems):
            found.extend(error.messages or [error.message])
        else:
            found.extend(
                f"row {planned.sample_rows[p.index]}: {p.message}" for p in record_problems
            )
    return found


def _summed_fields(query: str) -> list[str]:
    fields_ = []
    for value in _query_params(query).get("collect", []):
        name, _, method = value.partition(":")
        if method in ("sum", "mean"):
            fields_.append(name)
    return fields_


def check_plan(planned: list[PlannedMetric]) -> list[Verdict]:
    return [check_support(metric) for metric in planned]


# the catalogue


def _clean(changes: dict, service) -> dict:
    from perfplat.datasets.models import DataSet

    clean = {}
    if "slug" in changes:
        if not isinstance(changes["slug"], str) or not SLUG.fullmatch(changes["slug"]):
            raise InvalidRequest(
                "Enter a slug of lower-case letters, digits and hyphens", field="slug"
            )
        clean["slug"] = changes["slug"]
    for name, label, limit in (
        ("name", "Name", 200),
        ("description", "Description", 5000),
        ("unit", "Unit", 50),
        ("rationale", "Rationale", 5000),
        ("query", "Query", 500),
        ("planned_type", "Planned type", 50),
    ):
        if name in changes:
            value = changes[name] or ""
            if not isinstance(value, str) or len(value) > limit:
                raise InvalidRequest(
                    f"{label} must be text of {limit} characters or fewer", field=name
                )
            clean[name] = value.strip()
    if "name" in clean and not clean["name"]:
        raise InvalidRequest("Enter the name of the metric", field="name")
    if "period" in changes:
        if changes["period"] not in PERIODS:
            raise InvalidRequest(f"Period must be one of {', '.join(PERIODS)}", field="period")
        clean["period"] = changes["period"]
    if "planned_data_period" in changes:
        data_period = changes["planned_data_period"] or ""
        if data_period and data_period not in PERIODS:
            raise InvalidRequest(
                f"The data period must be one of {', '.join(PERIODS)}, or empty when not known",
                field="planned_data_period",
            )
        clean["planned_data_period"] = data_period
    if "kpi" in changes:
        kpi = changes["kpi"] or ""
        if kpi and kpi not in KPI_TYPES:
            raise InvalidRequest(
                f"KPI must be one of {', '.join(KPI_TYPES)}, or empty", field="kpi"
            )
        clean["kpi"] = kpi
    if "planned_fields" in changes:
        names = changes["planned_fields"] or []
        if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
            raise InvalidRequest(
                "Planned fields must be a list of field names", field="planned_fields"
            )
        clean["planned_fields"] = list(names)
    if "data_set" in changes:
        data_set = changes["data_set"]
        if data_set is not None and not isinstance(data_set, DataSet):
            data_set = DataSet.objects.filter(pk=data_set).first()
            if data_set is None:
                raise InvalidRequest("There is no such data set", field="data_set")
        if data_set is not None and data_set.service_id != service.pk:
            raise InvalidRequest("The data set must belong to the same service", field="data_set")
        clean["data_set"] = data_set
    if "query" in clean and clean["query"]:
        try:
            parse_query(_query_params(clean["query"]), raw_queries_allowed=True, now=0)
        except InvalidQuery as error:
            raise InvalidRequest(f"The query cannot run: {error.message}", field="query")
    return clean


def _saved(metric: Metric) -> None:
    try:
        with transaction.atomic():
            metric.save()
    except IntegrityError:
        raise Conflict(f"The service already has a metric {metric.slug!r}", field="slug")


def create_metric(actor, service, **fields) -> Metric:
    check(actor, "service.edit", service)
    fields.setdefault("slug", "")
    fields.setdefault("name", "")
    clean = _clean(fields, service)
    with transaction.atomic():
        metric = Metric(service=service, **clean)
        _saved(metric)
        record(
            actor,
            "metric.create",
            metric,
            None,
            snapshot(metric, METRIC_FIELDS),
            service=service,
            organisation=service.organisation,
        )
    return metric


def update_metric(actor, metric: Metric, **changes) -> Metric:
    check(actor, "service.edit", metric.service)
    clean = _clean(changes, metric.service)
    with transaction.atomic():
        before = snapshot(metric, METRIC_FIELDS)
        for name, value in clean.items():
            setattr(metric, name, value)
        _saved(metric)
        recheck_support([metric])
        record(
            actor,
            "metric.update",
            metric,
            before,
            snapshot(metric, METRIC_FIELDS),
            service=metric.service,
            organisation=metric.service.organisation,
        )
    return metric


def delete_metric(actor, metric: Metric) -> None:
    check(actor, "service.edit", metric.service)
    with transaction.atomic():
        record(
            actor,
            "metric.delete",
            metric,
            snapshot(metric, METRIC_FIELDS),
            None,
            service=metric.service,
            organisation=metric.service.organisation,
        )
        metric.delete()


def planned_metric_of(metric: Metric, sample_records=()) -> PlannedMetric:
    """The catalogued metric as a plan to check. Once it reads a data set, that data set's type
    is the one that counts (the plan's type is what it was meant to be)."""
    data_set_type = metric.planned_type
    if metric.data_set is not None:
        data_set_type = metric.data_set.standard_type
    return PlannedMetric(
        name=metric.name,
        data_set_type=data_set_type,
        fields=tuple(metric.planned_fields),
        period=metric.period,
        data_period=metric.planned_data_period,
        query=metric.query,
        sample_records=tuple(sample_records),
        kpi=metric.kpi,
    )


def data_set_problems(metric: Metric) -> list[str]:
    """What stops the data set a catalogued metric reads from giving it: a type other than
    the one the metric was planned with, or no standard type for a KPI (the KPIs read only
    data sets of their standard types)."""
    data_set = metric.data_set
    if data_set is None:
        return []
    problems = []
    kind = (
        f"a data set of the type {data_set.standard_type}"
        if data_set.standard_type
        else "a free-form data set"
    )
    if metric.planned_type and metric.planned_type != data_set.standard_type:
        problems.append(
            f"it was planned with {metric.planned_type} data, but reads {data_set}, {kind}"
        )
    if metric.kpi and not data_set.standard_type:
        needed = " or ".join(KPI_TYPES.get(metric.kpi, ()))
        problems.append(
            f"the KPI {metric.kpi} is computed from data sets of the standard type {needed}; "
            f"{data_set} has no standard type, so the KPIs do not read it"
        )
    return problems


def support_of(metric: Metric, sample_records=()) -> Verdict:
    """Whether the platform can support a catalogued metric as it now is: the support check of
    its plan, and of the data set it reads."""
    verdict = check_support(planned_metric_of(metric, sample_records))
    problems = verdict.problems + data_set_problems(metric)
    return Verdict(verdict.name, not problems, problems)


def _keep_verdict(metric: Metric, verdict: Verdict) -> None:
    # Only these columns (and the object in hand), so a concurrent edit is not undone.
    kept = {
        "support": "supported" if verdict.supported else "unsupported",
        "support_problems": verdict.problems,
        "support_checked_at": timezone.now(),
    }
    Metric.objects.filter(pk=metric.pk).update(**kept)
    for name, value in kept.items():
        setattr(metric, name, value)


def record_support(
    actor, metric: Metric, sample_records=(), planned: PlannedMetric | None = None
) -> Verdict:
    """Check a catalogued metric and keep the verdict on it (readiness reads it). `planned`,
    the plan the metric was saved from (with its sample data), is checked instead of the
    catalogue entry when given, so the verdict kept is the one the team saw."""
    check(actor, "service.edit", metric.service)
    verdict = check_support(planned) if planned is not None else support_of(metric, sample_records)
    _keep_verdict(metric, verdict)
    return verdict


def check_catalogue(actor, service) -> list[tuple[Metric, Verdict]]:
    """Check every metric of the service's catalogue again and keep each verdict."""
    check(actor, "service.edit", service)
    metrics = list(service.metrics.select_related("data_set", "service").order_by("name", "pk"))
    with transaction.atomic():
        return [(metric, record_support(actor, metric)) for metric in metrics]


def recheck_support(metrics) -> None:
    """Check again the metrics that have a verdict, after a change to them or to the data set
    they read, so that a kept "supported" never outlives what made it true. (The check is of
    the catalogue entry: a sample file's problems, seen when the metric was planned, are not
    kept, as with "Check the metrics".) Metrics never checked stay "not checked yet"."""
    for metric in metrics:
        if metric.support:
            _keep_verdict(metric, support_of(metric))


def slug_for(name: str) -> str:
    """A metric's slug made from its name: "Cost per transaction" -> "cost-per-transaction"."""
    return slugify(name.replace("_", " "))[:100].strip("-") or "metric"


def save_plan(actor, service, planned: list[PlannedMetric]) -> list[Metric]:
    """Add planned metrics to the service's catalogue, each with its support check verdict
    (record_support), all of them or none. A metric's slug is made from its name."""
    check(actor, "service.edit", service)
    saved = []
    with transaction.atomic():
        for plan in planned:
            try:
                metric = create_metric(
                    actor,
                    service,
                    slug=slug_for(plan.name),
                    name=plan.name,
                    planned_type=plan.data_set_type,
                    planned_fields=list(plan.fields),
                    period=plan.period,
                    planned_data_period=plan.data_period,
                    query=plan.query,
                    kpi=plan.kpi,
                )
            except (InvalidRequest, Conflict) as error:
                raise type(error)(f"{plan.name}: {error.message}", field="metrics")
            record_support(actor, metric, planned=plan)
            metric.refresh_from_db()
            saved.append(metric)
    return saved


def metric_sources(metrics, now=None) -> dict[int, str]:
    """Each metric's source (manual, automatic, mixed, no data) from how its data set's data
    arrived in the last 90 days."""
    from perfplat.datasets.services import NO_DATA, sources_of

    data_sets = {m.data_set for m in metrics if m.data_set_id}
    by_data_set = sources_of(list(data_sets), now) if data_sets else {}
    return {m.pk: by_data_set.get(m.data_set_id, NO_DATA) for m in metrics}
