"""The Service Standard readiness report: every item met, not met or not applicable, with its
evidence, what to do next or why it does not apply, computed from the platform's state; which
items each phase asks for; and that nothing is met on nothing."""

from datetime import date

import pytest

from perfplat.dashboards import services as dashboards
from perfplat.datasets.models import DataSet, WriteBatch
from perfplat.datasets.services import create_data_set, update_data_set
from perfplat.metrics.services import record_support, update_metric
from perfplat.publishing import assessments
from perfplat.publishing.readiness import (
    kpi_records_between,
    organisation_readiness,
    readiness,
    report_json,
)
from perfplat.registry.services import update_service
from publishing_fixtures import (
    NOW,
    catalogue,
    fixed_now,
    kpi_data_sets,
    month_records,
    send_month,
    write,
)

pytestmark = pytest.mark.usefixtures(fixed_now.__name__)

DETAILS = {
    "audience": "Drivers",
    "usage": "The team plans with it",
    "baseline": "2024-01-01/2024-12-31",
}


TODAY = date(2025, 2, 10)


def item(service, key):
    report = readiness(service, NOW)
    return next(found for found in report.items if found.key == key)


def evidence(found) -> list[tuple[str, str]]:
    return [(e.text, e.href) for e in found.evidence]


@pytest.fixture
def data_sets(world):
    return kpi_data_sets(world.service)


@pytest.fixture
def ready(world, data_sets):
    """road-tax (live) meeting every item: a checked catalogue, baseline and recent data, a
    described and published dashboard, and an assessment with the team's note."""
    metrics = catalogue(world.service, data_sets)
    for metric in metrics.values():
        assert record_support(None, metric).supported
    send_month(data_sets, "2024-06-01")
    send_month(data_sets, "2025-01-01")
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**draft.content, **DETAILS})
    dashboards.publish_directly(world.service)
    taken = assessments.record_assessment(
        None,
        world.service,
        phase="beta",
        assessed_on="2025-02-03",
        outcome="met",
        today=date(2025, 2, 10),
    )
    assessments.update_evolution(None, taken, "Online first")
    assessments.write_evolution_note(None, world.service, "Reminders went online")
    return metrics


def test_a_service_meeting_everything_is_ready(world, ready):
    report = readiness(world.service, NOW)
    assert [(i.key, i.status, i.required) for i in report.items] == [
        ("alpha.registered", "met", True),
        ("alpha.metrics-planned", "met", True),
        ("alpha.metrics-supported", "met", True),
        ("beta.dashboard", "met", True),
        ("beta.baseline", "met", True),
        ("beta.audience", "met", True),
        ("beta.usage", "met", True),
        ("beta.sources", "met", True),
        ("beta.published", "met", True),
        ("beta.evolution", "met", True),
        ("live.kpis", "met", True),
        ("live.rationales", "met", True),
    ]
    assert (report.status, report.ready, report.met_count, report.next_step) == (
        "ready",
        True,
        12,
        "",
    )


@pytest.mark.parametrize(
    ("phase", "required"),
    [("discovery", 0), ("alpha", 3), ("beta", 10), ("live", 12)],
)
def test_each_phase_asks_for_its_items_and_the_earlier_phases(world, phase, required):
    update_service(None, world.service, phase=phase)
    assessments.record_assessment(
        None, world.service, phase="alpha", assessed_on="2024-06-03", outcome="met", today=TODAY
    )
    report = readiness(world.service, NOW)
    assert len(report.required) == required
    assert len(report.items) == 12
    assert report.not_applicable == []


# nothing is met on nothing


def test_in_discovery_nothing_is_asked_and_the_report_says_so(world):
    update_service(None, world.service, phase="discovery")
    report = readiness(world.service, NOW)
    assert (report.status, report.ready, report.required, report.met_count) == (
        "not applicable",
        None,
        [],
        0,
    )
    assert report.reason == (
        "In discovery the Service Standard asks nothing of a service's performance reporting: "
        "its first assessment is at the end of alpha. What that assessment asks is listed "
        "below, to prepare"
    )
    assert [i.key for i in report.upcoming][:3] == [
        "alpha.registered",
        "alpha.metrics-planned",
        "alpha.metrics-supported",
    ]
    payload = report_json(report)
    assert (payload["status"], payload["ready"], payload["met"], payload["required"]) == (
        "not applicable",
        None,
        0,
        0,
    )


