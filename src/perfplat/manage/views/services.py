"""Services: registering one, a service's page (its data sets and metrics) and changing it."""

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse

from perfplat.accounts.permissions import allowed, requires
from perfplat.datasets import services as data_sets
from perfplat.registry import services as registry
from perfplat.registry.models import Service

from .. import forms
from .common import (
    MANAGE,
    _data,
    _day,
    _form_page,
    _link,
    _service_crumb,
    _submit,
    _summary,
    answers,
)


@answers("GET", "POST")
@requires("service.create")
def service_new(request):
    user = request.user
    chosen = request.GET.get("organisation") or (
        user.organisation.slug if user.organisation_id else None
    )
    form = forms.ServiceForm(_data(request), user=user, initial={"organisation": chosen})
    created = _submit(form, lambda data: registry.create_service(user, **data))
    if created:
        messages.success(request, f"{created} registered")
        return redirect("service", service=created.slug)
    return _form_page(request, form, "Register a service", "Register service", [MANAGE])


@answers("GET")
@requires("service.view")
def service(request, service):
    user = request.user
    service = get_object_or_404(Service.objects.select_related("organisation"), slug=service)
    organisation = service.organisation
    if allowed(user, "organisation.view", organisation):
        organisation = _link(reverse("organisation", args=[organisation.slug]), organisation)
    start_page = service.start_page_url
    data_sets_of_service = list(
        service.data_sets.annotate(record_count=Count("record")).order_by("data_type")
    )
    metrics = list(service.metrics.select_related("data_set"))
    # How each data set's data arrived, in one query; a metric's source is its data set's
    # (always one of the service's own).
    sources = data_sets.sources_of(data_sets_of_service) if data_sets_of_service else {}
    for data_set in data_sets_of_service:
        data_set.source = sources[data_set.pk]
    return render(
        request,
        "manage/service.html",
        {
            "service": service,
            "summary": _summary(
                ("Name", service.name),
                ("Short name", service.slug),
                ("Organisation", organisation),
                (
                    "Phase",
                    render_to_string("frontend/components/tag.html", {"phase": service.phase}),
                ),
                ("Description", service.description),
                ("Start page", _link(start_page, start_page) if start_page else ""),
                ("Who uses the service", service.audience),
                ("How the dashboard is used", service.dashboard_usage),
                ("Previous assessment", _day(service.previous_assessment_date)),
                ("Next assessment", _day(service.next_assessment_date)),
            ),
            "phase_changes": service.phase_changes.select_related("changed_by"),
            "data_sets": data_sets_of_service,
            "metrics": [
                (metric, sources.get(metric.data_set_id, data_sets.NO_DATA)) for metric in metrics
            ],
            "can_edit": allowed(user, "service.edit", service),
            "can_manage_data_sets": allowed(user, "data_set.manage", service),
            "breadcrumbs": [MANAGE],
        },
    )


@answers("GET", "POST")
@requires("service.edit")
def service_edit(request, service):
    service = get_object_or_404(Service.objects.select_related("organisation"), slug=service)
    form = forms.ServiceForm(
        _data(request),
        user=request.user,
        service=service,
        initial=forms.ServiceForm.initial_for(service),
    )
    updated = _submit(
        form,
        lambda data: registry.update_service(request.user, service, **data),
        instance=service,
    )
    if updated:
        messages.success(request, "Changes saved")
        return redirect("service", service=updated.slug)
    crumb = _service_crumb(service)
    return _form_page(
        request, form, f"Change {service}", "Save changes", [MANAGE, crumb], cancel=crumb[1]
    )
