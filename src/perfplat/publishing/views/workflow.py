"""The publishing workflow's pages: submit (editors), publish or send back with a comment and
unpublish (organisation admins), every version with who did what when, and any two versions
compared. The transitions are dashboards.services' functions, which check permission and audit
each change."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse

from perfplat.accounts.permissions import requires
from perfplat.dashboards import services as dashboards
from perfplat.dashboards.content import MODULE_KINDS, baseline_text
from perfplat.dashboards.models import DashboardVersion
from perfplat.errors import Conflict

from .. import forms
from .common import FORM_ERRORS, answers, crumbs, data, editor_crumb, service_of, submit

V = DashboardVersion


def _transition(request, service, action, success):
    """Run a transition of the working version; a refusal because of its state becomes a
    message on the editor, where the person sees the state."""
    try:
        version = action()
    except FORM_ERRORS as error:
        messages.error(request, error.message)
    else:
        messages.success(request, success(version))
    return redirect("publishing:editor", service=service.slug)


def _working(service) -> DashboardVersion:
    version = dashboards.working_version(service)
    if version is None:
        raise Conflict("There is no draft of the dashboard: start editing it first")
    return version


@answers("POST")
@requires("service.edit")
def submit_for_review(request, service):
    service = service_of(service)
    return _transition(
        request,
        service,
        lambda: dashboards.submit(request.user, _working(service)),
        lambda v: f"Version {v.number} is submitted for review",
    )


@answers("POST")
@requires("service.publish")
def publish(request, service):
    service = service_of(service)
    return _transition(
        request,
        service,
        lambda: dashboards.publish(request.user, _working(service)),
        lambda v: f"Version {v.number} is published: the public dashboard shows it",
    )


@answers("GET", "POST")
@requires("service.publish")
def send_back(request, service):
    service = service_of(service)
    version = dashboards.working_version(service)
    form = forms.SendBackForm(data(request))
    done = submit(
        form,
        lambda values: dashboards.send_back(request.user, _working(service), values["comment"]),
    )
    if done:
        messages.success(request, f"Version {done.number} is sent back to the editors")
        return redirect("publishing:editor", service=service.slug)
    return render(
        request,
        "manage/form.html",
        {
            "form": form,
            "title": "Send the dashboard back",
            "caption": f"{service}: version {version.number}" if version else str(service),
            "intro": "Say what the editors need to change before it can be published.",
            "button": "Send back",
            "cancel": reverse("publishing:editor", args=[service.slug]),
            "breadcrumbs": crumbs(service, editor_crumb(service)),
        },
    )


@answers("GET", "POST")
@requires("service.publish")
def unpublish(request, service):
    service = service_of(service)
    public = [str(d) for d in dashboards.public_data_sets(service)]
    if request.method == "POST":
        also = request.POST.get("data_sets") == "unpublish"

        def done(version):
            if also and public:
                return (
                    f"Version {version.number} is unpublished, and so are its data sets: "
                    f"{', '.join(public)}"
                )
            text = f"Version {version.number} is unpublished: the public can no longer see the "
            text += "dashboard"
            if public:
                text += f". These data sets stay public: {', '.join(public)}"
            return text

        return _transition(
            request,
            service,
            lambda: dashboards.unpublish(request.user, service, data_sets=also),
            done,
        )
    return render(
        request,
        "publishing/unpublish.html",
        {
            "service": service,
            "published": dashboards.published_version(service),
            "public_data_sets": public,
            "breadcrumbs": crumbs(service, editor_crumb(service)),
        },
    )


def _versions(service):
    return list(
        DashboardVersion.objects.filter(dashboard__service=service)
        .select_related("created_by", "submitted_by", "reviewed_by")
        .order_by("-number")
    )


@answers("GET")
@requires("service.edit")
def versions(request, service):
    service = service_of(service)
    found = _versions(service)
    numbers = [v.number for v in found]
    form = forms.CompareForm(
        initial={
            "older": numbers[1] if len(numbers) > 1 else None,
            "newer": numbers[0] if numbers else None,
        },
        numbers=numbers,
    )
    return render(
        request,
        "publishing/versions.html",
        {
            "service": service,
            "versions": found,
            "form": form,
            "breadcrumbs": crumbs(service, editor_crumb(service)),
        },
    )


FIELD_LABELS = {
    "kind": "Kind",
    "title": "Title",
    "description": "Description",
    "metric": "Metric",
    "data_set": "Data set",
    "query": "Query",
    "value": "Value shown",
    "group": "Group field",
    "text": "Text",
}
WHAT = {
    "audience": "Who uses the service",
    "usage": "How the dashboard is used",
    "baseline": "Baseline period",
}


def _shown(value, keys=None) -> str:
    """A compared value as people read it: a module as its fields (only `keys` when given)."""
    if value is None or value == "":
        return "(none)"
    if isinstance(value, int):
        return f"position {value}"
    if isinstance(value, dict):
        parts = []
        # In the editor's order: PostgreSQL's jsonb does not keep the keys' order.
        ordered = sorted(value, key=lambda k: (list(FIELD_LABELS) + [k]).index(k))
        for key, item in ((k, value[k]) for k in ordered):
            if (keys is None and item in ("", None)) or (keys is not None and key not in keys):
                continue
            if key == "kind":
                item = MODULE_KINDS.get(item, item)
            parts.append(f"{FIELD_LABELS.get(key, key)}: {item or '(none)'}")
        return "; ".join(parts) or "(none)"
    return str(value)


def _rows(changes: list[dict]) -> list[dict]:
    rows = []
    for change in changes:
        before, after, keys = change["before"], change["after"], None
        if change["what"] == "baseline":
            before, after = baseline_text(before) or before, baseline_text(after) or after
        elif change["change"] == "changed" and isinstance(before, dict):
            # Only the fields that differ.
            keys = {k for k in {*before, *after} if before.get(k) != after.get(k)}
        rows.append(
            {
                "what": WHAT.get(change["what"], change["what"]),
                "change": change["change"],
                "before": _shown(before, keys) if change["change"] != "added" else "",
                "after": _shown(after, keys) if change["change"] != "removed" else "",
            }
        )
    return rows


@answers("GET")
@requires("service.edit")
def compare(request, service):
    service = service_of(service)
    found = {v.number: v for v in _versions(service)}
    form = forms.CompareForm(request.GET or None, numbers=sorted(found, reverse=True))
    rows, older, newer = None, None, None
    if form.is_bound and form.is_valid():
        older, newer = found[form.cleaned_data["older"]], found[form.cleaned_data["newer"]]
        rows = _rows(dashboards.compare(older, newer))
    return render(
        request,
        "publishing/compare.html",
        {
            "service": service,
            "form": form,
            "rows": rows,
            "older": older,
            "newer": newer,
            "breadcrumbs": crumbs(
                service,
                editor_crumb(service),
                ("Versions", reverse("publishing:versions", args=[service.slug])),
            ),
        },
    )
