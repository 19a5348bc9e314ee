"""What the readiness report asks (SPEC section 8) and how each item is judged, from the
platform's own state: the metric catalogue and its support verdicts, the data sets and how their
records arrived, the dashboard's versions, the KPIs, the assessments and the evolution note.

Each judge returns a Judgement: met (with its evidence), not met (with the evidence and the next
steps, each linking to the page that does it) or not applicable (with why). Nothing is met on
nothing: an item about things the service has none of is not met, or does not apply and says why.
"""

from django.urls import reverse

from perfplat.dashboards.content import baseline_period, baseline_text
from perfplat.dashboards.models import DashboardVersion
from perfplat.datasets.services import NO_DATA
from perfplat.kpis import maths
from perfplat.kpis import services as kpi_services
from perfplat.kpis.periods import MONTH
from perfplat.public.formatting import KPI_LABELS, TILE_KPIS, kpi_value, period_label

from .assessments import earlier_assessment, evolution_note
from .readiness_facts import (
    ALPHA,
    BETA,
    LIVE,
    RETIRED,
    Evidence,
    Facts,
    Judgement,
    Step,
    create_step,
    data_set_edit_url,
    data_set_url,
    day,
    details_step,
    editor_url,
    kpi_records_between,
    met,
    metric_edit_url,
    metric_url,
    not_applicable,
    not_met,
    plural,
    public_url,
    publish_step,
    send_step,
    service_url,
)

# alpha


def _registered(facts: Facts) -> Judgement:
    service = facts.service
    return met(
        Evidence(
            f"Registered on {day(service.created_at)} by {service.organisation}",
            service_url(service),
        )
    )


def _plan_step(service) -> Step:
    return Step(
        "Plan the metrics the team will measure, with the data set type and fields each will "
        "use, and check them",
        reverse("metrics:check", args=[service.slug]),
    )


def _metrics_planned(facts: Facts) -> Judgement:
    if not facts.metrics:
        return not_met([Evidence("The metric catalogue is empty")], _plan_step(facts.service))
    return met(
        Evidence(f"{plural(len(facts.metrics), 'metric')} in the catalogue"),
        *(Evidence(metric.name, metric_url(metric)) for metric in facts.metrics),
    )


def _metrics_supported(facts: Facts) -> Judgement:
    if not facts.metrics:
        return not_met([Evidence("No metric to check")], _plan_step(facts.service))
    evidence, unchecked, steps = [], [], []
    for metric in facts.metrics:
        if metric.support == "supported":
            text = f"{metric.name}: supported (checked {day(metric.support_checked_at)})"
        elif metric.support == "unsupported":
            problems = "; ".join(metric.support_problems) or "no reason given"
            text = f"{metric.name}: not supported: {problems}"
            steps.append(
                Step(
                    f"Change {metric.name} (its type, fields, query or data set) so that the "
                    "platform can support it",
                    metric_edit_url(metric),
                )
            )
        else:
            unchecked.append(metric.name)
            text = f"{metric.name}: not checked yet"
        evidence.append(Evidence(text, metric_url(metric)))
    if unchecked:
        href = reverse("publishing:readiness", args=[facts.service.slug]) + "#check-metrics"
        steps.insert(0, Step(f"Check {', '.join(unchecked)} (“Check the metrics”)", href))
    return not_met(evidence, *steps) if steps else met(*evidence)


# beta


def _dashboard_exists(facts: Facts) -> Judgement:
    version = facts.version
    if version is None:
        return not_met(
            [Evidence("No dashboard yet")],
            Step(
                "Start the service's dashboard in the dashboard editor", editor_url(facts.service)
            ),
        )
    text = f"Version {version.number} ({version.get_state_display().lower()})"
    return met(Evidence(text, editor_url(facts.service)))


def _start_first(facts: Facts, then: str) -> Judgement:
    return not_met(
        [Evidence("No dashboard yet")],
        Step(f"Start the dashboard, then {then}", editor_url(facts.service)),
    )


