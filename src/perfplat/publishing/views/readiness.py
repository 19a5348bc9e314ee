"""The Service Standard readiness report of a service (a page, and a printable page), and an
organisation's overview of its services' readiness. Their JSON twin is
/api/services/<service>/readiness (publishing.api)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from perfplat.accounts.permissions import allowed, requires
from perfplat.metrics.services import check_catalogue
from perfplat.registry.models import Organisation

from .. import readiness as reports
from .common import MANAGE, answers, crumbs, service_of


def _context(request, service, **extra):
    report = reports.readiness(service)
    return {
        "service": service,
        "report": report,
        "phase_names": {"alpha": "Alpha", "beta": "Beta", "live": "Live"},
        "can_check": allowed(request.user, "service.edit", service) and service.metrics.exists(),
        "json_url": f"/api/services/{service.slug}/readiness",
        **extra,
    }


@answers("GET")
@requires("service.view")
def service_readiness(request, service):
    service = service_of(service)
    return render(
        request,
        "publishing/readiness.html",
        _context(request, service, breadcrumbs=crumbs(service)),
    )


@answers("GET")
@requires("service.view")
def service_readiness_print(request, service):
    service = service_of(service)
    return render(request, "publishing/readiness_print.html", _context(request, service))


@answers("POST")
@requires("service.edit")
def check_metrics(request, service):
    """Run the support check on every metric of the catalogue and keep the verdicts."""
    service = service_of(service)
    verdicts = [verdict for _, verdict in check_catalogue(request.user, service)]
    supported = sum(1 for verdict in verdicts if verdict.supported)
    messages.success(
        request, f"Metrics checked: the platform supports {supported} of {len(verdicts)}"
    )
    return redirect("publishing:readiness", service=service.slug)


@answers("GET")
@requires("organisation.view")
def organisation_readiness(request, organisation):
    organisation = get_object_or_404(Organisation, slug=organisation)
    rows = reports.organisation_readiness(request.user, organisation)
    return render(
        request,
        "publishing/organisation_readiness.html",
        {
            "organisation": organisation,
            "reports": rows,
            "breadcrumbs": [
                MANAGE,
                (str(organisation), reverse("organisation", args=[organisation.slug])),
            ],
        },
    )
