"""Creating and administering data sets: used by the CLI, the management pages and the API.

`actor` is the signed-in user making the change, or None for the command line (which may do
anything). Every change is permission-checked and written to the audit log in its transaction.
"""

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from perfplat.accounts.permissions import check
from perfplat.audit.services import record, snapshot
from perfplat.errors import Conflict, InvalidRequest

from . import corrections, writes
from . import fields as declared
from .models import IDENTIFIER, Correction, DataSet, DataSetToken, validate_slug
from .types import TYPES

SETTINGS_FIELDS = [
    "name",
    "data_group",
    "data_type",
    "service",
    "auto_ids",
    "raw_queries_allowed",
    "max_age_expected",
    "published",
    "cache_max_age",
    "upload_format",
    "standard_type",
]


@dataclass(frozen=True)
class DataSetSettings:
    auto_ids: tuple[str, ...] = ()
    raw_queries_allowed: bool = False
    max_age_expected: int | None = None
    published: bool = False
    cache_max_age: int | None = None
    upload_format: str = "csv"
    # A standard type (datasets.types) that validates every write; "" for free-form.
    standard_type: str = ""


def check_auto_ids(auto_ids) -> list[str]:
    if isinstance(auto_ids, str) or not all(isinstance(f, str) for f in auto_ids):
        raise InvalidRequest("auto_ids must be a list of field names", field="auto_ids")
    fields_ = list(auto_ids)
    for field in fields_:
        if not IDENTIFIER.fullmatch(field) or (field.startswith("_") and field != "_timestamp"):
            raise InvalidRequest(
                f"auto_ids: {field!r} is not a field records can have "
                "(an identifier, or _timestamp)",
                field="auto_ids",
            )
    if len(set(fields_)) != len(fields_):
        raise InvalidRequest("auto_ids: a field is listed twice", field="auto_ids")
    return fields_