def test_a_service_without_metrics_meets_nothing_about_them(world):
    report = readiness(world.service, NOW)
    statuses = {i.key: i.status for i in report.items}
    assert [statuses[k] for k in ("alpha.metrics-planned", "alpha.metrics-supported")] == [
        "not met",
        "not met",
    ]
    assert [statuses[k] for k in ("beta.sources", "live.rationales")] == ["not met", "not met"]


# a retired service

RETIRED_ITEMS = ["retired.record-open", "retired.no-data-expected"]


def test_a_retired_service_is_judged_on_what_applies_to_a_retired_service(world, ready):
    update_service(None, world.service, phase="retired")
    report = readiness(world.service, NOW)
    assert [i.key for i in report.required] == RETIRED_ITEMS
    assessed = [i for i in report.items if i.phase != "retired"]
    assert {(i.status, i.required) for i in assessed} == {("not applicable", False)}
    assert assessed[0].reason == (
        "A retired service is not assessed any more, so what the assessments ask does not "
        "apply; what applies to a retired service is listed under “Retired”"
    )
    assert report.upcoming == []
    # The ready fixture's data sets expect no data and have no collector.
    assert (report.status, report.met_count) == ("ready", 2)
    assert evidence(report.required[0])[0][1] == "/services/road-tax"


def test_a_retired_service_whose_data_sets_expect_data_is_not_ready(world, ready):
    from perfplat.collectors.services import create_collector

    update_service(None, world.service, phase="retired")
    update_data_set(None, world.data_set, max_age_expected=8 * 86400)
    collector = create_collector(
        None, world.data_set, allow_private=True, name="Export", url="http://127.0.0.1:9/x.csv"
    )
    found = item(world.service, "retired.no-data-expected")
    assert found.status == "not met"
    assert [(s.text, s.href) for s in found.next_steps] == [
        (
            "Clear how often road-tax/transactions expects data (in its settings), so that "
            "nobody is told it is late",
            f"/manage/data-sets/{world.data_set.pk}/edit",
        ),
        (
            "Pause the collector Export of road-tax/transactions",
            f"/manage/data-sets/{world.data_set.pk}/collectors/{collector.pk}",
        ),
    ]
    assert ("road-tax/transactions: expects data at least every 192 hours") in [
        e.text for e in found.evidence
    ]


def test_a_retired_service_that_never_published_has_no_record_to_keep(world):
    update_service(None, world.service, phase="retired")
    found = item(world.service, "retired.record-open")
    assert (found.status, found.reason) == (
        "not applicable",
        "The service never published a dashboard: there is no record to keep",
    )


def test_a_retired_service_that_unpublished_its_dashboard_is_asked_to_publish_it(world):
    update_service(None, world.service, phase="retired")
    dashboards.publish_directly(world.service)
    dashboards.unpublish(world.org_admin, world.service)
    found = item(world.service, "retired.record-open")
    assert found.status == "not met"
    assert [(s.text, s.href) for s in found.next_steps] == [
        (
            "Publish the dashboard again, so that how the service performed stays open",
            "/manage/services/road-tax/dashboard",
        )
    ]


def test_a_retired_service_without_data_sets_expects_no_data(world):
    update_service(None, world.agency_service, phase="retired")
    found = item(world.agency_service, "retired.no-data-expected")
    assert (found.status, found.reason) == ("not applicable", "The service has no data sets")
    # Nor a dashboard: nothing asked of a retired service applies, and the report says so.
    report = readiness(world.agency_service, NOW)
    assert (report.status, report.ready, report.reason) == (
        "not applicable",
        None,
        "Nothing asked at this phase applies to the service: each item says why",
    )


# alpha


