"""Assessment snapshots: recording a Service Standard assessment freezes the service's dashboard
metadata and its KPIs at the assessment date; the team then writes how the service has evolved
since the previous assessment.

The KPIs are those the KPI API gives for the last complete month before the assessment date
(kpis.services with that date as `now`), stored as the API's JSON: data written later, even for
months before the assessment, never changes a snapshot.

Before an assessment the team may write its evolution note for it (how the service has evolved
since the previous assessment): at every phase after the first, that is from beta on or once an
earlier assessment is known. Recording the assessment moves the note into its snapshot.
"""

from datetime import UTC, date, datetime

from django.db import transaction
from django.utils import timezone

from perfplat.accounts.permissions import check
from perfplat.audit.services import record, snapshot
from perfplat.dashboards.services import published_version, working_version
from perfplat.errors import InvalidRequest
from perfplat.kpis import schemas as kpi_schemas
from perfplat.kpis import services as kpi_services
from perfplat.kpis.periods import MONTH

from .changes import day_text
from .models import AssessmentSnapshot, EvolutionNote

AUDITED = ["phase", "assessed_on", "outcome", "notes", "evolution"]
NOTES_LIMIT = 10_000


def _choice(value, choices, field: str, message: str) -> str:
    if value not in dict(choices):
        raise InvalidRequest(message, field=field)
    return value


def _text(value, field: str, label: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{label} must be text", field=field)
    if len(value) > NOTES_LIMIT:
        raise InvalidRequest(f"{label} must be {NOTES_LIMIT:,} characters or fewer", field=field)
    return value.strip()


EARLIEST_ASSESSMENT = date(2000, 1, 1)


def _assessment_date(value, today: date) -> date:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, date):
        raise InvalidRequest(
            "The assessment date must be a real date, such as 2025-03-31", field="assessed_on"
        )
    if value > today:
        raise InvalidRequest(
            "The assessment date must be today or in the past", field="assessed_on"
        )
    if value < EARLIEST_ASSESSMENT:
        # Service Standard assessments are younger; and the KPIs a year before a date in the
        # first years of the calendar cannot be worked out.
        raise InvalidRequest(
            "The assessment date must be 1 January 2000 or later", field="assessed_on"
        )
    return value


def moment_of(day: date) -> int:
    """The assessment date as the KPIs' `now`: its first second (UTC)."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def frozen_metadata(service) -> dict:
    """What the service and its dashboard said when the snapshot was recorded: the published
    version's metadata, or the working version's while none is published."""
    version = published_version(service) or working_version(service)
    content = version.content if version else {}
    return {
        "name": service.name,
        "phase": service.phase,
        "description": service.description,
        "audience": content.get("audience") or service.audience,
        "usage": content.get("usage") or service.dashboard_usage,
        "baseline": content.get("baseline", ""),
        "dashboard_version": version.number if version else None,
        "dashboard_state": version.state if version else None,
    }


def frozen_kpis(service, day: date) -> dict:
    """The KPIs of the last complete month before `day`, as the KPI API gives them."""
    latest = kpi_services.service_kpis(service, MONTH, now=moment_of(day)).latest
    return {"period": MONTH, **kpi_schemas.period_json(latest)}


def record_assessment(
    actor, service, *, phase, assessed_on, outcome, notes="", today: date | None = None
) -> AssessmentSnapshot:
    """Record an assessment and freeze the service's state at it (organisation admins)."""
    check(actor, "service.publish", service)
    today = today or timezone.now().date()
    clean = {
        "phase": _choice(
            phase,
            AssessmentSnapshot.PHASES,
            "phase",
            "Choose the phase assessed: alpha, beta or live",
        ),
        "assessed_on": _assessment_date(assessed_on, today),
        "outcome": _choice(
            outcome,
            AssessmentSnapshot.OUTCOMES,
            "outcome",
            "Choose the outcome: met, not met or in progress",
        ),
        "notes": _text(notes, "notes", "The notes"),
    }
    with transaction.atomic():
        note = _note_for(service, clean["assessed_on"])
        taken = AssessmentSnapshot.objects.create(
            service=service,
            metadata=frozen_metadata(service),
            kpis=frozen_kpis(service, clean["assessed_on"]),
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
            evolution=note.text if note else "",
            **clean,
        )
        if note is not None:
            note.delete()
        record(
            actor,
            "assessment.record",
            taken,
            None,
            snapshot(taken, AUDITED),
            service=service,
            organisation=service.organisation,
        )
        previous = service.previous_assessment_date
        if previous is None or previous < clean["assessed_on"]:
            # The service's own record of its last assessment follows.
            from perfplat.registry.services import update_service

            update_service(actor, service, previous_assessment_date=clean["assessed_on"])
    return taken


