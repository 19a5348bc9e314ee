"""Assessment snapshots: recording one freezes the dashboard's details and the KPIs of the last
complete month before the assessment date; later data and later edits never change it."""

from datetime import date

import pytest

from perfplat.audit.models import AuditEntry
from perfplat.dashboards import services as dashboards
from perfplat.errors import Forbidden, InvalidRequest
from perfplat.kpis import services as kpi_services
from perfplat.publishing import assessments
from perfplat.publishing.changes import kpi_rows, service_changes, service_changes_json
from perfplat.registry.services import update_service
from publishing_fixtures import fixed_now, kpi_data_sets, send_month

pytestmark = pytest.mark.usefixtures(fixed_now.__name__)

TODAY = date(2025, 2, 10)


@pytest.fixture
def sending(world):
    """road-tax with its four KPI data sets, January 2025's records, and a published
    dashboard saying who uses it."""
    data_sets = kpi_data_sets(world.service)
    send_month(data_sets, "2025-01-01")
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(
        None, draft, {**draft.content, "audience": "Drivers", "baseline": "2024-01-01/2024-12-31"}
    )
    dashboards.publish_directly(world.service)
    return data_sets


def record(world, **changes):
    fields = {"phase": "beta", "assessed_on": "2025-02-03", "outcome": "met", "notes": "Good"}
    return assessments.record_assessment(
        world.org_admin, world.service, today=TODAY, **{**fields, **changes}
    )


def test_recording_freezes_the_kpis_of_the_last_complete_month(world, sending):
    taken = record(world)
    kpis = taken.kpis
    assert (kpis["period"], kpis["start_at"], kpis["end_at"]) == (
        "month",
        "2025-01-01T00:00:00+00:00",
        "2025-02-01T00:00:00+00:00",
    )
    values = {name: kpi["value"] for name, kpi in kpis["kpis"].items()}
    assert values == {
        "cost_per_transaction": 4.0,
        "user_satisfaction": 0.7,
        "user_satisfaction_score": 0.7375,
        "completion_rate": 0.75,
        "digital_take_up": 0.8,
    }


def test_the_kpis_are_those_before_the_assessment_date(world, sending):
    # Assessed on 31 January: January is not complete, so December 2024 (no data) is frozen.
    taken = record(world, assessed_on="2025-01-31")
    assert taken.kpis["start_at"] == "2024-12-01T00:00:00+00:00"
    assert taken.kpis["kpis"]["digital_take_up"]["value"] is None
    assert taken.kpis["kpis"]["digital_take_up"]["not_enough_data"] == (
        "no transactions-by-channel data for this period"
    )


def test_data_written_after_the_snapshot_does_not_change_it(world, sending):
    taken = record(world)
    frozen = taken.kpis
    # January's transactions are corrected (a late upload replaces them), and February's
    # arrive.
    send_month(
        {"transactions-by-channel": sending["transactions-by-channel"]}, "2025-01-01", scale=3
    )
    send_month(sending, "2025-02-01")
    live = kpi_services.service_kpis(world.service, now=kpi_services.current_time())
    assert live.latest.get("digital_take_up").denominator == 300
    taken.refresh_from_db()
    assert taken.kpis == frozen
    assert taken.kpis["kpis"]["digital_take_up"]["denominator"] == 100


def test_the_dashboard_details_are_frozen_too(world, sending):
    taken = record(world)
    draft = dashboards.start_draft(world.editor, world.service)
    dashboards.save_draft(world.editor, draft, {**draft.content, "audience": "Everyone"})
    dashboards.publish_directly(world.service)
    taken.refresh_from_db()
    assert taken.metadata == {
        "name": "Tax your vehicle",
        "phase": "live",
        "description": "",
        "audience": "Drivers",
        "usage": "",
        "baseline": "2024-01-01/2024-12-31",
        "dashboard_version": 1,
        "dashboard_state": "published",
    }


def test_recording_is_audited_and_updates_the_previous_assessment_date(world, sending):
    taken = record(world)
    entry = AuditEntry.objects.get(action="assessment.record")
    assert (entry.actor, entry.object_id, entry.after["outcome"]) == (
        world.org_admin,
        str(taken.pk),
        "met",
    )
    world.service.refresh_from_db()
    assert world.service.previous_assessment_date == date(2025, 2, 3)
    # An older assessment recorded later does not move it back.
    record(world, assessed_on="2024-06-01", phase="alpha")
    world.service.refresh_from_db()
    assert world.service.previous_assessment_date == date(2025, 2, 3)


@pytest.mark.parametrize("role", ["editor", "agency_editor", "other_admin", "other_editor"])
def test_only_the_services_admins_record_assessments(world, role):
    with pytest.raises(Forbidden):
        assessments.record_assessment(
            getattr(world, role),
            world.service,
            phase="beta",
            assessed_on="2025-02-03",
            outcome="met",
            today=TODAY,
        )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"phase": "discovery"}, "phase", "Choose the phase assessed: alpha, beta or live"),
        ({"outcome": "passed"}, "outcome", "Choose the outcome: met, not met or in progress"),
        (
            {"assessed_on": "2025-02-30"},
            "assessed_on",
            "The assessment date must be a real date, such as 2025-03-31",
        ),
        *(
            (
                {"assessed_on": day},
                "assessed_on",
                "The assessment date must be 1 January 2000 or later",
            )
            for day in ("0001-01-01", "0002-06-30", "0003-12-31", "1999-12-31")
        ),
        (
            {"assessed_on": "2025-02-11"},
            "assessed_on",
            "The assessment date must be today or in the past",
        ),
    ],
)
def test_a_wrong_assessment_names_its_field(world, changes, field, message):
    with pytest.raises(InvalidRequest) as raised:
        record(world, **changes)
    assert (raised.value.field, raised.value.message) == (field, message)