def _check_settings(settings: DataSetSettings) -> None:
    for name in ("max_age_expected", "cache_max_age"):
        value = getattr(settings, name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise InvalidRequest(f"{name} must be a whole number of seconds, 0 or more", field=name)
    if settings.standard_type and settings.standard_type not in TYPES:
        raise InvalidRequest(
            f"standard_type must be one of {', '.join(TYPES)}, or empty for a free-form data set",
            field="standard_type",
        )
    if settings.upload_format not in dict(DataSet.UPLOAD_FORMATS):
        raise InvalidRequest("upload_format must be csv or excel", field="upload_format")
    for name in ("raw_queries_allowed", "published"):
        if not isinstance(getattr(settings, name), bool):
            raise InvalidRequest(f"{name} must be true or false", field=name)


def _audit_scope(data_set: DataSet) -> dict:
    service = data_set.service
    return {"service": service, "organisation": service.organisation if service else None}


def create_data_set(
    data_group: str | None,
    data_type: str,
    name: str | None = None,
    settings=DataSetSettings(),
    *,
    service=None,
    actor=None,
) -> tuple[DataSet, str]:
    """Create a data set and its first token; returns both (the token is never shown again).
    The data group defaults to the service's slug."""
    check(actor, "data_set.manage", service)
    if not data_group and service is not None:
        data_group = service.slug
    validate_slug("data group", data_group or "", field="data_group")
    validate_slug("data type", data_type, field="data_type")
    _check_settings(settings)
    name = name or f"{data_group}_{data_type}".replace("-", "_")
    auto_ids = settings.auto_ids
    if settings.standard_type and not auto_ids:
        # A typed data set is idempotent by default: the same period and channel replace.
        auto_ids = TYPES[settings.standard_type].auto_ids
    if DataSet.objects.filter(data_group=data_group, data_type=data_type).exists():
        raise Conflict(f"Data set {data_group}/{data_type} already exists", field="data_type")
    if DataSet.objects.filter(name=name).exists():
        raise Conflict(f"A data set named {name!r} already exists", field="name")
    try:
        with transaction.atomic():
            data_set = DataSet.objects.create(
                name=name,
                service=service,
                data_group=data_group,
                data_type=data_type,
                auto_ids=check_auto_ids(auto_ids),
                standard_type=settings.standard_type,
                raw_queries_allowed=settings.raw_queries_allowed,
                max_age_expected=settings.max_age_expected,
                published=settings.published,
                cache_max_age=settings.cache_max_age,
                upload_format=settings.upload_format,
            )
            _, token = DataSetToken.issue(data_set)
            record(
                actor,
                "data_set.create",
                data_set,
                None,
                snapshot(data_set, SETTINGS_FIELDS),
                **_audit_scope(data_set),
            )
    except IntegrityError:
        # Another request created it between the check and the insert.
        raise Conflict(f"Data set {data_group}/{data_type} already exists", field="data_type")
    return data_set, token


def update_data_set(actor, data_set: DataSet, **changes) -> DataSet:
    """Change a data set's settings (not its address, which clients depend on)."""
    check(actor, "data_set.manage", data_set)
    known = {f.name for f in fields(DataSetSettings)}
    unknown = set(changes) - known
    if unknown:
        raise InvalidRequest(f"Unknown setting(s): {', '.join(sorted(unknown))}")
    current = {name: getattr(data_set, name) for name in known}
    current["auto_ids"] = tuple(current["auto_ids"])
    merged = DataSetSettings(**{**current, **changes})
    _check_settings(merged)
    if merged.standard_type != data_set.standard_type and data_set.record_set.exists():
        raise InvalidRequest(
            "The type of a data set can only change while it is empty", field="standard_type"
        )
    auto_ids = check_auto_ids(merged.auto_ids)
    with transaction.atomic():
        before = snapshot(data_set, SETTINGS_FIELDS)
        values = {name: getattr(merged, name) for name in known} | {"auto_ids": auto_ids}
        # Only the settings: a save() of the whole row could undo a concurrent write's
        # field types or version.
        DataSet.objects.filter(pk=data_set.pk).update(**values, version=F("version") + 1)
        for name, value in values.items():
            setattr(data_set, name, value)
        # Imported here: metrics build on data sets. The data set's type is part of the
        # verdict of each metric that reads it, so those verdicts are checked again.
        from perfplat.metrics.services import recheck_support

        recheck_support(data_set.metrics.select_related("data_set"))
        record(
            actor,
            "data_set.update",
            data_set,
            before,
            snapshot(data_set, SETTINGS_FIELDS),
            **_audit_scope(data_set),
        )
    return data_set


def rotate_token(data_set: DataSet, actor=None) -> str:
    """Revoke the data set's tokens and issue a new one; returns the new token."""
    check(actor, "data_set.manage", data_set)
    with transaction.atomic():
        DataSetToken.objects.filter(data_set=data_set, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        row, token = DataSetToken.issue(data_set)
        record(
            actor,
            "data_set.rotate_token",
            data_set,
            None,
            {"token": f"{row.prefix}..."},
            **_audit_scope(data_set),
        )
    return token


def empty(data_set: DataSet, actor=None, reason: str = "", source=None) -> None:
    """Delete every record (a correction, with `reason`, when the data set is published).
    `source`: how the request came, when not the management pages or the command line (the
    write API's PUT passes its token's)."""
    check(actor, "data_set.manage", data_set)
    if source is None:
        source = writes.WriteSource(
            writes.WriteBatch.API,
            user_id=actor.pk if getattr(actor, "is_authenticated", False) else None,
            reason=corrections.check_reason(reason),
            path=Correction.MANAGE,
        )
    with transaction.atomic():
        count = writes.empty_data_set(data_set, source)
        record(
            actor,
            "data_set.empty",
            data_set,
            {"records": count},
            {"records": 0},
            **_audit_scope(data_set),
        )


def declare_fields(actor, data_set: DataSet, items) -> list[declared.FieldDeclaration]:
    """Confirm a free-form data set's fields as its team declares them (a list of {name,
    type, required, allowed_values, description}): from then on every write is checked
    against them. A standard type's fields are its type's and cannot be changed."""
    check(actor, "data_set.manage", data_set)
    if data_set.standard_type:
        raise InvalidRequest(
            f"The fields of {data_set} are those of its standard type "
            f"{data_set.standard_type} and cannot be changed",
            field="fields",
        )
    declarations = declared.check_declarations(items)
    stored = [declaration.as_dict() for declaration in declarations]
    with transaction.atomic():
        before = (
            DataSet.objects.select_for_update()
            .values_list("field_declarations", flat=True)
            .get(pk=data_set.pk)
        )
        DataSet.objects.filter(pk=data_set.pk).update(field_declarations=stored)
        data_set.field_declarations = stored
        record(
            actor,
            "data_set.fields",
            data_set,
            {"fields": before},
            {"fields": stored},
            **_audit_scope(data_set),
        )
    return declarations


def data_sets_with_counts():
    return DataSet.objects.annotate(record_count=Count("record")).order_by(
        "data_group", "data_type"
    )


# provenance

PROVENANCE_DAYS = 90
MANUAL, AUTOMATIC, MIXED, NO_DATA = "manual", "automatic", "mixed", "no data"


def sources_of(data_sets, now=None) -> dict[int, str]:
    """How each data set's data arrived in the last 90 days: manual (spreadsheet uploads),
    automatic (the API, a collector or the journey beacon), mixed, or no data. One query for
    all of them."""
    from datetime import timedelta

    from .models import WriteBatch

    now = now or timezone.now()
    ids = [data_set.pk for data_set in data_sets]
    kinds: dict[int, set[str]] = {pk: set() for pk in ids}
    rows = (
        WriteBatch.objects.filter(
            data_set_id__in=ids, created_at__gte=now - timedelta(days=PROVENANCE_DAYS)
        )
        .values_list("data_set_id", "kind")
        .distinct()
    )
    for data_set_id, kind in rows:
        kinds[data_set_id].add(kind)
    return {pk: _source(found) for pk, found in kinds.items()}


def _source(kinds: set[str]) -> str:
    from .models import WriteBatch

    manual = WriteBatch.UPLOAD in kinds
    automatic = bool(kinds & WriteBatch.AUTOMATIC)
    if manual and automatic:
        return MIXED
    if manual:
        return MANUAL
    return AUTOMATIC if automatic else NO_DATA


def source_of(data_set, now=None) -> str:
    return sources_of([data_set], now)[data_set.pk]


# freshness (SPEC.md section 9)


@dataclass(frozen=True)
class Freshness:
    """Whether a data set's data is as recent as its team promised.

    `stale` is true when the last write is older than `max_age` (the data set's
    max_age_expected, in seconds); a data set without a max_age_expected, or never written to,
    is never stale. `seconds_out_of_date` is how far past that age the last write is (0 when
    not stale), and `stale_since` the moment it became stale."""

    last_write_at: datetime | None
    max_age: int | None
    stale: bool
    seconds_out_of_date: int = 0
    stale_since: datetime | None = None


def freshness(data_set: DataSet, now: datetime | None = None) -> Freshness:
    """The data set's freshness at `now` (the current time by default). Pages, the API,
    /_status/data-sets and the notifications all ask this one function."""
    now = now or timezone.now()
    last, max_age = data_set.last_write_at, data_set.max_age_expected
    if last is None or max_age is None:
        return Freshness(last, max_age, stale=False)
    # Whole seconds, as /_status/data-sets has always counted them.
    out_of_date = int((now - last).total_seconds()) - max_age
    if out_of_date <= 0:
        return Freshness(last, max_age, stale=False)
    return Freshness(
        last,
        max_age,
        stale=True,
        seconds_out_of_date=out_of_date,
        stale_since=last + timedelta(seconds=max_age),
    )


def stale_data_sets(now: datetime | None = None) -> list[tuple[DataSet, Freshness]]:
    """Every stale data set with its freshness, in address order."""
    now = now or timezone.now()
    found = []
    candidates = DataSet.objects.filter(
        max_age_expected__isnull=False, last_write_at__isnull=False
    ).select_related("service__organisation")
    for data_set in candidates.order_by("data_group", "data_type"):
        state = freshness(data_set, now)
        if state.stale:
            found.append((data_set, state))
    return found