def _baseline_data(facts: Facts) -> Judgement:
    service = facts.service
    if facts.version is None:
        return _start_first(facts, "choose its baseline period")
    period = baseline_period(facts.content.get("baseline"))
    if period is None:
        return not_met(
            [Evidence("No baseline period chosen")],
            details_step(
                facts, "choose the baseline period: the period the team measures change from"
            ),
        )
    evidence = [Evidence(f"Baseline: {baseline_text(facts.content['baseline'])}")]
    steps = []
    for data_type in maths.SOURCES:
        data_set = facts.kpi_data_sets.get(data_type)
        if data_set is None:
            evidence.append(Evidence(f"No data set of the standard type {data_type}"))
            steps.append(create_step(service, data_type, "its records for the baseline period"))
            continue
        if not data_set.published:
            evidence.append(
                Evidence(
                    f"{data_set}: not published, so the KPIs use none of its records",
                    data_set_url(data_set),
                )
            )
            steps.append(publish_step(data_set))
            continue
        count = kpi_records_between(data_set, *period)
        evidence.append(
            Evidence(
                f"{data_set}: {plural(count, 'record')} the KPIs use in the baseline period",
                data_set_url(data_set),
            )
        )
        if not count:
            steps.append(send_step(data_set, "its records for the baseline period"))
    return not_met(evidence, *steps) if steps else met(*evidence)


def _described(name: str, label: str, step: str):
    def judge(facts: Facts) -> Judgement:
        if facts.version is None:
            return _start_first(facts, step)
        text = (facts.content.get(name) or "").strip()
        if not text:
            return not_met(
                [Evidence(f"{label}: not described")],
                details_step(facts, step),
            )
        shown = text if len(text) <= 200 else text[:199] + "…"
        where = f"{label} (version {facts.version.number}): {shown}"
        return met(Evidence(where, editor_url(facts.service)))

    return judge


def _metric_sources(facts: Facts) -> Judgement:
    if not facts.metrics:
        return not_met([Evidence("No metric to mark")], _plan_step(facts.service))
    evidence, steps = [], []
    for metric in facts.metrics:
        if metric.data_set is None:
            evidence.append(Evidence(f"{metric.name}: no data set yet", metric_url(metric)))
            steps.append(
                Step(
                    f"Connect {metric.name} to the data set its numbers come from",
                    metric_edit_url(metric),
                )
            )
            continue
        source = facts.sources.get(metric.pk, NO_DATA)
        if source == NO_DATA:
            evidence.append(
                Evidence(
                    f"{metric.name}: no data arrived in {metric.data_set} in the last 90 days",
                    data_set_url(metric.data_set),
                )
            )
            steps.append(send_step(metric.data_set, "its data"))
        else:
            evidence.append(
                Evidence(
                    f"{metric.name}: {source} ({metric.data_set})", data_set_url(metric.data_set)
                )
            )
    return not_met(evidence, *steps) if steps else met(*evidence)


def _published(facts: Facts) -> Judgement:
    version = facts.published
    if version is None:
        return not_met(
            [Evidence("No version of the dashboard is published")],
            Step(
                "Submit the dashboard for review; an organisation admin approves and publishes it",
                editor_url(facts.service),
            ),
        )
    text = f"Version {version.number}, published {day(version.published_at)}"
    return met(Evidence(text, public_url(facts.service)))


def _evolution(facts: Facts) -> Judgement:
    service = facts.service
    since = earlier_assessment(service)
    if not since:
        return not_applicable(
            "No earlier assessment is known (none is recorded, and the service has no previous "
            "assessment date), so there is nothing to say the service has evolved from"
        )
    note = evolution_note(service)
    href = reverse("publishing:coming-evolution", args=[service.slug])
    if note is None or not note.text.strip():
        return not_met(
            [Evidence(f"Not written yet for the assessment after {since}")],
            Step(f"Write how the service has evolved since {since}", href),
        )
    return met(
        Evidence(
            f"Written for the assessment after {since}, on {day(note.updated_at.date())}", href
        )
    )


# live


def _kpis_computed(facts: Facts) -> Judgement:
    service = facts.service
    latest = kpi_services.service_kpis(service, MONTH, now=facts.now).latest
    when = period_label(latest.period)
    evidence, missing = [], []
    for name in TILE_KPIS:
        kpi = latest.get(name)
        label = KPI_LABELS[name]
        if kpi is None or kpi.value is None:
            reason = kpi.not_enough_data if kpi else "not computed"
            evidence.append(Evidence(f"{label}, {when}: not enough data ({reason})"))
            missing.append(name)
        else:
            evidence.append(Evidence(f"{label}, {when}: {kpi_value(name, kpi.value)}"))
    if facts.published is not None:
        evidence.append(Evidence("The KPI API", f"/api/services/{service.slug}/kpis"))
    if not missing:
        return met(*evidence)
    steps = []
    # The data each missing KPI needs, in the standard types' order.
    needed = {side for name in missing for side in maths.SIDES[name]}
    for data_type in (t for t in maths.SOURCES if t in needed):
        data_set = facts.kpi_data_sets.get(data_type)
        if data_set is None:
            steps.append(create_step(service, data_type, f"{when}'s records"))
        elif not data_set.published:
            steps.append(publish_step(data_set))
        else:
            steps.append(send_step(data_set, f"{when}'s records"))
    return not_met(evidence, *steps)


