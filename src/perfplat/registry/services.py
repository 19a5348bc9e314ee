"""Registering and changing organisations and services.

The management pages and the management API both call these functions: each checks the
actor's permission, validates, makes the change and writes its audit entry in one transaction.
"""

import re
from datetime import date
from urllib.parse import urlparse

from django.db import IntegrityError, transaction

from perfplat.accounts.permissions import check
from perfplat.audit.services import record, snapshot
from perfplat.errors import Conflict, InvalidRequest

from .models import Organisation, PhaseChange, Service

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")
ORGANISATION_FIELDS = ("slug", "name", "abbreviation", "type", "parent")
SERVICE_FIELDS = (
    "slug",
    "name",
    "description",
    "organisation",
    "phase",
    "start_page_url",
    "audience",
    "dashboard_usage",
    "previous_assessment_date",
    "next_assessment_date",
)


# Slugs that name pages of their own (/manage/services/new), so no service or organisation
# may take them.
RESERVED_SLUGS = {"new", "edit"}


def _slug(value, field: str = "slug") -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise InvalidRequest(
            "Enter a slug of lower-case letters, digits and hyphens (at most 100), "
            "starting and ending with a letter or digit",
            field=field,
        )
    if value in RESERVED_SLUGS:
        raise InvalidRequest(f"The slug {value!r} is reserved: choose another", field=field)
    return value


def _text(value, field: str, label: str, required=False, max_length=200) -> str:
    value = (value or "").strip() if isinstance(value, str | type(None)) else value
    if not isinstance(value, str):
        raise InvalidRequest(f"{label} must be text", field=field)
    if required and not value:
        raise InvalidRequest(f"Enter the {label.lower()}", field=field)
    if len(value) > max_length:
        raise InvalidRequest(f"{label} must be {max_length} characters or fewer", field=field)
    return value


def _choice(value, field: str, label: str, choices) -> str:
    allowed = [key for key, _ in choices]
    if value not in allowed:
        raise InvalidRequest(f"{label} must be one of: {', '.join(allowed)}", field=field)
    return value


