"""The management area under /manage/: pages for people, rendered on the server with GOV.UK
Frontend, working without JavaScript.

Each view declares its permission rule with `requires` (checked on the object its URL names,
before the view runs) and the methods it answers with `answers`. Views stay thin: a form parses
the input, a service function checks permission, validates, makes the change and writes the
audit entry, and a domain error it raises is shown on the form beside the field it names.
Refusals (403), unknown objects (404) and not being signed in (to the sign-in page) are turned
into pages in one place, perfplat.frontend.views.domain_error_page.
"""

import functools
import json
import logging

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from perfplat.accounts import services as accounts
from perfplat.accounts.models import PersonalToken, User
from perfplat.accounts.permissions import (
    administers,
    allowed,
    organisation_ids_managed,
    requires,
)
from perfplat.audit.models import AuditEntry
from perfplat.datasets import services as data_sets
from perfplat.datasets.models import DataSet
from perfplat.errors import Conflict, InvalidRequest, MethodNotAllowed, error_response
from perfplat.registry import services as registry
from perfplat.registry.models import Organisation, Service

from . import forms

logger = logging.getLogger(__name__)

# Domain errors about the input, shown on the form; refusals and unknown objects become pages.
FORM_ERRORS = (InvalidRequest, Conflict)
AUDIT_PAGE_SIZE = 50


def answers(*methods):
    """The HTTP methods a page answers (and HEAD with GET); any other gets a 405 page. Set on
    the decorated view as `permission_methods`, which the permission matrix test reads."""
    accepted = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in accepted:
                raise MethodNotAllowed(request.method, list(methods))
            return view(request, *args, **kwargs)

        wrapper.permission_methods = tuple(methods)
        return wrapper

    return decorate


def _data(request):
    """The submitted form data of a POST; None (an unbound form) otherwise."""
    return request.POST if request.method == "POST" else None


def _submit(form, action, instance=None):
    """Run `action(cleaned_data)` when the bound form is valid and return its result. A domain
    error about the input is put on the form instead (and None returned); `instance`, which the
    failed change may have altered in memory, is reloaded."""
    if not form.is_bound or not form.is_valid():
        return None
    try:
        return action(form.cleaned_data)
    except FORM_ERRORS as error:
        forms.add_domain_error(form, error)
        if instance is not None:
            instance.refresh_from_db()
        return None


def _form_page(request, form, title, button, breadcrumbs=(), **context):
    return render(
        request,
        "manage/form.html",
        {"form": form, "title": title, "button": button, "breadcrumbs": breadcrumbs, **context},
    )


MANAGE = ("Manage", reverse_lazy("manage-home"))


def _summary(*rows) -> list[dict]:
    """Rows for components/summary_list.html from (key, value) pairs."""
    return [{"key": key, "value": value} for key, value in rows]


def _link(href, text):
    return format_html('<a class="govuk-link" href="{}">{}</a>', href, text)


def _day(value) -> str:
    return format_date(value, "j F Y") if value else ""


def _seconds(value) -> str:
    return "" if value is None else f"{value} second{'' if value == 1 else 's'}"


# signing in and out


def _same_site_path(value: str | None) -> str | None:
    """`next` only ever leads to a path of this site, never to another site."""
    if value and value.startswith("/") and url_has_allowed_host_and_scheme(value, None):
        return value
    return None