def test_registered(world):
    found = item(world.service, "alpha.registered")
    assert found.met
    text, href = evidence(found)[0]
    assert text.startswith("Registered on ") and text.endswith("by Department for Transport")
    assert href == "/manage/services/road-tax"


def steps(found) -> list[tuple[str, str]]:
    return [(step.text, step.href) for step in found.next_steps]


def test_metrics_planned_not_met_without_a_catalogue(world):
    found = item(world.service, "alpha.metrics-planned")
    assert (found.met, evidence(found)) == (False, [("The metric catalogue is empty", "")])
    assert steps(found) == [
        (
            "Plan the metrics the team will measure, with the data set type and fields each "
            "will use, and check them",
            "/manage/services/road-tax/metrics/check",
        )
    ]


def test_metrics_planned_met_with_a_catalogue(world, data_sets):
    metrics = catalogue(world.service, {"cost": data_sets["cost"]})
    found = item(world.service, "alpha.metrics-planned")
    assert found.met
    assert evidence(found) == [
        ("1 metric in the catalogue", ""),
        ("Cost per transaction", f"/api/metrics/{metrics['cost-per-transaction'].pk}"),
    ]


def test_metrics_supported_not_met_until_checked(world, data_sets):
    metrics = catalogue(world.service, {"cost": data_sets["cost"]})
    found = item(world.service, "alpha.metrics-supported")
    assert not found.met
    assert evidence(found) == [
        (
            "Cost per transaction: not checked yet",
            f"/api/metrics/{metrics['cost-per-transaction'].pk}",
        )
    ]
    assert steps(found) == [
        (
            "Check Cost per transaction (“Check the metrics”)",
            "/manage/services/road-tax/readiness#check-metrics",
        )
    ]


def test_metrics_supported_not_met_when_a_metric_is_not_supported(world, data_sets):
    metric = catalogue(world.service, {"cost": data_sets["cost"]})["cost-per-transaction"]
    update_metric(None, metric, query="period=month&collect=channel:sum")
    record_support(None, metric)
    found = item(world.service, "alpha.metrics-supported")
    assert not found.met
    assert evidence(found)[0][0] == (
        "Cost per transaction: not supported: the query adds up 'channel', which is not a "
        "number field"
    )
    assert steps(found) == [
        (
            "Change Cost per transaction (its type, fields, query or data set) so that the "
            "platform can support it",
            f"/manage/metrics/{metric.pk}/edit",
        )
    ]


def test_metrics_supported_met_when_each_is_checked(world, data_sets):
    metric = catalogue(world.service, {"cost": data_sets["cost"]})["cost-per-transaction"]
    record_support(None, metric)
    found = item(world.service, "alpha.metrics-supported")
    assert found.met
    assert evidence(found)[0][0].startswith("Cost per transaction: supported (checked ")


# beta


def test_dashboard_not_met_before_a_draft(world):
    found = item(world.service, "beta.dashboard")
    assert (found.met, steps(found)) == (
        False,
        [
            (
                "Start the service's dashboard in the dashboard editor",
                "/manage/services/road-tax/dashboard",
            )
        ],
    )


def test_dashboard_met_with_a_draft(world):
    dashboards.start_draft(world.editor, world.service)
    found = item(world.service, "beta.dashboard")
    assert found.met
    assert evidence(found) == [("Version 1 (draft)", "/manage/services/road-tax/dashboard")]


def test_baseline_not_met_without_a_baseline_period(world, data_sets):
    dashboards.start_draft(None, world.service)
    found = item(world.service, "beta.baseline")
    assert not found.met
    assert steps(found) == [
        (
            "In the dashboard's details, choose the baseline period: the period the team "
            "measures change from",
            "/manage/services/road-tax/dashboard/details",
        )
    ]


def test_without_a_draft_the_baseline_is_chosen_in_a_new_draft(world, data_sets):
    dashboards.publish_directly(world.service)
    found = item(world.service, "beta.baseline")
    assert steps(found) == [
        (
            "In the dashboard editor, start a new draft, then in its details choose the "
            "baseline period: the period the team measures change from",
            "/manage/services/road-tax/dashboard",
        )
    ]


