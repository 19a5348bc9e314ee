"""Organisations: the list, adding one, an organisation's page and changing it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy

from perfplat.accounts.permissions import administers, allowed, requires
from perfplat.registry import services as registry
from perfplat.registry.models import Organisation

from .. import forms
from .common import MANAGE, _data, _form_page, _link, _submit, _summary, answers


@answers("GET")
@requires("signed_in")
def organisations(request):
    return render(
        request,
        "manage/organisations.html",
        {
            "organisations": registry.organisations_visible_to(request.user),
            "can_add": allowed(request.user, "organisation.edit"),
            "breadcrumbs": [MANAGE],
        },
    )


ORGANISATIONS = ("Organisations", reverse_lazy("organisations"))


@answers("GET", "POST")
@requires("organisation.edit")
def organisation_new(request):
    form = forms.OrganisationForm(_data(request), user=request.user)
    created = _submit(form, lambda data: registry.create_organisation(request.user, **data))
    if created:
        messages.success(request, f"{created} added")
        return redirect("organisation", organisation=created.slug)
    return _form_page(
        request, form, "Add an organisation", "Add organisation", [MANAGE, ORGANISATIONS]
    )


@answers("GET")
@requires("organisation.view")
def organisation(request, organisation):
    user = request.user
    organisation = get_object_or_404(
        Organisation.objects.select_related("parent"), slug=organisation
    )
    children = [
        (child, allowed(user, "organisation.view", child)) for child in organisation.children.all()
    ]
    parent = organisation.parent
    if parent is not None and allowed(user, "organisation.view", parent):
        parent = _link(reverse("organisation", args=[parent.slug]), parent)
    return render(
        request,
        "manage/organisation.html",
        {
            "organisation": organisation,
            "summary": _summary(
                ("Name", organisation.name),
                ("Short name", organisation.slug),
                ("Abbreviation", organisation.abbreviation),
                ("Type", organisation.get_type_display()),
                ("Belongs to", parent),
            ),
            "services": organisation.services.all(),
            "children": children,
            "users": organisation.users.all() if administers(user, organisation) else None,
            "can_edit": allowed(user, "organisation.edit", organisation),
            "can_register": allowed(user, "service.create", organisation),
            "breadcrumbs": [MANAGE, ORGANISATIONS],
        },
    )


@answers("GET", "POST")
@requires("organisation.edit")
def organisation_edit(request, organisation):
    organisation = get_object_or_404(
        Organisation.objects.select_related("parent"), slug=organisation
    )
    form = forms.OrganisationForm(
        _data(request),
        user=request.user,
        organisation=organisation,
        initial=forms.OrganisationForm.initial_for(organisation),
    )
    updated = _submit(
        form,
        lambda data: registry.update_organisation(request.user, organisation, **data),
        instance=organisation,
    )
    if updated:
        messages.success(request, "Changes saved")
        return redirect("organisation", organisation=updated.slug)
    here = (str(organisation), reverse("organisation", args=[organisation.slug]))
    return _form_page(
        request,
        form,
        f"Change {organisation}",
        "Save changes",
        [MANAGE, ORGANISATIONS, here],
        cancel=here[1],
    )
