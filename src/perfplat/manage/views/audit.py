"""The audit log: who changed what and when, filtered by service and person, in pages."""

import json

from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render

from perfplat.accounts import services as accounts
from perfplat.accounts.permissions import organisation_ids_managed, requires
from perfplat.audit.models import AuditEntry
from perfplat.registry import services as registry

from .. import forms
from .common import MANAGE, answers

AUDIT_PAGE_SIZE = 50


ACTIONS = {
    "organisation.create": "Organisation added",
    "organisation.update": "Organisation changed",
    "service.create": "Service registered",
    "service.update": "Service changed",
    "data_set.create": "Data set created",
    "data_set.update": "Data set settings changed",
    "data_set.rotate_token": "Data set token replaced",
    "data_set.empty": "Data set emptied",
    "data_set.correct": "Published records corrected",
    "data_set.fields": "Data set fields confirmed",
    "data_set.convert_fields": "Stored values converted to the fields' types",
    "user.create": "User added",
    "user.update": "User changed",
    "user.sign_in": "Signed in",
    "user.sign_out": "Signed out",
    "user.two_factor_on": "Two-factor sign-in turned on",
    "user.two_factor_off": "Two-factor sign-in turned off",
    "user.recovery_codes": "New recovery codes",
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
    "assessment.coming_evolution": "Evolution note for the coming assessment changed",
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