def test_baseline_not_met_without_data_in_the_period(world, data_sets):
    send_month({"cost": data_sets["cost"]}, "2024-06-01")
    send_month(data_sets, "2025-01-01")  # after the baseline: does not count
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**draft.content, **DETAILS})
    found = item(world.service, "beta.baseline")
    assert not found.met
    ids = {t: d.pk for t, d in data_sets.items()}
    assert evidence(found) == [
        ("Baseline: 1 January 2024 to 31 December 2024", ""),
        (
            "road-tax/transactions-by-channel: 0 records the KPIs use in the baseline period",
            f"/manage/data-sets/{ids['transactions-by-channel']}",
        ),
        (
            "road-tax/cost: 1 record the KPIs use in the baseline period",
            f"/manage/data-sets/{ids['cost']}",
        ),
        (
            "road-tax/user-satisfaction: 0 records the KPIs use in the baseline period",
            f"/manage/data-sets/{ids['user-satisfaction']}",
        ),
        (
            "road-tax/completion: 0 records the KPIs use in the baseline period",
            f"/manage/data-sets/{ids['completion']}",
        ),
    ]
    send = (
        " its records for the baseline period (upload a spreadsheet, or write them with its token)"
    )
    assert steps(found) == [
        (
            f"Send road-tax/{data_type}{send}",
            f"/manage/data-sets/{ids[data_type]}/uploads/new",
        )
        for data_type in ("transactions-by-channel", "user-satisfaction", "completion")
    ]


def test_baseline_not_met_without_a_kpi_data_set(world):
    only = kpi_data_sets(world.service, types=("cost",))
    send_month(only, "2024-06-01")
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**draft.content, **DETAILS})
    found = item(world.service, "beta.baseline")
    assert not found.met
    assert "No data set of the standard type completion" in [e.text for e in found.evidence]
    assert steps(found)[0] == (
        "Create a data set of the standard type transactions-by-channel and send its records "
        "for the baseline period",
        "/manage/services/road-tax/data-sets/new",
    )


def test_baseline_met_with_every_kpi_data_set_in_the_period(world, data_sets):
    send_month(data_sets, "2024-12-01")  # the last month of the baseline counts
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**draft.content, **DETAILS})
    found = item(world.service, "beta.baseline")
    assert found.met
    assert evidence(found)[2][0] == "road-tax/cost: 1 record the KPIs use in the baseline period"


@pytest.mark.parametrize(
    ("key", "name", "label", "said"),
    [
        ("beta.audience", "audience", "Who uses the service", "who uses the service"),
        ("beta.usage", "usage", "How the dashboard is used", "how the dashboard is used"),
    ],
)
def test_audience_and_usage_described_or_not(world, key, name, label, said):
    draft = dashboards.start_draft(None, world.service)
    found = item(world.service, key)
    assert not found.met
    assert steps(found) == [
        (
            f"In the dashboard's details, say {said}",
            "/manage/services/road-tax/dashboard/details",
        )
    ]
    dashboards.save_draft(None, draft, {**draft.content, name: "Drivers and their agents"})
    found = item(world.service, key)
    assert found.met
    assert evidence(found) == [
        (f"{label} (version 1): Drivers and their agents", "/manage/services/road-tax/dashboard")
    ]


def test_sources_not_met_without_data_or_a_data_set(world, data_sets):
    metrics = catalogue(world.service, {"cost": data_sets["cost"]})
    found = item(world.service, "beta.sources")
    assert not found.met
    assert evidence(found) == [
        (
            "Cost per transaction: no data arrived in road-tax/cost in the last 90 days",
            f"/manage/data-sets/{data_sets['cost'].pk}",
        )
    ]
    assert steps(found) == [
        (
            "Send road-tax/cost its data (upload a spreadsheet, or write them with its token)",
            f"/manage/data-sets/{data_sets['cost'].pk}/uploads/new",
        )
    ]
    metric = metrics["cost-per-transaction"]
    update_metric(None, metric, data_set=None)
    found = item(world.service, "beta.sources")
    assert steps(found) == [
        (
            "Connect Cost per transaction to the data set its numbers come from",
            f"/manage/metrics/{metric.pk}/edit",
        )
    ]


