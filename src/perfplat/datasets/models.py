"""Data sets, their tokens, their records and how each write arrived."""

import hashlib
import re
import secrets

from django.conf import settings
from django.db import models

from perfplat.errors import InvalidRequest

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Bounds on what a record may hold (README, "Limits"). Every number stored lies within
# ±(2^53 - 1), so it is exact as a JSON number in every client (RFC 7493's I-JSON range) and
# sums of them stay exact; the read API refuses a sum or mean beyond it (datasets.engine).
MAX_NUMBER = 2**53 - 1
# A field name (a record's key) is at most this long.
MAX_KEY_LENGTH = 100
# A text value is at most this long.
MAX_TEXT_LENGTH = 10_000
# A data set holds at most this many distinct fields: every raw read, CSV and the data set's
# field list grows with them.
MAX_FIELDS = 500


def validate_slug(kind: str, value: str, field: str = "") -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise InvalidRequest(
            f"{kind} {value!r} must be 1 to 100 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit",
            field=field,
        )
    return value


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings, so a fast hash is as safe as a slow one and keeps the
    # write API's per-request cost tiny.
    return hashlib.sha256(token.encode()).hexdigest()


class DataSet(models.Model):
    """A named stream of records, addressed as `<data_group>/<data_type>`."""

    UPLOAD_FORMATS = [("csv", "CSV"), ("excel", "Excel")]

    name = models.CharField(max_length=210, unique=True)
    # The service whose data this is (data sets made on the command line may have none).
    service = models.ForeignKey(
        "registry.Service",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="data_sets",
    )
    data_group = models.CharField(max_length=100)
    data_type = models.CharField(max_length=100)
    auto_ids = models.JSONField(default=list, blank=True)
    raw_queries_allowed = models.BooleanField(default=False)
    max_age_expected = models.PositiveIntegerField(null=True, blank=True)
    published = models.BooleanField(default=False)
    cache_max_age = models.PositiveIntegerField(null=True, blank=True)
    upload_format = models.CharField(max_length=10, choices=UPLOAD_FORMATS, default="csv")
    # A standard type (datasets.types) whose schema every write must match; blank: free-form.
    standard_type = models.CharField(max_length=50, blank=True, default="")
    # The JSON types each field has had since the data set was last emptied: lets a query skip
    # the per-row type check when a field has only ever held numbers.
    field_types = models.JSONField(default=dict, blank=True)
    # A free-form data set's declared fields (datasets.fields.FieldDeclaration.as_dict): proposed
    # from its first data, then confirmed or edited by its team. A standard type declares its own.
    field_declarations = models.JSONField(default=list, blank=True)
    last_write_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change to the records; caches of query results key on it.
    version = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["data_group", "data_type"], name="unique_data_set")
        ]
        ordering = ["data_group", "data_type"]

    def __str__(self):
        return f"{self.data_group}/{self.data_type}"

    @property
    def effective_cache_max_age(self) -> int:
        if self.cache_max_age is None:
            return settings.PERFPLAT_DEFAULT_CACHE_MAX_AGE
        return self.cache_max_age


class DataSetToken(models.Model):
    """A bearer token that may write to one data set. Only its hash is stored."""

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so people can tell tokens apart without seeing them.
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"token {self.prefix}... of {self.data_set}"

    @classmethod
    def issue(cls, data_set: DataSet) -> tuple["DataSetToken", str]:
        token = secrets.token_urlsafe(32)
        row = cls.objects.create(data_set=data_set, token_hash=hash_token(token), prefix=token[:6])
        return row, token


class WriteBatch(models.Model):
    """One write: an API request, an upload, a collector run or the journey beacon's daily
    counts. Records point at the batch that last wrote them, which is how the platform knows
    whether data arrives manually or automatically."""

    API = "api"
    UPLOAD = "upload"
    COLLECTOR = "collector"
    # The journey beacon (perfplat.beacon): counts the platform measured itself.
    BEACON = "beacon"
    KINDS = [
        (API, "API"),
        (UPLOAD, "Spreadsheet upload"),
        (COLLECTOR, "Collector"),
        (BEACON, "Journey beacon"),
    ]
    # Kinds whose data arrives with nobody typing or uploading it.
    AUTOMATIC = frozenset({API, COLLECTOR, BEACON})

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="batches")
    kind = models.CharField(max_length=20, choices=KINDS)
    token = models.ForeignKey(DataSetToken, null=True, blank=True, on_delete=models.SET_NULL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    record_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.kind} write of {self.record_count} records to data set {self.data_set_id}"


class Record(models.Model):
    """One record of a data set. The fields sent live in `data`; `_id`, the timestamp and its
    period starts are columns so that filtering and bucketing run in SQL."""

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, db_index=False)
    record_id = models.CharField(max_length=255)
    timestamp = models.BigIntegerField(null=True)
    hour_start = models.BigIntegerField(null=True)
    day_start = models.BigIntegerField(null=True)
    week_start = models.BigIntegerField(null=True)
    month_start = models.BigIntegerField(null=True)
    quarter_start = models.BigIntegerField(null=True)
    year_start = models.BigIntegerField(null=True)
    updated_at = models.BigIntegerField()
    data = models.JSONField(default=dict)
    # No database constraint or index: batches go only with their data set, and an index here
    # would slow every write for a lookup nobody makes.
    batch = models.ForeignKey(
        WriteBatch,
        null=True,
        on_delete=models.DO_NOTHING,
        db_index=False,
        db_constraint=False,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["data_set", "record_id"], name="unique_record_id")
        ]
        indexes = [models.Index(fields=["data_set", "timestamp"], name="record_time")]

    def __str__(self):
        return f"record {self.record_id}"


class Correction(models.Model):
    """A change to a record of a published data set: the public corrections log (SPEC 13).

    One row per record changed (a PATCH, a DELETE, a write or upload that replaced a stored
    record with different values), or one row for an emptying (`record_count` records gone).
    `starts_at` and `ends_at` (epoch seconds, end exclusive) are the stretch of time the
    records before and after describe: their `_timestamp` to the end of their `period`, which
    tells which published figures the correction revised."""

    PATCH, DELETE, REPLACE, EMPTY = "patch", "delete", "replace", "empty"
    ACTIONS = [
        (PATCH, "Changed"),
        (DELETE, "Deleted"),
        (REPLACE, "Replaced"),
        (EMPTY, "Emptied"),
    ]
    API, UPLOAD, COLLECTOR, MANAGE = "api", "upload", "collector", "manage"
    PATHS = [
        (API, "Write API"),
        (UPLOAD, "Spreadsheet upload"),
        (COLLECTOR, "Collector"),
        (MANAGE, "Management pages"),
    ]
    MAX_REASON_LENGTH = 500

    data_set = models.ForeignKey(DataSet, on_delete=models.CASCADE, related_name="corrections")
    record_id = models.CharField(max_length=255, blank=True)
    action = models.CharField(max_length=10, choices=ACTIONS)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    path = models.CharField(max_length=10, choices=PATHS, default=API)
    # Who made it, as the public sees it: an organisation, never a person.
    organisation = models.ForeignKey(
        "registry.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, default="")
    starts_at = models.BigIntegerField(null=True)
    ends_at = models.BigIntegerField(null=True)
    # How many records an emptying removed (1 for the other actions).
    record_count = models.PositiveIntegerField(default=1)
    # Kept for the platform's own investigations; never shown publicly.
    token = models.ForeignKey(DataSetToken, null=True, blank=True, on_delete=models.SET_NULL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["data_set", "created_at"], name="correction_time")]

    def __str__(self):
        return f"{self.action} of record {self.record_id}"
