"""The publishing API: a service's dashboard draft (GET and PUT its content), the workflow's
transitions, its versions and their comparison; assessment snapshots; readiness reports.

Each operation parses, calls the function a page calls (dashboards.services,
publishing.assessments, publishing.readiness), and shapes the reply.
"""

from typing import Any

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Body, Query, Router
from ninja.responses import Status

from perfplat.accounts.permissions import requires
from perfplat.dashboards import services as dashboards
from perfplat.dashboards.models import DashboardVersion
from perfplat.errors import Conflict, InvalidRequest, NotFound
from perfplat.registry.models import Organisation, Service

from . import assessments, readiness
from .models import AssessmentSnapshot
from .schemas import (
    AssessmentIn,
    AssessmentOut,
    AssessmentPatch,
    ComparisonOut,
    DashboardOut,
    EvolutionNoteIn,
    EvolutionNoteOut,
    ReadinessOut,
    SendBackIn,
    VersionOut,
    VersionSummaryOut,
)

router = Router(tags=["publishing"])

CONTENT = Body(
    ...,
    description='The dashboard document: {"audience", "usage", "baseline" (like '
    '"2024-04-01/2025-03-31"), "modules": [{"kind", "title", "description", "data_set", "query", '
    '"value", "group", "metric", "text"}]}',
)
VERSION_FIELDS = ("created_by", "submitted_by", "reviewed_by", "dashboard__service__organisation")


def _service(slug: str) -> Service:
    return Service.objects.select_related("organisation").get(slug=slug)


def _working(service) -> DashboardVersion:
    version = dashboards.working_version(service)
    if version is None:
        raise Conflict("There is no draft of the dashboard: PUT its content to start one")
    return version


def _versions(service):
    return DashboardVersion.objects.filter(dashboard__service=service).select_related(
        *VERSION_FIELDS
    )


def _version(service, number: int) -> DashboardVersion:
    version = _versions(service).filter(number=number).first()
    if version is None:
        raise NotFound(f"The dashboard of {service.slug} has no version {number}")
    return version


@router.get("/services/{service}/dashboard", response=DashboardOut)
@requires("service.edit")
def get_dashboard(request, service: str):
    """The version being worked on (a draft or one in review) and the published one."""
    target = _service(service)
    return {
        "working": dashboards.working_version(target),
        "published": dashboards.published_version(target),
    }


@router.get("/services/{service}/dashboard/draft", response=VersionOut)
@requires("service.edit")
def get_draft(request, service: str):
    """The version being worked on: a draft, or one in review (404 when there is none)."""
    version = dashboards.working_version(_service(service))
    if version is None:
        raise NotFound(f"The dashboard of {service} has no draft")
    return version


@router.put("/services/{service}/dashboard/draft", response=VersionOut)
@requires("service.edit")
def put_draft(request, service: str, content: dict[str, Any] = CONTENT):
    """Replace the draft's content (a new draft is started when there is none; 409 while the
    version is in review). Every problem names its module and field: `modules[2].query`."""
    target = _service(service)
    with transaction.atomic():
        # A refused document leaves no new draft behind.
        version = dashboards.start_draft(request.user, target)
        return dashboards.save_draft(request.user, version, content)


@router.post("/services/{service}/dashboard/submit", response=VersionOut)
@requires("service.edit")
def submit(request, service: str):
    """Submit the draft for review."""
    target = _service(service)
    return dashboards.submit(request.user, _working(target))


@router.post("/services/{service}/dashboard/send-back", response=VersionOut)
@requires("service.publish")
def send_back(request, service: str, payload: SendBackIn):
    """Send the version in review back to the editors, saying what needs to change."""
    target = _service(service)
    return dashboards.send_back(request.user, _working(target), payload.comment)


@router.post("/services/{service}/dashboard/publish", response=VersionOut)
@requires("service.publish")
def publish(request, service: str):
    """Approve and publish the version in review; the data sets it shows (its modules' and
    those behind its KPI tiles) are published too."""
    target = _service(service)
    return dashboards.publish(request.user, _working(target))


@router.post("/services/{service}/dashboard/unpublish", response=VersionOut)
@requires("service.publish")
def unpublish(request, service: str, data_sets: bool = False):
    """Take the published version down: the service is no longer public. Its data sets stay
    published unless `?data_sets=true`, which unpublishes them too."""
    return dashboards.unpublish(request.user, _service(service), data_sets=data_sets)


