"""The Service Standard readiness report: every item met and not met, with its evidence or what
to do next, computed from the platform's state; and which items each phase asks for."""

from datetime import date

import pytest

from perfplat.dashboards import services as dashboards
from perfplat.datasets.models import WriteBatch
from perfplat.metrics.services import record_support, update_metric
from perfplat.publishing import assessments
from perfplat.publishing.readiness import organisation_readiness, readiness, report_json
from perfplat.registry.services import update_service
from publishing_fixtures import NOW, catalogue, fixed_now, kpi_data_sets, send_month, write

pytestmark = pytest.mark.usefixtures(fixed_now.__name__)

DETAILS = {
    "audience": "Drivers",
    "usage": "The team plans with it",
    "baseline": "2024-01-01/2024-12-31",
}


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
    return metrics


def test_a_service_meeting_everything_is_ready(world, ready):
    report = readiness(world.service, NOW)
    assert [(i.key, i.met, i.required) for i in report.items] == [
        ("alpha.registered", True, True),
        ("alpha.metrics-planned", True, True),
        ("alpha.metrics-supported", True, True),
        ("beta.dashboard", True, True),
        ("beta.baseline", True, True),
        ("beta.audience", True, True),
        ("beta.usage", True, True),
        ("beta.sources", True, True),
        ("beta.published", True, True),
        ("live.kpis", True, True),
        ("live.rationales", True, True),
        ("live.evolution", True, True),
    ]
    assert (report.ready, report.met_count, report.next_step) == (True, 12, "")


@pytest.mark.parametrize(
    ("phase", "required"),
    [("discovery", 0), ("alpha", 3), ("beta", 9), ("live", 12), ("retired", 12)],
)
def test_each_phase_asks_for_its_items_and_the_earlier_phases(world, phase, required):
    update_service(None, world.service, phase=phase)
    report = readiness(world.service, NOW)
    assert len(report.required) == required
    assert len(report.items) == 12


# alpha


def test_registered(world):
    found = item(world.service, "alpha.registered")
    assert found.met
    text, href = evidence(found)[0]
    assert text.startswith("Registered on ") and text.endswith("by Department for Transport")
    assert href == "/manage/services/road-tax"


def test_metrics_planned_not_met_without_a_catalogue(world):
    found = item(world.service, "alpha.metrics-planned")
    assert (found.met, found.evidence) == (False, ())
    assert found.next_step.startswith("Add the metrics the team will measure")


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
    assert found.next_step == "Check Cost per transaction (“Check the metrics” on this page)"


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
    assert found.next_step.startswith("Fix Cost per transaction: change the metric's type")


def test_metrics_supported_met_when_each_is_checked(world, data_sets):
    metric = catalogue(world.service, {"cost": data_sets["cost"]})["cost-per-transaction"]
    record_support(None, metric)
    found = item(world.service, "alpha.metrics-supported")
    assert found.met
    assert evidence(found)[0][0].startswith("Cost per transaction: supported (checked ")


# beta


def test_dashboard_not_met_before_a_draft(world):
    found = item(world.service, "beta.dashboard")
    assert (found.met, found.next_step) == (
        False,
        "Start the service's dashboard in the dashboard editor",
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
    assert found.next_step.startswith("Choose the baseline period in the dashboard's details")


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
            "road-tax/transactions-by-channel: 0 records in the baseline period",
            f"/manage/data-sets/{ids['transactions-by-channel']}",
        ),
        ("road-tax/cost: 1 record in the baseline period", f"/manage/data-sets/{ids['cost']}"),
        (
            "road-tax/user-satisfaction: 0 records in the baseline period",
            f"/manage/data-sets/{ids['user-satisfaction']}",
        ),
        (
            "road-tax/completion: 0 records in the baseline period",
            f"/manage/data-sets/{ids['completion']}",
        ),
    ]
    assert found.next_step == (
        "Send road-tax/transactions-by-channel its records for the baseline period. "
        "Send road-tax/user-satisfaction its records for the baseline period. "
        "Send road-tax/completion its records for the baseline period"
    )


def test_baseline_not_met_without_a_kpi_data_set(world):
    only = kpi_data_sets(world.service, types=("cost",))
    send_month(only, "2024-06-01")
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**draft.content, **DETAILS})
    found = item(world.service, "beta.baseline")
    assert not found.met
    assert "No completion data set" in [e.text for e in found.evidence]
    assert found.next_step.startswith(
        "Create a transactions-by-channel data set and send its baseline records"
    )