@answers("GET", "POST")
@requires("public")
def sign_in(request):
    next_path = _same_site_path(request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(next_path or "manage-home")
    form = forms.SignInForm(request, data=_data(request))
    if form.is_bound and form.is_valid():
        login(request, form.get_user())
        return redirect(next_path or "manage-home")
    status = 429 if form.is_bound and form.locked_out else 200
    return render(request, "manage/sign_in.html", {"form": form}, status=status)


def locked_out(request, original_response=None, credentials=None):
    """django-axes's answer to a locked-out sign-in (settings.AXES_LOCKOUT_CALLABLE). The
    sign-in page has already said so, with status 429; a sign-in made another way gets a page
    that says so."""
    if original_response is not None and original_response.status_code == 429:
        return original_response
    return render(
        request,
        "manage/message.html",
        {
            "title": "Your account is locked",
            "paragraphs": [forms.lockout_message(request)],
            "links": [("Reset your password", reverse("password_reset"))],
        },
        status=429,
    )


def csrf_failure(request, reason=""):
    """settings.CSRF_FAILURE_VIEW: a form sent without its CSRF token (an old page, or cookies
    turned off) gets a GOV.UK page that says what to do; programs get JSON."""
    from perfplat.errors import Forbidden
    from perfplat.frontend.views import wants_json

    message = "This form has expired. Go back, reload the page and try again."
    if wants_json(request):
        return error_response(Forbidden(message))
    return render(
        request,
        "manage/message.html",
        {
            "title": "This form has expired",
            "paragraphs": [
                "For your security, forms stop working after a while, and they need cookies.",
                "Go back, reload the page and try again.",
            ],
        },
        status=403,
    )


@answers("POST")
@requires("public")
def sign_out(request):
    logout(request)
    return redirect("home")


# passwords: Django's views with GOV.UK templates


def _auth_page(rule, methods, view):
    return answers(*methods)(requires(rule)(view))


password_change = _auth_page(
    "signed_in",
    ("GET", "POST"),
    auth_views.PasswordChangeView.as_view(
        form_class=forms.PasswordChangeForm,
        template_name="manage/form.html",
        success_url=reverse_lazy("password-change-done"),
        extra_context={"title": "Change your password", "button": "Change password"},
    ),
)
password_change_done = _auth_page(
    "signed_in",
    ("GET",),
    auth_views.PasswordChangeDoneView.as_view(
        template_name="manage/message.html",
        extra_context={
            "title": "Your password has been changed",
            "paragraphs": ["Use your new password the next time you sign in."],
            "links": [("Go to your services", reverse_lazy("manage-home"))],
        },
    ),
)
password_reset = _auth_page(
    "public",
    ("GET", "POST"),
    auth_views.PasswordResetView.as_view(
        form_class=forms.PasswordResetForm,
        template_name="manage/form.html",
        email_template_name="manage/email/password_reset.txt",
        subject_template_name="manage/email/password_reset_subject.txt",
        success_url=reverse_lazy("password_reset_done"),
        extra_context={
            "title": "Reset your password",
            "intro": "We will email you a link to choose a new password.",
            "button": "Send the link",
        },
    ),
)
password_reset_done = _auth_page(
    "public",
    ("GET",),
    auth_views.PasswordResetDoneView.as_view(
        template_name="manage/message.html",
        extra_context={
            "title": "Check your email",
            "paragraphs": [
                "If the address you gave has an account, we have sent it a link to choose a "
                "new password. The link works once, for 3 days.",
                "If no email arrives within a few minutes, check your spam folder, or ask an "
                "admin of your organisation.",
            ],
        },
    ),
)
password_reset_confirm = _auth_page(
    "public",
    ("GET", "POST"),
    auth_views.PasswordResetConfirmView.as_view(
        form_class=forms.NewPasswordForm,
        template_name="manage/password_reset_confirm.html",
        success_url=reverse_lazy("password_reset_complete"),
        extra_context={"title": "Choose your password", "button": "Save password"},
    ),
)
password_reset_complete = _auth_page(
    "public",
    ("GET",),
    auth_views.PasswordResetCompleteView.as_view(
        template_name="manage/message.html",
        extra_context={
            "title": "Your password is set",
            "paragraphs": ["You can now sign in with your email address and new password."],
            "links": [("Sign in", reverse_lazy("sign-in"))],
        },
    ),
)


# your services


@answers("GET")
@requires("signed_in")
def home(request):
    user = request.user
    return render(
        request,
        "manage/home.html",
        {
            "services": registry.services_visible_to(user),
            "can_register": allowed(user, "service.create"),
            "can_manage_users": allowed(user, "users.manage"),
            "can_see_audit": allowed(user, "audit.view"),
        },
    )


# organisations


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


# services


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


def _service_crumb(service):
    return (str(service), reverse("service", args=[service.slug]))


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


# data sets


def _settings(data) -> data_sets.DataSetSettings:
    return data_sets.DataSetSettings(
        auto_ids=data["auto_ids"],
        raw_queries_allowed=data["raw_queries_allowed"],
        max_age_expected=data["max_age_expected"],
        published=data["published"],
        cache_max_age=data["cache_max_age"],
        upload_format=data["upload_format"],
    )


def _write_url(request, data_set) -> str:
    return request.build_absolute_uri(
        reverse("data-set", args=[data_set.data_group, data_set.data_type])
    )


def _token_page(request, data_set, token, title, breadcrumbs):
    """The one page that ever shows a data set's token (the database keeps only its hash)."""
    write_url = _write_url(request, data_set)
    example = {"_timestamp": "2025-01-06T00:00:00Z"}
    example.update({name: "example" for name in data_set.auto_ids if name != "_timestamp"})
    example["count"] = 1
    return render(
        request,
        "manage/data_set_token.html",
        {
            "data_set": data_set,
            "token": token,
            "title": title,
            "write_url": write_url,
            "example_record": json.dumps(example),
            "breadcrumbs": breadcrumbs,
        },
    )


@answers("GET", "POST")
@requires("data_set.manage")
@never_cache
def data_set_new(request, service):
    service = get_object_or_404(Service.objects.select_related("organisation"), slug=service)
    form = forms.DataSetForm(_data(request))
    created = _submit(
        form,
        lambda data: data_sets.create_data_set(
            None, data["data_type"], settings=_settings(data), service=service, actor=request.user
        ),
    )
    crumbs = [MANAGE, _service_crumb(service)]
    if created:
        data_set, token = created
        # Shown in this response, not after a redirect: the token must never be stored.
        return _token_page(request, data_set, token, "Data set created", crumbs)
    return _form_page(
        request,
        form,
        "Create a data set",
        "Create data set",
        crumbs,
        caption=str(service),
        intro=f"Its address will be {service.slug}/<data type>. Programs write its records "
        "with the token you will see on the next page.",
        cancel=crumbs[-1][1],
    )


def _data_set_of(data_set_id) -> DataSet:
    return get_object_or_404(
        DataSet.objects.select_related("service__organisation"), pk=data_set_id
    )


def _data_set_crumbs(data_set, here=False):
    crumbs = [MANAGE]
    if data_set.service_id:
        crumbs.append(_service_crumb(data_set.service))
    if here:
        crumbs.append((str(data_set), reverse("manage-data-set", args=[data_set.pk])))
    return crumbs


@answers("GET")
@requires("data_set.manage")
def data_set(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    tokens = data_set.tokens.order_by(F("revoked_at").desc(nulls_first=True), "-created_at")
    service = data_set.service
    last_write = data_set.last_write_at
    return render(
        request,
        "manage/data_set.html",
        {
            "data_set": data_set,
            "tokens": tokens,
            "summary": _summary(
                ("Address", str(data_set)),
                ("Name", data_set.name),
                (
                    "Service",
                    _link(reverse("service", args=[service.slug]), service) if service else "",
                ),
                (
                    "Write URL",
                    format_html('<code class="app-token">{}</code>', _write_url(request, data_set)),
                ),
                ("Records", data_set.record_set.count()),
                (
                    "Source",
                    render_to_string(
                        "manage/_source_tag.html", {"source": data_sets.source_of(data_set)}
                    ),
                ),
                (
                    "Last write",
                    format_date(timezone.localtime(last_write), "j F Y, H:i")
                    if last_write
                    else "Never",
                ),
                ("Published", "Yes: anyone can read its records" if data_set.published else "No"),
                ("Raw queries", "Allowed" if data_set.raw_queries_allowed else "Not allowed"),
                ("Fields that identify a record", ", ".join(data_set.auto_ids)),
                ("Maximum age", _seconds(data_set.max_age_expected)),
                ("Cache time", _seconds(data_set.cache_max_age) or "The default"),
                ("Spreadsheet format", data_set.get_upload_format_display()),
            ),
            "breadcrumbs": _data_set_crumbs(data_set),
        },
    )


@answers("GET", "POST")
@requires("data_set.manage")
def data_set_edit(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    form = forms.DataSetSettingsForm(
        _data(request), initial=forms.DataSetSettingsForm.initial_for(data_set)
    )
    updated = _submit(form, lambda data: data_sets.update_data_set(request.user, data_set, **data))
    if updated:
        messages.success(request, "Settings saved")
        return redirect("manage-data-set", data_set_id=data_set.pk)
    crumbs = _data_set_crumbs(data_set, here=True)
    return _form_page(
        request,
        form,
        "Change the data set's settings",
        "Save settings",
        crumbs,
        caption=str(data_set),
        cancel=crumbs[-1][1],
    )


@answers("GET", "POST")
@requires("data_set.manage")
@never_cache
def data_set_rotate_token(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    crumbs = _data_set_crumbs(data_set, here=True)
    if request.method == "POST":
        token = data_sets.rotate_token(data_set, actor=request.user)
        return _token_page(request, data_set, token, "New token issued", crumbs)
    return render(
        request, "manage/data_set_rotate.html", {"data_set": data_set, "breadcrumbs": crumbs}
    )


@answers("GET", "POST")
@requires("data_set.manage")
def data_set_empty(request, data_set_id):
    data_set = _data_set_of(data_set_id)
    if request.method == "POST":
        data_sets.empty(data_set, actor=request.user)
        messages.success(request, f"{data_set} emptied: it now contains 0 records")
        return redirect("manage-data-set", data_set_id=data_set.pk)
    return render(
        request,
        "manage/data_set_empty.html",
        {
            "caption": f"Data set {data_set}",
            "title": "Empty the data set?",
            "button": "Empty the data set",
            "cancel": reverse("manage-data-set", args=[data_set.pk]),
            "record_count": data_set.record_set.count(),
            "breadcrumbs": _data_set_crumbs(data_set, here=True),
        },
    )


# people


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
        try:
            accounts.send_password_setup(created, request)
        except Exception:
            # The account exists and its audit entry is written; only the email failed.
            logger.exception("Could not send the password email to %s", created.email)
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


# personal API tokens


@answers("GET", "POST")
@requires("signed_in")
@never_cache
def tokens(request):
    user = request.user
    form = forms.TokenForm(_data(request))
    issued = _submit(form, lambda data: accounts.issue_personal_token(user, user, data["name"]))
    if issued:
        # Shown in this response only, as a data set's token is.
        form = forms.TokenForm()
    return render(
        request,
        "manage/tokens.html",
        {
            "form": form,
            "tokens": user.tokens.all(),
            "issued": issued,
            "api_url": request.build_absolute_uri("/api/me"),
            "breadcrumbs": [MANAGE],
        },
    )


@answers("POST")
@requires("signed_in")
def token_revoke(request, token_id):
    row = get_object_or_404(PersonalToken.objects.select_related("user__organisation"), pk=token_id)
    # Revoking another person's token needs the right to manage them: the service checks.
    accounts.revoke_personal_token(request.user, row)
    messages.success(request, f"Token {row.prefix}… revoked: it no longer works")
    return redirect("tokens")


# the audit log

ACTIONS = {
    "organisation.create": "Organisation added",
    "organisation.update": "Organisation changed",
    "service.create": "Service registered",
    "service.update": "Service changed",
    "data_set.create": "Data set created",
    "data_set.update": "Data set settings changed",
    "data_set.rotate_token": "Data set token replaced",
    "data_set.empty": "Data set emptied",
    "user.create": "User added",
    "user.update": "User changed",
    "user.sign_in": "Signed in",
    "user.sign_out": "Signed out",
    "metric.create": "Metric added",
    "metric.update": "Metric changed",
    "metric.delete": "Metric removed",
    "upload.commit": "Spreadsheet uploaded",
    "data_set.header_mapping": "Upload column mapping changed",
    "collector.create": "Collector added",
    "collector.update": "Collector changed",
    "collector.pause": "Collector paused",
    "collector.resume": "Collector resumed",
    "collector.delete": "Collector removed",
    "personal_token.create": "API token created",
    "personal_token.revoke": "API token revoked",
    # perfplat.publishing
    "dashboard.draft": "Dashboard draft started",
    "dashboard.edit": "Dashboard draft changed",
    "dashboard.submit": "Dashboard submitted for review",
    "dashboard.send_back": "Dashboard sent back",
    "dashboard.publish": "Dashboard published",
    "dashboard.unpublish": "Dashboard unpublished",
    "assessment.record": "Assessment recorded",
    "assessment.evolution": "Assessment's evolution note changed",
}


# How the log names the kinds of object (AuditEntry.object_type is the model's name).
OBJECT_TYPES = {
    "dataset": "data set",
    "personaltoken": "API token",
    "dashboardversion": "dashboard version",
    "assessmentsnapshot": "assessment",
}


def _shown(value) -> str:
    if value is None:
        return "none"
    if value == "":
        return "empty"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


# Bookkeeping the entry's own time already tells.
AUDIT_HIDDEN_FIELDS = {"created_at", "updated_at"}


def _audit_row(entry: AuditEntry) -> dict:
    return {
        "at": entry.at,
        "who": str(entry.actor) if entry.actor_id else "System",
        "action": ACTIONS.get(entry.action, entry.action),
        "code": entry.action,
        "object": f"{OBJECT_TYPES.get(entry.object_type, entry.object_type)}: {entry.object_repr}",
        "changes": [
            (field, _shown(before), _shown(after))
            for field, before, after in entry.changes()
            # A field left empty on creation says nothing.
            if field not in AUDIT_HIDDEN_FIELDS and (before not in (None, "") or after != "")
        ],
    }


@answers("GET")
@requires("audit.view")
def audit(request):
    user = request.user
    services = registry.services_visible_to(user)
    entries = AuditEntry.objects.select_related("actor")
    if not user.is_platform_admin:
        # An organisation admin sees what concerns the bodies they administer.
        entries = entries.filter(
            Q(organisation_id__in=organisation_ids_managed(user)) | Q(service__in=services)
        )
    form = forms.AuditFilterForm(
        request.GET, services=services, users=accounts.users_visible_to(user)
    )
    if form.is_valid():
        if form.cleaned_data["service"]:
            entries = entries.filter(service=form.cleaned_data["service"])
        who = form.cleaned_data["user"]
        if who == form.SYSTEM:
            entries = entries.filter(actor__isnull=True)
        elif who:
            entries = entries.filter(actor_id=int(who))
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "manage/audit.html",
        {
            "form": form,
            "page": page,
            "rows": [_audit_row(entry) for entry in page],
            "query": query.urlencode(),
            "breadcrumbs": [MANAGE],
        },
    )
