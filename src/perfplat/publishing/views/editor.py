"""The dashboard editor: /manage/services/<service>/dashboard and the pages under it.

Every change is made to the working draft's content document by a function of
publishing.editor and saved with dashboards.services.save_draft, which checks the whole
document; its errors name the module and field, and are shown beside that field.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from perfplat.accounts.permissions import allowed, requires
from perfplat.dashboards import services as dashboards
from perfplat.dashboards.content import MODULE_KINDS, TEXT, baseline_text
from perfplat.dashboards.models import DashboardVersion
from perfplat.errors import Conflict, NotFound

from .. import editor, forms
from .common import (
    FORM_ERRORS,
    answers,
    crumbs,
    data,
    editor_crumb,
    service_of,
    submit,
)

V = DashboardVersion


def _module_summary(module: dict) -> str:
    if module["kind"] == TEXT:
        text = module.get("text", "")
        return text if len(text) <= 120 else text[:119] + "…"
    if module.get("source"):
        return f"The journey beacon's steps?{module.get('query', '')}"
    if module.get("data_set"):
        return f"{module['data_set']}?{module.get('query', '')}"
    return "The four key performance indicators"


@answers("GET")
@requires("service.edit")
def dashboard_editor(request, service):
    service = service_of(service)
    user = request.user
    version = dashboards.working_version(service)
    published = dashboards.published_version(service)
    # Without a draft, the published version; else the last one (unpublished), which a new
    # draft starts from.
    shown = (
        version
        or published
        or DashboardVersion.objects.filter(dashboard__service=service).order_by("-number").first()
    )
    content = shown.content if shown else {}
    editable = version is not None and version.state == V.DRAFT
    modules = [
        {
            "number": number,
            "kind": MODULE_KINDS.get(module["kind"], module["kind"]),
            "title": module.get("title") or MODULE_KINDS.get(module["kind"]),
            "summary": _module_summary(module),
            "first": number == 1,
            "last": number == len(content.get("modules", [])),
        }
        for number, module in enumerate(content.get("modules", []), start=1)
    ]
    return render(
        request,
        "publishing/editor.html",
        {
            "service": service,
            "version": version,
            "published": published,
            "shown": shown,
            "content": content,
            "baseline": baseline_text(content.get("baseline")),
            "modules": modules,
            "editable": editable,
            "can_publish": allowed(user, "service.publish", service),
            # What approving and publishing the version in review makes public too.
            "made_public": [
                str(d)
                for d in (
                    dashboards.data_sets_published_with(version)
                    if version is not None and version.state == V.IN_REVIEW
                    else []
                )
            ],
            "breadcrumbs": crumbs(service),
        },
    )


@answers("POST")
@requires("service.edit")
def start_draft(request, service):
    service = service_of(service)
    version = dashboards.start_draft(request.user, service)
    messages.success(request, f"You are editing version {version.number}, a draft")
    return redirect("publishing:editor", service=service.slug)


def _draft_or_redirect(request, service):
    """The draft being edited; None (with a message) when there is none to edit."""
    version = dashboards.working_version(service)
    if version is None:
        messages.info(request, "Start editing the dashboard first")
        return None
    if version.state != V.DRAFT:
        messages.info(
            request,
            f"Version {version.number} is in review: it cannot be changed until it is "
            "published or sent back",
        )
        return None
    return version


def _saved(request, service, text):
    # To the top of the editor, where the success banner is.
    messages.success(request, text)
    return redirect("publishing:editor", service=service.slug)


@answers("GET", "POST")
@requires("service.edit")
def details(request, service):
    service = service_of(service)
    version = _draft_or_redirect(request, service)
    if version is None:
        return redirect("publishing:editor", service=service.slug)
    form = forms.DetailsForm(data(request), initial=forms.DetailsForm.initial_for(version.content))

    def save(values):
        content = editor.with_details(
            version.content, values["audience"], values["usage"], values["baseline"]
        )
        return dashboards.save_draft(request.user, version, content)

    if submit(form, save, lambda error: "baseline_start" if error.field == "baseline" else None):
        return _saved(request, service, "The dashboard's details are saved")
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "The dashboard's details",
            "caption": str(service),
            "button": "Save details",
            "cancel": reverse("publishing:editor", args=[service.slug]),
            "breadcrumbs": crumbs(service, editor_crumb(service)),
        },
    )


@answers("GET", "POST")
@requires("service.edit")
def module_kind(request, service):
    """Adding a module, step 1: its kind."""
    service = service_of(service)
    if _draft_or_redirect(request, service) is None:
        return redirect("publishing:editor", service=service.slug)
    form = forms.KindForm(data(request))
    if form.is_bound and form.is_valid():
        return redirect(
            "publishing:module-new", service=service.slug, kind=form.cleaned_data["kind"]
        )
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "Add a module",
            "caption": str(service),
            "button": "Continue",
            "cancel": reverse("publishing:editor", args=[service.slug]),
            "breadcrumbs": crumbs(service, editor_crumb(service)),
        },
    )


def _module_page(request, service, form, kind, title, button, number=None):
    return render(
        request,
        "publishing/module_form.html",
        {
            "form": form,
            "title": title,
            "kind": kind,
            "kind_name": MODULE_KINDS[kind],
            "button": button,
            "number": number,
            "service": service,
            "metrics": service.metrics.select_related("data_set").order_by("name"),
            "cancel": reverse("publishing:editor", args=[service.slug]) + "#modules",
            "breadcrumbs": crumbs(service, editor_crumb(service)),
        },
    )


def _module_saver(request, service, version, kind, place, number):
    """Saves the form's module at `number` (`place` puts it in the content); errors about that
    module go beside their field."""

    def save(values):
        module = editor.module_of(kind, values)
        metric = (
            service.metrics.select_related("data_set").filter(slug=module.get("metric")).first()
        )
        module = editor.with_metric(module, metric)
        return dashboards.save_draft(request.user, version, place(version.content, module))

    def field_of(error):
        return editor.field_in_module(error, number)

    return save, field_of


@answers("GET", "POST")
@requires("service.edit")
def module_new(request, service, kind):
    """Adding a module, step 2: the form of its kind."""
    service = service_of(service)
    kind = editor.check_kind(kind)
    version = _draft_or_redirect(request, service)
    if version is None:
        return redirect("publishing:editor", service=service.slug)
    form = forms.ModuleForm(
        data(request), kind=kind, service=service, fields=editor.fields_of_kind(kind)
    )
    number = len(version.content.get("modules", [])) + 1
    save, field_of = _module_saver(request, service, version, kind, editor.added, number)
    if submit(form, save, field_of):
        return _saved(request, service, f"Module {number} added")
    return _module_page(
        request, service, form, kind, f"Add a module: {MODULE_KINDS[kind].lower()}", "Add module"
    )


@answers("GET", "POST")
@requires("service.edit")
def module_edit(request, service, number):
    service = service_of(service)
    version = _draft_or_redirect(request, service)
    if version is None:
        return redirect("publishing:editor", service=service.slug)
    module = editor.module_at(version.content, number)
    kind = module["kind"]
    form = forms.ModuleForm(
        data(request),
        kind=kind,
        service=service,
        fields=editor.fields_of_kind(kind),
        initial=editor.form_values(module),
    )

    def place(content, changed):
        return editor.replaced(content, number, changed)

    save, field_of = _module_saver(request, service, version, kind, place, number)
    if submit(form, save, field_of):
        return _saved(request, service, f"Module {number} saved")
    return _module_page(
        request,
        service,
        form,
        kind,
        f"Change module {number}: {MODULE_KINDS[kind].lower()}",
        "Save module",
        number,
    )


@answers("POST")
@requires("service.edit")
def module_move(request, service, number):
    service = service_of(service)
    version = _draft_or_redirect(request, service)
    if version is None:
        return redirect("publishing:editor", service=service.slug)
    direction = request.POST.get("direction", "")
    try:
        content = editor.moved(version.content, number, direction)
        if content == version.content:
            where = "first" if direction == editor.UP else "last"
            messages.info(request, f"Module {number} is already the {where}")
            return redirect("publishing:editor", service=service.slug)
        dashboards.save_draft(request.user, version, content)
    except FORM_ERRORS as error:
        messages.error(request, error.message)
        return redirect("publishing:editor", service=service.slug)
    target = number - 1 if direction == editor.UP else number + 1
    return _saved(request, service, f"Module {number} moved {direction}: it is now module {target}")


@answers("GET", "POST")
@requires("service.edit")
def module_remove(request, service, number):
    service = service_of(service)
    version = _draft_or_redirect(request, service)
    if version is None:
        return redirect("publishing:editor", service=service.slug)
    module = editor.module_at(version.content, number)
    error = None
    if request.method == "POST":
        try:
            dashboards.save_draft(request.user, version, editor.removed(version.content, number))
        except FORM_ERRORS as problem:
            error = problem.message
        else:
            return _saved(request, service, f"Module {number} removed")
    return render(
        request,
        "publishing/module_remove.html",
        {
            "service": service,
            "number": number,
            "module": module,
            "kind_name": MODULE_KINDS.get(module["kind"], module["kind"]),
            "error": error,
            "breadcrumbs": crumbs(service, editor_crumb(service)),
        },
    )


@answers("GET")
@requires("service.edit")
def preview(request, service):
    """The draft (or `?version=N`) exactly as the public page will show it once published."""
    from ..preview import render_preview

    service = service_of(service)
    number = request.GET.get("version")
    if number:
        version = DashboardVersion.objects.filter(
            dashboard__service=service, number=number if number.isdigit() else -1
        ).first()
        if version is None:
            raise NotFound(f"The dashboard has no version {number}")
    else:
        version = dashboards.working_version(service) or dashboards.published_version(service)
        if version is None:
            raise Conflict("The dashboard has no version to preview yet: start editing it first")
    return render_preview(request, service, version)