def _rationales(facts: Facts) -> Judgement:
    service = facts.service
    others = [metric for metric in facts.metrics if not metric.kpi]
    if not others:
        return not_met(
            [Evidence("The catalogue has no metric besides the four KPIs")],
            Step(
                "Add at least one metric besides the four KPIs, with why the team measures it",
                reverse("metrics:new", args=[service.slug]),
            ),
        )
    evidence, steps = [], []
    for metric in others:
        if metric.rationale.strip():
            evidence.append(
                Evidence(f"{metric.name}: {metric.rationale.strip()}", metric_url(metric))
            )
        else:
            evidence.append(Evidence(f"{metric.name}: no rationale", metric_url(metric)))
            steps.append(Step(f"Say why the team measures {metric.name}", metric_edit_url(metric)))
    return not_met(evidence, *steps) if steps else met(*evidence)


# retired


def _record_stays_open(facts: Facts) -> Judgement:
    if facts.published is not None:
        version = facts.published
        return met(
            Evidence(
                f"Version {version.number}, published {day(version.published_at)}",
                public_url(facts.service),
            )
        )
    was_published = DashboardVersion.objects.filter(
        dashboard__service=facts.service, published_at__isnull=False
    ).exists()
    if not was_published:
        return not_applicable("The service never published a dashboard: there is no record to keep")
    return not_met(
        [Evidence("The dashboard was published, and is not any more")],
        Step(
            "Publish the dashboard again, so that how the service performed stays open",
            editor_url(facts.service),
        ),
    )


def _no_data_expected(facts: Facts) -> Judgement:
    from perfplat.collectors.models import Collector

    data_sets = list(facts.service.data_sets.all())
    if not data_sets:
        return not_applicable("The service has no data sets")
    evidence, steps = [], []
    for data_set in data_sets:
        if data_set.max_age_expected:
            evidence.append(
                Evidence(
                    f"{data_set}: expects data at least every "
                    f"{plural(max(1, round(data_set.max_age_expected / 3600)), 'hour')}",
                    data_set_url(data_set),
                )
            )
            steps.append(
                Step(
                    f"Clear how often {data_set} expects data (in its settings), so that nobody "
                    "is told it is late",
                    data_set_edit_url(data_set),
                )
            )
        else:
            evidence.append(Evidence(f"{data_set}: expects no data", data_set_url(data_set)))
    running = Collector.objects.filter(data_set__in=data_sets, paused=False).select_related(
        "data_set"
    )
    for collector in running:
        evidence.append(Evidence(f"The collector {collector.name} of {collector.data_set} runs"))
        steps.append(
            Step(
                f"Pause the collector {collector.name} of {collector.data_set}",
                reverse("collectors:detail", args=[collector.data_set_id, collector.pk]),
            )
        )
    return not_met(evidence, *steps) if steps else met(*evidence)


# (key, the phase that first asks for it, title, judge)
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
        "beta.evolution",
        BETA,
        "How the service has evolved since the previous assessment is written for the coming one",
        _evolution,
    ),
    (
        "live.kpis",
        LIVE,
        "All four KPIs are computed for the latest complete month",
        _kpis_computed,
    ),
    (
        "live.rationales",
        LIVE,
        "At least one metric besides the KPIs, each with a rationale",
        _rationales,
    ),
)

# A retired service is assessed no more, so none of ITEMS applies to it. What still applies is
# what retiring asks of its performance reporting: the record of how it performed stays open
# (published data stays published, as the historic Performance Platform kept retired services'
# dashboards), and nothing keeps expecting data that will not come (stale-data emails and
# collectors pulling from a closed service help nobody).
RETIRED_REASON = (
    "A retired service is not assessed any more, so what the assessments ask does not apply; "
    "what applies to a retired service is listed under “Retired”"
)
RETIRED_ITEMS = (
    (
        "retired.record-open",
        RETIRED,
        "Its dashboard stays published, so how the service performed stays open",
        _record_stays_open,
    ),
    (
        "retired.no-data-expected",
        RETIRED,
        "No data set still expects data, so nobody is told about data that will not come",
        _no_data_expected,
    ),
)
