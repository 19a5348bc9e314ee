"""The publishing workflow of dashboards: draft -> in review -> published, and unpublish.

Editors edit drafts and submit them; organisation admins send them back with a comment or
publish them. Every transition is permission-checked and audited in its transaction. The
public only ever sees the published version (`published_version`).
"""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from perfplat.accounts.permissions import check
from perfplat.audit.services import record
from perfplat.errors import Conflict, InvalidRequest

from .content import MODULE_KINDS, clean_content, default_content
from .models import Dashboard, DashboardVersion

V = DashboardVersion


def dashboard_of(service) -> Dashboard:
    return Dashboard.objects.get_or_create(service=service)[0]


def published_version(service) -> DashboardVersion | None:
    return (
        DashboardVersion.objects.filter(dashboard__service=service, state=V.PUBLISHED)
        .order_by("-number")
        .first()
    )


def working_version(service) -> DashboardVersion | None:
    """The version being worked on: a draft or one in review."""
    return (
        DashboardVersion.objects.filter(
            dashboard__service=service, state__in=[V.DRAFT, V.IN_REVIEW]
        )
        .order_by("-number")
        .first()
    )


def public_service_ids() -> set[int]:
    """Services whose dashboard is published: the only ones the public sees."""
    return set(
        DashboardVersion.objects.filter(state=V.PUBLISHED).values_list(
            "dashboard__service_id", flat=True
        )
    )


def _audit(actor, action, version, before_state, comment=""):
    after = {"state": version.state, "number": version.number}
    if comment:
        after["comment"] = comment
    record(
        actor,
        action,
        version,
        {"state": before_state},
        after,
        service=version.service,
        organisation=version.service.organisation,
    )


def _locked(version: DashboardVersion) -> DashboardVersion:
    # Re-read under a row lock so two reviewers cannot both act on one version.
    return (
        DashboardVersion.objects.select_for_update()
        .select_related("dashboard__service__organisation")
        .get(pk=version.pk)
    )