def test_sources_met_as_manual_or_automatic(world, data_sets):
    catalogue(world.service, {"cost": data_sets["cost"], "completion": data_sets["completion"]})
    send_month({"cost": data_sets["cost"]})
    write(
        data_sets["completion"],
        [{"_timestamp": "2025-01-01T00:00:00Z", "period": "month", "started": 3, "completed": 1}],
        kind=WriteBatch.UPLOAD,
    )
    found = item(world.service, "beta.sources")
    assert found.met
    assert [text for text, _ in evidence(found)] == [
        "Completion rate: manual (road-tax/completion)",
        "Cost per transaction: automatic (road-tax/cost)",
    ]


def test_published_or_not(world):
    found = item(world.service, "beta.published")
    assert (found.met, steps(found)) == (
        False,
        [
            (
                "Submit the dashboard for review; an organisation admin approves and publishes it",
                "/manage/services/road-tax/dashboard",
            )
        ],
    )
    dashboards.publish_directly(world.service)
    found = item(world.service, "beta.published")
    assert found.met
    ((text, href),) = evidence(found)
    assert text.startswith("Version 1, published ") and href == "/services/road-tax"


# live


def test_kpis_not_met_without_recent_data(world, data_sets):
    send_month({k: v for k, v in data_sets.items() if k != "completion"}, "2025-01-01")
    found = item(world.service, "live.kpis")
    assert not found.met
    assert [text for text, _ in evidence(found)] == [
        "Cost per transaction, January 2025: £4.00",
        "User satisfaction, January 2025: 70.0%",
        "Completion rate, January 2025: not enough data (no completion data for this period)",
        "Digital take-up, January 2025: 80.0%",
    ]
    assert steps(found) == [
        (
            "Send road-tax/completion January 2025's records (upload a spreadsheet, or write "
            "them with its token)",
            f"/manage/data-sets/{data_sets['completion'].pk}/uploads/new",
        )
    ]


def test_kpis_not_met_when_the_data_is_not_published(world):
    unpublished = kpi_data_sets(world.service, published=False)
    send_month(unpublished, "2025-01-01")
    found = item(world.service, "live.kpis")
    assert not found.met
    assert evidence(found)[0][0] == (
        "Cost per transaction, January 2025: not enough data (no published cost data; no "
        "published transactions-by-channel data)"
    )
    assert [text for text, _ in steps(found)] == [
        f"Publish road-tax/{data_type} (in its settings): the KPIs read only published data"
        for data_type in ("transactions-by-channel", "cost", "user-satisfaction", "completion")
    ]


def test_kpis_met_with_every_kpi_for_the_latest_month(world, data_sets):
    send_month(data_sets, "2025-01-01")
    dashboards.publish_directly(world.service)
    found = item(world.service, "live.kpis")
    assert found.met
    assert evidence(found)[-1] == ("The KPI API", "/api/services/road-tax/kpis")


def test_rationales_not_met_without_other_metrics(world, data_sets):
    catalogue(world.service, {"cost": data_sets["cost"]})
    found = item(world.service, "live.rationales")
    assert not found.met
    assert evidence(found) == [("The catalogue has no metric besides the four KPIs", "")]
    assert steps(found) == [
        (
            "Add at least one metric besides the four KPIs, with why the team measures it",
            "/manage/services/road-tax/metrics/new",
        )
    ]


def test_rationales_not_met_when_another_metric_has_none(world, data_sets):
    metrics = catalogue(world.service, data_sets, other_rationale="")
    found = item(world.service, "live.rationales")
    assert not found.met
    assert evidence(found) == [
        ("Transactions: no rationale", f"/api/metrics/{metrics['transactions'].pk}")
    ]
    assert steps(found) == [
        (
            "Say why the team measures Transactions",
            f"/manage/metrics/{metrics['transactions'].pk}/edit",
        )
    ]
    update_metric(None, metrics["transactions"], rationale="Shows demand")
    assert item(world.service, "live.rationales").met


