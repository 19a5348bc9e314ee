"""Assessment snapshots: the list of a service's assessments, recording one (organisation
admins), one snapshot with its frozen metadata and KPIs, and the team's note on how the service
has evolved since the previous assessment: on a snapshot, or written ahead for the coming
assessment."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from perfplat.accounts.permissions import allowed, requires

from .. import assessments, forms
from ..changes import day_text, kpi_rows
from ..models import AssessmentSnapshot
from .common import answers, crumbs, data, service_of, submit


def _assessments_crumb(service):
    return ("Assessments", reverse("publishing:assessments", args=[service.slug]))


@answers("GET")
@requires("service.view")
def assessment_list(request, service):
    service = service_of(service)
    return render(
        request,
        "publishing/assessments.html",
        {
            "service": service,
            "snapshots": assessments.snapshots_of(service)[::-1],
            "can_record": allowed(request.user, "service.publish", service),
            "can_edit": allowed(request.user, "service.edit", service),
            "note": assessments.evolution_note(service),
            "note_refusal": assessments.evolution_note_refusal(service),
            "since": assessments.earlier_assessment(service),
            "breadcrumbs": crumbs(service),
        },
    )


@answers("GET", "POST")
@requires("service.publish")
def assessment_new(request, service):
    service = service_of(service)
    form = forms.AssessmentForm(data(request), initial={"phase": _phase_default(service)})
    taken = submit(
        form, lambda values: assessments.record_assessment(request.user, service, **values)
    )
    if taken:
        messages.success(
            request,
            f"The {taken.get_phase_display().lower()} assessment is recorded: its dashboard "
            "details and KPIs are frozen",
        )
        return redirect("publishing:assessment", snapshot_id=taken.pk)
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "Record an assessment",
            "caption": str(service),
            "intro": "The platform keeps a copy of the dashboard's details and the KPIs of the "
            "last complete month before the assessment date. Later data does not change them.",
            "button": "Record assessment",
            "cancel": reverse("publishing:assessments", args=[service.slug]),
            "breadcrumbs": crumbs(service, _assessments_crumb(service)),
        },
    )


def _phase_default(service) -> str | None:
    return service.phase if service.phase in dict(AssessmentSnapshot.PHASES) else None


def _snapshot(snapshot_id) -> AssessmentSnapshot:
    return get_object_or_404(
        AssessmentSnapshot.objects.select_related("service__organisation", "recorded_by"),
        pk=snapshot_id,
    )


@answers("GET")
@requires("service.view")
def assessment(request, snapshot_id):
    taken = _snapshot(snapshot_id)
    service = taken.service
    previous = assessments.previous_of(taken)
    return render(
        request,
        "publishing/assessment.html",
        {
            "service": service,
            "snapshot": taken,
            "previous": previous,
            "kpis": kpi_rows([s for s in (previous, taken) if s is not None]),
            "can_edit": allowed(request.user, "service.edit", service),
            "breadcrumbs": crumbs(service, _assessments_crumb(service)),
        },
    )


@answers("GET", "POST")
@requires("service.edit")
def evolution(request, snapshot_id):
    taken = _snapshot(snapshot_id)
    service = taken.service
    form = forms.EvolutionForm(data(request), initial={"evolution": taken.evolution})
    saved = submit(
        form, lambda values: assessments.update_evolution(request.user, taken, values["evolution"])
    )
    if saved:
        messages.success(request, "How the service has evolved is saved")
        return redirect("publishing:assessment", snapshot_id=taken.pk)
    previous = assessments.previous_of(taken)
    since = (
        f"since the {previous.get_phase_display().lower()} assessment of "
        f"{day_text(previous.assessed_on)}"
        if previous
        else "since the service began"
    )
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "How the service has evolved",
            "caption": f"{service}: {taken}",
            "intro": f"Describe how the service has changed {since}.",
            "button": "Save",
            "cancel": reverse("publishing:assessment", args=[taken.pk]),
            "breadcrumbs": crumbs(
                service,
                _assessments_crumb(service),
                (str(taken).capitalize(), reverse("publishing:assessment", args=[taken.pk])),
            ),
        },
    )


@answers("GET", "POST")
@requires("service.edit")
def coming_evolution(request, service):
    """The evolution note for the coming assessment (publishing.assessments)."""
    service = service_of(service)
    note = assessments.evolution_note(service)
    form = forms.EvolutionForm(data(request), initial={"evolution": note.text if note else ""})
    saved = submit(
        form,
        lambda values: assessments.write_evolution_note(request.user, service, values["evolution"]),
    )
    if saved:
        messages.success(request, "How the service has evolved is saved for the coming assessment")
        return redirect("publishing:assessments", service=service.slug)
    return render(
        request,
        "publishing/evolution_note.html",
        {
            "service": service,
            "form": form,
            "refusal": assessments.evolution_note_refusal(service),
            "since": assessments.earlier_assessment(service),
            "breadcrumbs": crumbs(service, _assessments_crumb(service)),
        },
    )