@router.get("/services/{service}/dashboard/versions", response=list[VersionSummaryOut])
@requires("service.edit")
def list_versions(request, service: str):
    """Every version, newest first, with who did what when."""
    return list(_versions(_service(service)).order_by("-number"))


@router.get("/services/{service}/dashboard/versions/{number}", response=VersionOut)
@requires("service.edit")
def get_version(request, service: str, number: int):
    return _version(_service(service), number)


@router.get("/services/{service}/dashboard/compare", response=ComparisonOut)
@requires("service.edit")
def compare(
    request,
    service: str,
    older: int | None = Query(None, description="the version compared from"),
    newer: int | None = Query(None, description="the version compared to"),
):
    """What changed from one version to another (`?older=1&newer=2`): details and modules
    added, removed, changed or moved."""
    target = _service(service)
    if older is None or newer is None:
        # Checked here, not by the schema, so that permission is checked first.
        raise InvalidRequest("Give the two versions to compare: ?older=1&newer=2")
    first, second = _version(target, older), _version(target, newer)
    return {"older": older, "newer": newer, "changes": dashboards.compare(first, second)}


# assessment snapshots


@router.get("/services/{service}/assessments", response=list[AssessmentOut])
@requires("service.view")
def list_assessments(request, service: str):
    return assessments.snapshots_of(_service(service))


@router.post("/services/{service}/assessments", response={201: AssessmentOut})
@requires("service.publish")
def record_assessment(request, service: str, payload: AssessmentIn):
    """Record an assessment: the service's dashboard details and its KPIs of the last complete
    month before the date are frozen in it."""
    taken = assessments.record_assessment(request.user, _service(service), **payload.dict())
    return Status(201, taken)


def _snapshot(snapshot_id: int) -> AssessmentSnapshot:
    return get_object_or_404(
        AssessmentSnapshot.objects.select_related("service__organisation", "recorded_by"),
        pk=snapshot_id,
    )


@router.get("/assessments/{snapshot_id}", response=AssessmentOut)
@requires("service.view")
def get_assessment(request, snapshot_id: int):
    return _snapshot(snapshot_id)


@router.patch("/assessments/{snapshot_id}", response=AssessmentOut)
@requires("service.edit")
def update_assessment(request, snapshot_id: int, payload: AssessmentPatch):
    """Write how the service has evolved since the previous assessment (the team's note)."""
    return assessments.update_evolution(request.user, _snapshot(snapshot_id), payload.evolution)


# the evolution note for the coming assessment


def _note_json(service) -> dict:
    note = assessments.evolution_note(service)
    refusal = assessments.evolution_note_refusal(service)
    return {
        "service": service.slug,
        "evolution": note.text if note else "",
        "since": assessments.earlier_assessment(service) or None,
        "writable": not refusal,
        "refusal": refusal or None,
        "updated_at": note.updated_at if note else None,
        "updated_by": note.updated_by.email if note and note.updated_by else None,
    }


@router.get("/services/{service}/evolution", response=EvolutionNoteOut)
@requires("service.view")
def get_evolution_note(request, service: str):
    """The team's note, for the coming assessment, of how the service has evolved since the
    previous one; recording the assessment moves it into the snapshot."""
    return _note_json(_service(service))


@router.put("/services/{service}/evolution", response=EvolutionNoteOut)
@requires("service.edit")
def put_evolution_note(request, service: str, payload: EvolutionNoteIn):
    """Write the note for the coming assessment: at every phase after the first (from beta on,
    or once an earlier assessment is known), never for a retired service."""
    target = _service(service)
    assessments.write_evolution_note(request.user, target, payload.evolution)
    return _note_json(target)


# readiness


@router.get("/services/{service}/readiness", response=ReadinessOut)
@requires("service.view")
def service_readiness(request, service: str):
    """For the service's phase, each item of the Service Standard's performance reporting,
    met or not, with its evidence or what to do next; `required` marks the items asked at
    the service's phase (later phases' items are listed to prepare for)."""
    return readiness.report_json(readiness.readiness(_service(service)))


@router.get("/organisations/{organisation}/readiness", response=list[ReadinessOut])
@requires("organisation.view")
def organisation_readiness(request, organisation: str):
    """The readiness of each service of the organisation and the bodies under it that you
    work on."""
    target = Organisation.objects.get(slug=organisation)
    return [
        readiness.report_json(report)
        for report in readiness.organisation_readiness(request.user, target)
    ]