NO_EARLIER = (
    "No earlier assessment is known (none is recorded, and the service has no previous "
    "assessment date), so there is nothing to say the service has evolved from"
)


@pytest.mark.parametrize("phase", ["beta", "live"])
def test_evolution_does_not_apply_without_an_earlier_assessment(world, phase):
    update_service(None, world.service, phase=phase)
    found = item(world.service, "beta.evolution")
    assert (found.status, found.required, found.reason, found.next_steps) == (
        "not applicable",
        True,
        NO_EARLIER,
        (),
    )
    report = readiness(world.service, NOW)
    assert [i.key for i in report.not_applicable] == ["beta.evolution"]


def test_evolution_asks_for_the_note_for_the_coming_assessment(world):
    update_service(None, world.service, phase="beta")
    taken = assessments.record_assessment(
        None, world.service, phase="alpha", assessed_on="2024-06-03", outcome="met", today=TODAY
    )
    assessments.update_evolution(world.editor, taken, "Notes of the alpha")  # not the coming one
    found = item(world.service, "beta.evolution")
    assert (found.status, evidence(found)) == (
        "not met",
        [("Not written yet for the assessment after the alpha assessment of 3 June 2024", "")],
    )
    assert steps(found) == [
        (
            "Write how the service has evolved since the alpha assessment of 3 June 2024",
            "/manage/services/road-tax/evolution",
        )
    ]
    assessments.write_evolution_note(world.editor, world.service, "Online first")
    found = item(world.service, "beta.evolution")
    assert found.met
    ((text, href),) = evidence(found)
    assert text.startswith(
        "Written for the assessment after the alpha assessment of 3 June 2024, on "
    )
    assert href == "/manage/services/road-tax/evolution"


def test_an_assessment_before_the_platform_counts_as_earlier(world):
    update_service(None, world.service, previous_assessment_date="2024-05-02")
    found = item(world.service, "beta.evolution")
    assert steps(found) == [
        (
            "Write how the service has evolved since the assessment of 2 May 2024",
            "/manage/services/road-tax/evolution",
        )
    ]


# the evidence of baseline data: only records the KPIs use


def test_records_the_kpis_ignore_are_no_evidence(world):
    free_form, _ = create_data_set(None, "cost", service=world.service)  # named, not typed
    write(free_form, month_records("2024-06-01")["cost"])
    unpublished = kpi_data_sets(world.service, published=False, types=("completion",))
    send_month(unpublished, "2024-06-01")
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**draft.content, **DETAILS})
    found = item(world.service, "beta.baseline")
    completion = unpublished["completion"]
    assert evidence(found)[1:] == [
        ("No data set of the standard type transactions-by-channel", ""),
        ("No data set of the standard type cost", ""),
        ("No data set of the standard type user-satisfaction", ""),
        (
            "road-tax/completion: not published, so the KPIs use none of its records",
            f"/manage/data-sets/{completion.pk}",
        ),
    ]
    assert steps(found)[-1] == (
        "Publish road-tax/completion (in its settings): the KPIs read only published data",
        f"/manage/data-sets/{completion.pk}/edit",
    )
    assert kpi_records_between(free_form, date(2024, 1, 1), date(2024, 12, 31)) == 0
    assert kpi_records_between(completion, date(2024, 1, 1), date(2024, 12, 31)) == 0


def typed_after_the_fact(data_set, standard_type):
    """The data set given a standard type without checking its records: as a data set typed
    by an older release's rules could be, which the KPI engine reads as it reads any other."""
    DataSet.objects.filter(pk=data_set.pk).update(standard_type=standard_type, published=True)
    data_set.refresh_from_db()
    return data_set


