"""Creating and administering data sets: used by the CLI, the management pages and the API.

`actor` is the signed-in user making the change, or None for the command line (which may do
anything). Every change is permission-checked and written to the audit log in its transaction.
"""

from dataclasses import dataclass, fields

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from perfplat.accounts.permissions import check
from perfplat.audit.services import record, snapshot
from perfplat.errors import Conflict, InvalidRequest

from . import writes
from .models import IDENTIFIER, DataSet, DataSetToken, validate_slug
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
    "schema",
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
    schema: str = ""


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
    if settings.schema and settings.schema not in TYPES:
        raise InvalidRequest(
            f"schema must be one of {', '.join(TYPES)}, or empty for a free-form data set",
            field="schema",
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
    validate_slug("data group", data_group or "")
    validate_slug("data type", data_type)
    _check_settings(settings)
    name = name or f"{data_group}_{data_type}".replace("-", "_")
    auto_ids = settings.auto_ids
    if settings.schema and not auto_ids:
        # A typed data set is idempotent by default: the same period and channel replace.
        auto_ids = TYPES[settings.schema].auto_ids
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
                schema=settings.schema,
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
    if merged.schema != data_set.schema and data_set.record_set.exists():
        raise InvalidRequest(
            "The type of a data set can only change while it is empty", field="schema"
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


def empty(data_set: DataSet, actor=None) -> None:
    check(actor, "data_set.manage", data_set)
    with transaction.atomic():
        count = data_set.record_set.count()
        writes.empty_data_set(data_set)
        record(
            actor,
            "data_set.empty",
            data_set,
            {"records": count},
            {"records": 0},
            **_audit_scope(data_set),
        )


def data_sets_with_counts():
    return DataSet.objects.annotate(record_count=Count("record")).order_by(
        "data_group", "data_type"
    )
