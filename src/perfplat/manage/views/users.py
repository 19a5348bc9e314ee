"""People: the list of users, adding one (who is emailed a link to choose a password) and
changing one."""

import logging

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy

from perfplat.accounts import services as accounts
from perfplat.accounts.models import User
from perfplat.accounts.permissions import allowed, requires

from .. import forms
from .common import MANAGE, _data, _form_page, _submit, answers

logger = logging.getLogger(__name__)


USERS = ("Users", reverse_lazy("users"))


@answers("GET")
@requires("users.manage")
def users(request):
    return render(
        request,
        "manage/users.html",
        {"users": accounts.users_visible_to(request.user), "breadcrumbs": [MANAGE]},
    )


@answers("GET", "POST")
@requires("users.manage")
def user_new(request):
    form = forms.UserForm(_data(request), user=request.user)
    created = _submit(
        form,
        lambda data: accounts.create_user(
            request.user,
            data["email"],
            data["role"],
            organisation=data["organisation"],
            name=data["name"],
        ),
    )
    if created:
        # The account exists and its audit entry is written even if the email fails.
        if not accounts.send_password_setup(created, request):
            messages.warning(
                request,
                f"{created.email} was added, but the email with their password link could not "
                "be sent. Ask them to use “Forgotten your password?” on the sign-in page.",
            )
        else:
            messages.success(
                request, f"{created.email} added. We have emailed them a link to choose a password"
            )
        return redirect("users")
    return _form_page(request, form, "Add a user", "Add user", [MANAGE, USERS])


@answers("GET", "POST")
@requires("users.manage")
def user_edit(request, user_id):
    actor = request.user
    person = get_object_or_404(User.objects.select_related("organisation"), pk=user_id)
    form = forms.UserEditForm(
        _data(request), user=actor, person=person, initial=forms.UserEditForm.initial_for(person)
    )
    updated = _submit(
        form, lambda data: accounts.update_user(actor, person, **data), instance=person
    )
    if updated:
        messages.success(request, "Changes saved")
        return redirect("users" if allowed(actor, "users.manage") else "manage-home")
    crumbs = [MANAGE, USERS] if allowed(actor, "users.manage") else [MANAGE]
    return _form_page(
        request, form, f"Change {person.email}", "Save changes", crumbs, cancel=crumbs[-1][1]
    )