def start_draft(actor, service) -> DashboardVersion:
    """The current draft, or a new one copied from the latest version: the published one, or
    the one last unpublished (so unpublishing never loses the team's work); the default for a
    new dashboard."""
    check(actor, "service.edit", service)
    with transaction.atomic():
        dashboard = Dashboard.objects.select_for_update().get(pk=dashboard_of(service).pk)
        current = working_version(service)
        if current is not None:
            return current
        latest = dashboard.versions.order_by("-number").first()
        content = latest.content if latest else default_content(service)
        number = (dashboard.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = DashboardVersion.objects.create(
            dashboard=dashboard,
            number=number,
            content=content,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _audit(actor, "dashboard.draft", version, "")
    return version


def save_draft(actor, version: DashboardVersion, content) -> DashboardVersion:
    """Replace a draft's content (checked: every problem names its module and field)."""
    check(actor, "service.edit", version.service)
    clean = clean_content(content, version.service)
    with transaction.atomic():
        version = _locked(version)
        if version.state != V.DRAFT:
            raise Conflict(
                f"Version {version.number} is {version.get_state_display().lower()}: "
                "only a draft can be edited"
            )
        before = version.content
        version.content = clean
        version.save(update_fields=["content", "updated_at"])
        record(
            actor,
            "dashboard.edit",
            version,
            before,
            clean,
            service=version.service,
            organisation=version.service.organisation,
        )
    return version


def submit(actor, version: DashboardVersion) -> DashboardVersion:
    check(actor, "service.edit", version.service)
    with transaction.atomic():
        version = _locked(version)
        if version.state != V.DRAFT:
            raise Conflict("Only a draft can be submitted for review")
        version.state = V.IN_REVIEW
        version.submitted_by = actor if getattr(actor, "is_authenticated", False) else None
        version.submitted_at = timezone.now()
        version.review_comment = ""
        version.save()
        _audit(actor, "dashboard.submit", version, V.DRAFT)
    return version


def send_back(actor, version: DashboardVersion, comment: str) -> DashboardVersion:
    check(actor, "service.publish", version.service)
    comment = (comment or "").strip()
    if not comment:
        raise InvalidRequest("Say what needs to change", field="comment")
    with transaction.atomic():
        version = _locked(version)
        if version.state != V.IN_REVIEW:
            raise Conflict("Only a version in review can be sent back")
        version.state = V.DRAFT
        version.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
        version.reviewed_at = timezone.now()
        version.review_comment = comment
        version.save()
        _audit(actor, "dashboard.send_back", version, V.IN_REVIEW, comment)
    return version


def data_sets_published_with(version: DashboardVersion) -> list:
    """The data sets publishing `version` makes public, which are not yet: those its modules
    show and those behind its KPI tiles (kpis.services.kpi_data_sets: the service's data set of
    each standard type). What the dashboard shows is public."""
    from perfplat.datasets.models import DataSet
    from perfplat.kpis.services import kpi_data_sets

    service = version.service
    shown = {m["data_set"] for m in version.content.get("modules", []) if "data_set" in m}
    behind_tiles = {d.pk for d in kpi_data_sets(service, published_only=False).values()}
    return [
        data_set
        for data_set in DataSet.objects.filter(service=service, published=False).order_by(
            "data_group", "data_type"
        )
        if str(data_set) in shown or data_set.pk in behind_tiles
    ]


def public_data_sets(service) -> list:
    """The service's published data sets: readable by anyone, dashboard or not."""
    from perfplat.datasets.models import DataSet

    return list(
        DataSet.objects.filter(service=service, published=True).order_by("data_group", "data_type")
    )


def publish(actor, version: DashboardVersion) -> DashboardVersion:
    """Approve and publish a version in review; the one it replaces is kept as superseded.
    The data sets it shows (its modules' and those behind its KPI tiles) become published too
    (`data_sets_published_with`): what a dashboard shows is public."""
    from perfplat.datasets.services import update_data_set

    check(actor, "service.publish", version.service)
    with transaction.atomic():
        version = _locked(version)
        if version.state != V.IN_REVIEW:
            raise Conflict("Only a version in review can be published")
        for previous in DashboardVersion.objects.filter(
            dashboard=version.dashboard, state=V.PUBLISHED
        ):
            previous.state = V.SUPERSEDED
            previous.save(update_fields=["state", "updated_at"])
        version.state = V.PUBLISHED
        version.reviewed_by = actor if getattr(actor, "is_authenticated", False) else None
        version.reviewed_at = version.published_at = timezone.now()
        version.save()
        for data_set in data_sets_published_with(version):
            update_data_set(actor, data_set, published=True)
        _audit(actor, "dashboard.publish", version, V.IN_REVIEW)
    return version


def unpublish(actor, service, data_sets: bool = False) -> DashboardVersion:
    """Take the published version down. The service's data sets stay published (readable
    through the read API) unless `data_sets`: then they are unpublished too, each change in
    the audit log."""
    from perfplat.datasets.services import update_data_set

    check(actor, "service.publish", service)
    with transaction.atomic():
        version = published_version(service)
        if version is None:
            raise Conflict("The dashboard is not published")
        version = _locked(version)
        if version.state != V.PUBLISHED:
            # Unpublished (or replaced) by someone else since it was read.
            raise Conflict("The dashboard is not published")
        version.state = V.UNPUBLISHED
        version.save(update_fields=["state", "updated_at"])
        _audit(actor, "dashboard.unpublish", version, V.PUBLISHED)
        if data_sets:
            for data_set in public_data_sets(service):
                update_data_set(actor, data_set, published=False)
    return version


def _keyed(modules: list) -> dict:
    """Modules by (kind, title, n): the n-th module of that kind and title, so that two alike
    (two untitled KPI modules) are both compared."""
    keyed, seen = {}, {}
    for index, module in enumerate(modules):
        kind_title = (module.get("kind"), module.get("title"))
        seen[kind_title] = seen.get(kind_title, 0) + 1
        keyed[(*kind_title, seen[kind_title])] = (index, module)
    return keyed


def _label(key) -> str:
    kind, title, _ = key
    name = MODULE_KINDS.get(kind, kind)
    return f"{name} module “{title}”" if title else f"{name} module"


def compare(older: DashboardVersion, newer: DashboardVersion) -> list[dict]:
    """What changed between two versions: metadata fields and modules (added, removed,
    changed, moved), in reading order. A module is matched by its kind and title; it has
    moved when its place among the modules of both versions changed (so adding a module
    does not move those after it)."""
    changes = []
    a, b = older.content, newer.content
    for name in ("audience", "usage", "baseline"):
        if a.get(name, "") != b.get(name, ""):
            changes.append(
                {
                    "what": name,
                    "change": "changed",
                    "before": a.get(name, ""),
                    "after": b.get(name, ""),
                }
            )
    old_modules = _keyed(a.get("modules", []))
    new_modules = _keyed(b.get("modules", []))
    kept_old = [k for k in old_modules if k in new_modules]
    kept_new = [k for k in new_modules if k in old_modules]
    for k, (index, module) in new_modules.items():
        if k not in old_modules:
            changes.append({"what": _label(k), "change": "added", "before": None, "after": module})
            continue
        old_index, old = old_modules[k]
        if old != module:
            changes.append({"what": _label(k), "change": "changed", "before": old, "after": module})
        elif kept_old.index(k) != kept_new.index(k):
            changes.append(
                {"what": _label(k), "change": "moved", "before": old_index + 1, "after": index + 1}
            )
    for k, (_, module) in old_modules.items():
        if k not in new_modules:
            changes.append(
                {"what": _label(k), "change": "removed", "before": module, "after": None}
            )
    return changes


def publish_directly(service) -> DashboardVersion:
    """Draft, submit and publish as the platform itself (the demo loader, imports)."""
    version = start_draft(None, service)
    if version.state == V.DRAFT:
        version = submit(None, version)
    return publish(None, version)