def _url(value, field: str) -> str:
    value = _text(value, field, "Start page URL", max_length=500)
    if value:
        parts = urlparse(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequest(
                "Enter a start page URL starting with https:// or http://", field=field
            )
    return value


def _date(value, field: str, label: str):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{label} must be a real date, such as 2025-03-31", field=field)


def _organisation(value, field="organisation") -> Organisation:
    if isinstance(value, Organisation):
        return value
    found = Organisation.objects.filter(slug=value).first() if isinstance(value, str) else None
    if found is None:
        raise InvalidRequest(f"There is no organisation {value!r}", field=field)
    return found


def _saved(instance, what: str):
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise Conflict(
            f"The slug {instance.slug!r} is already taken by another {what}", field="slug"
        )


# organisations


def _clean_organisation(changes: dict, current: Organisation | None) -> dict:
    clean = {}
    if "slug" in changes:
        clean["slug"] = _slug(changes["slug"])
    if "name" in changes:
        clean["name"] = _text(changes["name"], "name", "Name", required=True)
    if "abbreviation" in changes:
        clean["abbreviation"] = _text(
            changes["abbreviation"], "abbreviation", "Abbreviation", max_length=30
        )
    if "type" in changes:
        clean["type"] = _choice(changes["type"], "type", "Type", Organisation.TYPES)
    if "parent" in changes:
        parent = changes["parent"]
        parent = None if parent in (None, "") else _organisation(parent, "parent")
        if current is not None and parent is not None:
            if parent.pk == current.pk or current in parent.ancestors():
                raise InvalidRequest(
                    "An organisation cannot sit under itself or under a body it contains",
                    field="parent",
                )
        clean["parent"] = parent
    kind = clean.get("type", current.type if current else Organisation.DEPARTMENT)
    parent = clean.get("parent", current.parent if current else None)
    if kind == Organisation.AGENCY and parent is None:
        raise InvalidRequest("Choose the department this agency belongs to", field="parent")
    return clean


def create_organisation(actor, **fields) -> Organisation:
    for required in ("slug", "name"):
        fields.setdefault(required, "")
    clean = _clean_organisation(fields, None)
    # Creating a body under a parent needs the right to administer the parent.
    check(
        actor,
        "organisation.create" if clean.get("parent") is None else "organisation.edit",
        clean.get("parent"),
    )
    with transaction.atomic():
        organisation = Organisation(**clean)
        _saved(organisation, "organisation")
        record(
            actor,
            "organisation.create",
            organisation,
            None,
            snapshot(organisation),
            organisation=organisation,
        )
    return organisation


def update_organisation(actor, organisation: Organisation, **changes) -> Organisation:
    check(actor, "organisation.edit", organisation)
    clean = _clean_organisation(changes, organisation)
    if "parent" in clean and clean["parent"] != organisation.parent:
        # Moving a body changes who administers it: the mover must administer the new parent.
        check(
            actor,
            "organisation.edit" if clean["parent"] else "organisation.create",
            clean["parent"],
        )
    with transaction.atomic():
        before = snapshot(organisation)
        for name, value in clean.items():
            setattr(organisation, name, value)
        _saved(organisation, "organisation")
        record(
            actor,
            "organisation.update",
            organisation,
            before,
            snapshot(organisation),
            organisation=organisation,
        )
    return organisation


# services


def _clean_service(changes: dict) -> dict:
    clean = {}
    if "slug" in changes:
        clean["slug"] = _slug(changes["slug"])
    if "name" in changes:
        clean["name"] = _text(changes["name"], "name", "Name", required=True)
    for field, label in (
        ("description", "Description"),
        ("audience", "Audience"),
        ("dashboard_usage", "How the dashboard is used"),
    ):
        if field in changes:
            clean[field] = _text(changes[field], field, label, max_length=5000)
    if "organisation" in changes:
        clean["organisation"] = _organisation(changes["organisation"])
    if "phase" in changes:
        clean["phase"] = _choice(changes["phase"], "phase", "Phase", Service.PHASES)
    if "start_page_url" in changes:
        clean["start_page_url"] = _url(changes["start_page_url"], "start_page_url")
    for field, label in (
        ("previous_assessment_date", "Previous assessment date"),
        ("next_assessment_date", "Next assessment date"),
    ):
        if field in changes:
            clean[field] = _date(changes[field], field, label)
    return clean


def create_service(actor, **fields) -> Service:
    for required in ("slug", "name", "organisation"):
        fields.setdefault(required, "")
    clean = _clean_service(fields)
    check(actor, "service.create", clean["organisation"])
    with transaction.atomic():
        service = Service(**clean)
        _saved(service, "service")
        PhaseChange.objects.create(
            service=service, from_phase="", to_phase=service.phase, changed_by=_user(actor)
        )
        record(
            actor,
            "service.create",
            service,
            None,
            snapshot(service),
            service=service,
            organisation=service.organisation,
        )
    return service


def update_service(actor, service: Service, **changes) -> Service:
    check(actor, "service.edit", service)
    clean = _clean_service(changes)
    if "organisation" in clean and clean["organisation"] != service.organisation:
        check(actor, "service.create", clean["organisation"])
    with transaction.atomic():
        before = snapshot(service)
        old_phase = service.phase
        for name, value in clean.items():
            setattr(service, name, value)
        _saved(service, "service")
        if service.phase != old_phase:
            PhaseChange.objects.create(
                service=service,
                from_phase=old_phase,
                to_phase=service.phase,
                changed_by=_user(actor),
            )
        record(
            actor,
            "service.update",
            service,
            before,
            snapshot(service),
            service=service,
            organisation=service.organisation,
        )
    return service


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def services_visible_to(user):
    """The services a signed-in user works on."""
    from perfplat.accounts.permissions import organisation_ids_managed

    services = Service.objects.select_related("organisation")
    if user.is_platform_admin:
        return services
    if user.role == user.ORG_ADMIN:
        return services.filter(organisation_id__in=organisation_ids_managed(user))
    return services.filter(organisation_id=user.organisation_id)


def organisations_visible_to(user):
    from perfplat.accounts.permissions import organisation_ids_managed

    organisations = Organisation.objects.select_related("parent")
    if user.is_platform_admin:
        return organisations
    if user.role == user.ORG_ADMIN:
        return organisations.filter(pk__in=organisation_ids_managed(user))
    return organisations.filter(pk=user.organisation_id)


def public_services():
    """The services anyone may see: those whose dashboard is published. The KPI API and the
    public pages only ever ask this function, so nothing of an unpublished service leaks."""
    from django.db.models import Exists, OuterRef

    from perfplat.dashboards.models import DashboardVersion

    published = DashboardVersion.objects.filter(
        dashboard__service=OuterRef("pk"), state=DashboardVersion.PUBLISHED
    )
    return Service.objects.filter(Exists(published))