def test_the_team_writes_how_the_service_evolved(world, sending):
    taken = record(world)
    assessments.update_evolution(world.editor, taken, "  More people apply online.  ")
    taken.refresh_from_db()
    assert taken.evolution == "More people apply online."
    entry = AuditEntry.objects.get(action="assessment.evolution")
    assert (entry.actor, entry.before, entry.after) == (
        world.editor,
        {"evolution": ""},
        {"evolution": "More people apply online."},
    )


def test_another_organisation_cannot_write_the_evolution(world, sending):
    taken = record(world)
    with pytest.raises(Forbidden):
        assessments.update_evolution(world.other_editor, taken, "Hacked")


def test_the_previous_assessment(world, sending):
    alpha = record(world, phase="alpha", assessed_on="2024-03-01")
    beta = record(world, phase="beta", assessed_on="2025-02-03")
    assert assessments.previous_of(beta) == alpha
    assert assessments.previous_of(alpha) is None


def test_the_public_section_compares_the_snapshots_with_now(world, sending):
    record(world, phase="alpha", assessed_on="2024-03-01")
    beta = record(world, phase="beta", assessed_on="2025-02-03")
    assessments.update_evolution(world.editor, beta, "Online first.")
    latest = kpi_services.service_kpis(world.service, now=kpi_services.current_time()).latest
    changes = service_changes(world.service, latest)
    assert changes["table"]["head"] == [
        "Key performance indicator",
        "Alpha assessment, 1 March 2024 (February 2024)",
        "Beta assessment, 3 February 2025 (January 2025)",
        "Now (January 2025)",
    ]
    assert changes["table"]["rows"] == [
        ["Cost per transaction", "Not enough data", "£4.00", "£4.00"],
        ["User satisfaction", "Not enough data", "70.0%", "70.0%"],
        ["Completion rate", "Not enough data", "75.0%", "75.0%"],
        ["Digital take-up", "Not enough data", "80.0%", "80.0%"],
    ]
    assert [s["evolution"] for s in changes["snapshots"]] == ["", "Online first."]
    assert [s["assessed_on"] for s in service_changes_json(world.service)] == [
        "2024-03-01",
        "2025-02-03",
    ]


def test_no_section_before_the_first_assessment(world):
    assert service_changes(world.service, None) is None
    assert kpi_rows([])["rows"][0] == ["Cost per transaction"]


# the evolution note for the coming assessment

FIRST = (
    "The alpha assessment is the service's first: there is no earlier assessment to say how "
    "it has evolved since"
)


@pytest.mark.parametrize("phase", ["beta", "live"])
def test_from_beta_on_the_team_writes_its_note_for_the_coming_assessment(world, phase):
    update_service(None, world.service, phase=phase)
    note = assessments.write_evolution_note(world.editor, world.service, "  Online first.  ")
    assert (note.text, note.updated_by) == ("Online first.", world.editor)
    assert assessments.evolution_note(world.service).text == "Online first."
    entry = AuditEntry.objects.get(action="assessment.coming_evolution")
    assert (entry.before, entry.after) == (None, {"evolution": "Online first."})


@pytest.mark.parametrize(
    ("phase", "refusal"),
    [
        ("alpha", FIRST),
        (
            "discovery",
            "The first assessment is the service's first: there is no earlier assessment to say "
            "how it has evolved since",
        ),
        ("retired", "A retired service has no coming assessment to write an evolution note for"),
    ],
)
def test_no_note_before_the_first_assessment_or_when_retired(world, phase, refusal):
    update_service(None, world.service, phase=phase)
    assert assessments.evolution_note_refusal(world.service) == refusal
    with pytest.raises(InvalidRequest) as raised:
        assessments.write_evolution_note(world.editor, world.service, "Online first.")
    assert (raised.value.message, raised.value.field) == (refusal, "evolution")
    assert assessments.evolution_note(world.service) is None


def test_an_alpha_service_assessed_before_writes_its_note(world, sending):
    update_service(None, world.service, phase="alpha")
    record(world, phase="alpha", assessed_on="2024-03-01", outcome="not-met")
    assert assessments.earlier_assessment(world.service) == "the alpha assessment of 1 March 2024"
    assert assessments.write_evolution_note(world.editor, world.service, "Fixed it").text


def test_an_assessment_made_before_the_platform_counts_as_earlier(world):
    update_service(None, world.service, phase="alpha", previous_assessment_date="2024-05-02")
    assert assessments.earlier_assessment(world.service) == "the assessment of 2 May 2024"
    assert assessments.evolution_note_refusal(world.service) == ""


def test_another_organisation_cannot_write_the_note(world):
    with pytest.raises(Forbidden):
        assessments.write_evolution_note(world.other_editor, world.service, "Hacked")


def test_recording_the_assessment_moves_the_note_into_its_snapshot(world, sending):
    assessments.write_evolution_note(world.editor, world.service, "Online first.")
    taken = record(world, phase="live", assessed_on="2025-02-03")
    assert taken.evolution == "Online first."
    assert assessments.evolution_note(world.service) is None
    entry = AuditEntry.objects.get(action="assessment.record")
    assert entry.after["evolution"] == "Online first."


def test_recording_an_older_assessment_leaves_the_note_for_the_coming_one(world, sending):
    record(world, phase="beta", assessed_on="2025-02-03")
    assessments.write_evolution_note(world.editor, world.service, "Online first.")
    older = record(world, phase="alpha", assessed_on="2024-03-01")
    assert older.evolution == ""
    assert assessments.evolution_note(world.service).text == "Online first."