def update_evolution(actor, taken: AssessmentSnapshot, evolution) -> AssessmentSnapshot:
    """The team's account of how the service has evolved since the previous assessment."""
    service = taken.service
    check(actor, "service.edit", service)
    text = _text(evolution, "evolution", "How the service has evolved")
    with transaction.atomic():
        taken = AssessmentSnapshot.objects.select_for_update().get(pk=taken.pk)
        before = snapshot(taken, ["evolution"])
        taken.evolution = text
        taken.save(update_fields=["evolution", "updated_at"])
        record(
            actor,
            "assessment.evolution",
            taken,
            before,
            snapshot(taken, ["evolution"]),
            service=service,
            organisation=service.organisation,
        )
    return taken


def snapshots_of(service) -> list[AssessmentSnapshot]:
    """The service's snapshots, oldest assessment first."""
    return list(
        AssessmentSnapshot.objects.filter(service=service)
        .select_related("recorded_by")
        .order_by("assessed_on", "pk")
    )


def previous_of(taken: AssessmentSnapshot) -> AssessmentSnapshot | None:
    """The assessment before this one."""
    earlier = [s for s in snapshots_of(taken.service) if s.pk != taken.pk]
    before = [s for s in earlier if (s.assessed_on, s.pk) < (taken.assessed_on, taken.pk)]
    return before[-1] if before else None


# the evolution note for the coming assessment


def _note_for(service, assessed_on: date) -> EvolutionNote | None:
    """The written evolution note that goes into an assessment being recorded: only into the
    newest one (recording an older assessment after the fact leaves the note for the coming
    one)."""
    note = (
        EvolutionNote.objects.select_for_update().filter(service=service).exclude(text="").first()
    )
    later = AssessmentSnapshot.objects.filter(service=service, assessed_on__gt=assessed_on)
    return None if note is None or later.exists() else note


def earlier_assessment(service) -> str:
    """The assessment the coming one follows, in words ("the beta assessment of 3 February
    2025"), from the snapshots or the service's previous assessment date; "" when none is
    known."""
    latest = AssessmentSnapshot.objects.filter(service=service).order_by("assessed_on", "pk").last()
    if latest is not None:
        return (
            f"the {latest.get_phase_display().lower()} assessment of {day_text(latest.assessed_on)}"
        )
    if service.previous_assessment_date:
        return f"the assessment of {day_text(service.previous_assessment_date)}"
    return ""


def evolution_note_refusal(service) -> str:
    """Why the service cannot write an evolution note for its coming assessment, or "" when it
    can: at every phase after the first, that is from beta on, or at any phase but retired once
    an earlier assessment is known."""
    if service.phase == service.RETIRED:
        return "A retired service has no coming assessment to write an evolution note for"
    if service.phase in (service.BETA, service.LIVE) or earlier_assessment(service):
        return ""
    return (
        f"The {'alpha' if service.phase == service.ALPHA else 'first'} assessment is the "
        "service's first: there is no earlier assessment to say how it has evolved since"
    )


def evolution_note(service) -> EvolutionNote | None:
    return EvolutionNote.objects.filter(service=service).select_related("updated_by").first()


def write_evolution_note(actor, service, text) -> EvolutionNote:
    """The team's account, for the coming assessment, of how the service has evolved since the
    previous one (editors of the service)."""
    check(actor, "service.edit", service)
    text = _text(text, "evolution", "How the service has evolved")
    refusal = evolution_note_refusal(service)
    if refusal:
        raise InvalidRequest(refusal, field="evolution")
    with transaction.atomic():
        note = EvolutionNote.objects.select_for_update().filter(service=service).first()
        before = {"evolution": note.text} if note else None
        note = note or EvolutionNote(service=service)
        note.text = text
        note.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        note.save()
        record(
            actor,
            "assessment.coming_evolution",
            service,
            before,
            {"evolution": text},
            service=service,
            organisation=service.organisation,
        )
    return note
