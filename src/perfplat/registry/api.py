"""/api/organisations and /api/services: parse, call registry.services, shape the reply."""

from ninja import Router
from ninja.responses import Status

from perfplat.accounts.permissions import requires

from . import services
from .models import Organisation, PhaseChange, Service
from .schemas import (
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    PhaseChangeOut,
    ServiceIn,
    ServiceOut,
    ServicePatch,
)

router = Router(tags=["registry"])


@router.get("/organisations", response=list[OrganisationOut])
@requires("signed_in")
def list_organisations(request):
    """The organisations you can see: all for platform admins, your own tree otherwise."""
    return services.organisations_visible_to(request.user).prefetch_related("children")


@router.post("/organisations", response={201: OrganisationOut})
@requires("organisation.edit")
def create_organisation(request, payload: OrganisationIn):
    return Status(201, services.create_organisation(request.user, **payload.dict()))


@router.get("/organisations/{organisation}", response=OrganisationOut)
@requires("organisation.view")
def get_organisation(request, organisation: str):
    return Organisation.objects.get(slug=organisation)


@router.patch("/organisations/{organisation}", response=OrganisationOut)
@requires("organisation.edit")
def update_organisation(request, organisation: str, payload: OrganisationPatch):
    target = Organisation.objects.get(slug=organisation)
    return services.update_organisation(request.user, target, **payload.dict(exclude_unset=True))


@router.get("/services", response=list[ServiceOut])
@requires("signed_in")
def list_services(request):
    """The services you work on."""
    return services.services_visible_to(request.user)


@router.post("/services", response={201: ServiceOut})
@requires("service.create")
def create_service(request, payload: ServiceIn):
    return Status(201, services.create_service(request.user, **payload.dict()))


@router.get("/services/{service}", response=ServiceOut)
@requires("service.view")
def get_service(request, service: str):
    return Service.objects.select_related("organisation").get(slug=service)


@router.patch("/services/{service}", response=ServiceOut)
@requires("service.edit")
def update_service(request, service: str, payload: ServicePatch):
    target = Service.objects.select_related("organisation").get(slug=service)
    return services.update_service(request.user, target, **payload.dict(exclude_unset=True))


@router.get("/services/{service}/phase-changes", response=list[PhaseChangeOut])
@requires("service.view")
def phase_changes(request, service: str):
    return PhaseChange.objects.filter(service__slug=service).select_related("changed_by")
