"""Creating and administering data sets: used by the CLI, the management pages and the API."""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from perfplat.errors import Conflict, InvalidRequest

from .models import IDENTIFIER, DataSet, DataSetToken, validate_slug


@dataclass(frozen=True)
class DataSetSettings:
    auto_ids: tuple[str, ...] = ()
    raw_queries_allowed: bool = False
    max_age_expected: int | None = None
    published: bool = False
    cache_max_age: int | None = None
    upload_format: str = "csv"


def check_auto_ids(auto_ids) -> list[str]:
    fields = list(auto_ids)
    for field in fields:
        if not IDENTIFIER.fullmatch(field) or (field.startswith("_") and field != "_timestamp"):
            raise InvalidRequest(
                f"auto_ids: {field!r} is not a field records can have "
                "(an identifier, or _timestamp)"
            )
    if len(set(fields)) != len(fields):
        raise InvalidRequest("auto_ids: a field is listed twice")
    return fields


def _check_settings(settings: DataSetSettings) -> None:
    for name in ("max_age_expected", "cache_max_age"):
        value = getattr(settings, name)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise InvalidRequest(f"{name} must be a whole number of seconds, 0 or more")
    if settings.upload_format not in dict(DataSet.UPLOAD_FORMATS):
        raise InvalidRequest("upload_format must be csv or excel")


def create_data_set(
    data_group: str, data_type: str, name: str | None = None, settings=DataSetSettings(), **extra
) -> tuple[DataSet, str]:
    """Create a data set and its first token; returns both (the token is never shown again)."""
    validate_slug("data group", data_group)
    validate_slug("data type", data_type)
    _check_settings(settings)
    name = name or f"{data_group}_{data_type}".replace("-", "_")
    if DataSet.objects.filter(data_group=data_group, data_type=data_type).exists():
        raise Conflict(f"Data set {data_group}/{data_type} already exists")
    if DataSet.objects.filter(name=name).exists():
        raise Conflict(f"A data set named {name!r} already exists")
    try:
        with transaction.atomic():
            data_set = DataSet.objects.create(
                name=name,
                data_group=data_group,
                data_type=data_type,
                auto_ids=check_auto_ids(settings.auto_ids),
                raw_queries_allowed=settings.raw_queries_allowed,
                max_age_expected=settings.max_age_expected,
                published=settings.published,
                cache_max_age=settings.cache_max_age,
                upload_format=settings.upload_format,
                **extra,
            )
            _, token = DataSetToken.issue(data_set)
    except IntegrityError:
        # Another request created it between the check and the insert.
        raise Conflict(f"Data set {data_group}/{data_type} already exists")
    return data_set, token


def rotate_token(data_set: DataSet) -> str:
    """Revoke the data set's tokens and issue a new one; returns the new token."""
    with transaction.atomic():
        DataSetToken.objects.filter(data_set=data_set, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        _, token = DataSetToken.issue(data_set)
    return token


def data_sets_with_counts():
    return DataSet.objects.annotate(record_count=Count("record")).order_by(
        "data_group", "data_type"
    )