def test_baseline_met_with_every_kpi_data_set_in_the_period(world, data_sets):
    send_month(data_sets, "2024-12-01")  # the last month of the baseline counts
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**draft.content, **DETAILS})
    found = item(world.service, "beta.baseline")
    assert found.met
    assert evidence(found)[2][0] == "road-tax/cost: 1 record in the baseline period"


@pytest.mark.parametrize(
    ("key", "name", "label"),
    [
        ("beta.audience", "audience", "Who uses the service"),
        ("beta.usage", "usage", "How the dashboard is used"),
    ],
)
def test_audience_and_usage_described_or_not(world, key, name, label):
    draft = dashboards.start_draft(None, world.service)
    found = item(world.service, key)
    assert not found.met
    assert found.next_step.startswith("In the dashboard's details, say ")
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
    update_metric(None, metrics["cost-per-transaction"], data_set=None)
    found = item(world.service, "beta.sources")
    assert found.next_step == "Connect Cost per transaction to the data set its numbers come from"


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
    assert (found.met, found.next_step) == (
        False,
        "Submit the dashboard for review; an organisation admin approves and publishes it",
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
    assert found.next_step == "Send and publish January 2025's data for: completion rate"


def test_kpis_not_met_when_the_data_is_not_published(world):
    unpublished = kpi_data_sets(world.service, published=False)
    send_month(unpublished, "2025-01-01")
    found = item(world.service, "live.kpis")
    assert not found.met
    assert evidence(found)[0][0] == (
        "Cost per transaction, January 2025: not enough data (no published cost data; no "
        "published transactions-by-channel data)"
    )


def test_kpis_met_with_every_kpi_for_the_latest_month(world, data_sets):
    send_month(data_sets, "2025-01-01")
    dashboards.publish_directly(world.service)
    found = item(world.service, "live.kpis")
    assert found.met
    assert evidence(found)[-1] == ("The KPI API", "/api/services/road-tax/kpis")


def test_rationales_met_without_other_metrics(world, data_sets):
    catalogue(world.service, {"cost": data_sets["cost"]})
    found = item(world.service, "live.rationales")
    assert found.met
    assert evidence(found) == [("The catalogue has no metrics besides the four KPIs", "")]


def test_rationales_not_met_when_another_metric_has_none(world, data_sets):
    metrics = catalogue(world.service, data_sets, other_rationale="")
    found = item(world.service, "live.rationales")
    assert not found.met
    assert evidence(found) == [
        ("Transactions: no rationale", f"/api/metrics/{metrics['transactions'].pk}")
    ]
    assert found.next_step == "Say why the team measures Transactions"
    update_metric(None, metrics["transactions"], rationale="Shows demand")
    assert item(world.service, "live.rationales").met


def test_evolution_needs_an_assessment_and_the_teams_note(world):
    found = item(world.service, "live.evolution")
    assert not found.met
    assert found.next_step.startswith("An organisation admin records the service's assessment")
    taken = assessments.record_assessment(
        None,
        world.service,
        phase="beta",
        assessed_on="2025-02-03",
        outcome="met",
        today=date(2025, 2, 10),
    )
    found = item(world.service, "live.evolution")
    assert not found.met
    assert evidence(found) == [
        ("Beta assessment of 3 February 2025", f"/manage/assessments/{taken.pk}")
    ]
    assessments.update_evolution(world.editor, taken, "Online first")
    found = item(world.service, "live.evolution")
    assert found.met
    assert evidence(found) == [
        (
            "Beta assessment of 3 February 2025: the team's note is written",
            f"/manage/assessments/{taken.pk}",
        )
    ]


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
    assert (payload["ready"], payload["met"], payload["required"]) == (False, 1, 3)
    assert payload["items"][1] == {
        "key": "alpha.metrics-planned",
        "phase": "alpha",
        "title": "Its metrics are planned",
        "required": True,
        "status": "not met",
        "met": False,
        "evidence": [],
        "next_step": "Add the metrics the team will measure to the service's metric catalogue, "
        "with the data set type and fields each will use",
    }


def test_the_organisation_overview_lists_the_services_the_user_works_on(world):
    names = [r.service.slug for r in organisation_readiness(world.org_admin, world.department, NOW)]
    assert names == ["licence-renewal", "road-tax"]
    names = [r.service.slug for r in organisation_readiness(world.editor, world.department, NOW)]
    assert names == ["road-tax"]