def test_only_records_with_a_period_and_a_channel_are_evidence(world):
    data_set, _ = create_data_set(None, "transactions-by-channel", service=world.service)
    write(
        data_set,
        [
            {"_timestamp": "2024-03-01T00:00:00Z", "period": "month", "channel": "digital"},
            {"_timestamp": "2024-03-01T00:00:00Z", "period": "month", "channel": None},
            {"_timestamp": "2024-03-01T00:00:00Z", "period": "month"},
            {"_timestamp": "2024-03-01T00:00:00Z", "channel": "phone"},
            {"_timestamp": "2024-03-01T00:00:00Z", "period": "fortnight", "channel": "phone"},
        ],
    )
    data_set = typed_after_the_fact(data_set, "transactions-by-channel")
    assert kpi_records_between(data_set, date(2024, 1, 1), date(2024, 12, 31)) == 1


def test_satisfaction_and_completion_need_no_channel(world):
    data_set, _ = create_data_set(None, "completion", service=world.service)
    write(data_set, [{"_timestamp": "2024-03-01T00:00:00Z", "period": "week"}])
    data_set = typed_after_the_fact(data_set, "completion")
    assert kpi_records_between(data_set, date(2024, 1, 1), date(2024, 12, 31)) == 1


@pytest.mark.parametrize(
    ("timestamp", "period", "counted"),
    [
        ("2023-12-25T00:00:00Z", "week", False),  # ends 31 December 2023
        ("2023-12-26T00:00:00Z", "week", True),  # its last day is 1 January 2024
        ("2023-10-01T00:00:00Z", "quarter", False),
        ("2023-11-01T00:00:00Z", "quarter", True),  # November to January
        ("2024-12-31T00:00:00Z", "month", True),
        ("2025-01-01T00:00:00Z", "month", False),
    ],
)
def test_a_record_is_evidence_when_its_period_shares_a_day_with_the_baseline(
    world, timestamp, period, counted
):
    data_set = kpi_data_sets(world.service, types=("completion",))["completion"]
    write(data_set, [{"_timestamp": timestamp, "period": period, "started": 2, "completed": 1}])
    count = kpi_records_between(data_set, date(2024, 1, 1), date(2024, 12, 31))
    assert count == (1 if counted else 0)


# the JSON twin and the organisation overview


def test_the_report_as_json(world):
    update_service(None, world.service, phase="alpha")
    payload = report_json(readiness(world.service, NOW))
    assert payload["service"] == {
        "slug": "road-tax",
        "name": "Tax your vehicle",
        "organisation": "transport",
        "phase": "alpha",
    }
    plan = {
        "text": "Plan the metrics the team will measure, with the data set type and fields each "
        "will use, and check them",
        "href": "/manage/services/road-tax/metrics/check",
    }
    assert {key: payload[key] for key in payload if key not in ("service", "items")} == {
        "computed_at": "2025-02-10T12:00:00+00:00",
        "status": "not ready",
        "ready": False,
        "reason": None,
        "met": 1,
        "required": 3,
        "not_applicable": 0,
        "next_steps": [plan],
    }
    assert payload["items"][1] == {
        "key": "alpha.metrics-planned",
        "phase": "alpha",
        "title": "Its metrics are planned",
        "required": True,
        "status": "not met",
        "met": False,
        "reason": None,
        "evidence": [{"text": "The metric catalogue is empty", "href": None}],
        "next_step": plan["text"],
        "next_steps": [plan],
    }


def test_an_item_that_does_not_apply_says_why_in_json(world):
    payload = report_json(readiness(world.service, NOW))
    evolution = next(i for i in payload["items"] if i["key"] == "beta.evolution")
    assert (
        evolution["status"],
        evolution["met"],
        evolution["reason"],
        evolution["next_steps"],
    ) == (
        "not applicable",
        False,
        NO_EARLIER,
        [],
    )
    assert (payload["required"], payload["not_applicable"]) == (11, 1)


def test_the_organisation_overview_lists_the_services_the_user_works_on(world):
    names = [r.service.slug for r in organisation_readiness(world.org_admin, world.department, NOW)]
    assert names == ["licence-renewal", "road-tax"]
    names = [r.service.slug for r in organisation_readiness(world.editor, world.department, NOW)]
    assert names == ["road-tax"]
