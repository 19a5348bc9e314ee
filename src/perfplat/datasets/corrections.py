"""Corrections (SPEC section 13): changes to records of a published data set, kept with the
record before and after, the path it came by, the organisation that made it and its reason.

The write path (writes.py) finds what a write changes; this module turns those changes into
`Correction` rows and their audit log entry, in the write's transaction. Only published data
sets have corrections: before publication nothing was public, so nothing was corrected.

A replacing write (POST, an upload, a collector run) that changes a record whose period is
still under way is not a correction: the figures of an incomplete period are provisional (a
collector sends "this week so far" every few minutes), and only complete periods' figures are
final (SPEC section 3). PATCH, DELETE and emptying are always corrections.
"""

from dataclasses import dataclass

import orjson

from perfplat.errors import InvalidRequest

from .models import Correction, DataSet, WriteBatch
from .periods import add_periods, parse_datetime

PATHS = {
    WriteBatch.API: Correction.API,
    WriteBatch.UPLOAD: Correction.UPLOAD,
    WriteBatch.COLLECTOR: Correction.COLLECTOR,
}
# The `period` values a record may describe (the standard types use week, month and quarter).
_PERIODS = ("hour", "day", "week", "month", "quarter", "year")
NO_REASON = "No reason given"
NUL_CHARACTER = "\x00"


def check_reason(reason) -> str:
    """A correction's reason as stored: trimmed, at most Correction.MAX_REASON_LENGTH
    characters; "" when none is given."""
    if reason is None:
        return ""
    if not isinstance(reason, str):
        raise InvalidRequest("reason must be text", field="reason")
    reason = reason.strip()
    if len(reason) > Correction.MAX_REASON_LENGTH:
        raise InvalidRequest(
            f"reason must be at most {Correction.MAX_REASON_LENGTH} characters, not {len(reason)}",
            field="reason",
        )
    if NUL_CHARACTER in reason:
        raise InvalidRequest("reason must not contain the NUL character", field="reason")
    return reason


Span = tuple[int | None, int | None]


def span_at(timestamp: int | None, period) -> Span:
    """The stretch of time [start, end) in epoch seconds that a record with this timestamp and
    `period` field describes: to the end of its period; one second without a known period;
    (None, None) without a timestamp."""
    if timestamp is None:
        return None, None
    if period in _PERIODS:
        return timestamp, add_periods(period, timestamp, 1)
    return timestamp, timestamp + 1


def record_span(record: dict | None) -> Span:
    """`span_at` of a stored record as writes.stored_record gives it."""
    if not record or "_timestamp" not in record:
        return None, None
    return span_at(parse_datetime(record["_timestamp"]), record.get("period"))


def joined(*spans: Span) -> Span:
    """The stretch of time covering every span given (those without a time left out)."""
    known = [span for span in spans if span[0] is not None]
    if not known:
        return None, None
    return min(start for start, _ in known), max(end for _, end in known)


def span_of(*records: dict | None) -> Span:
    """The stretch of time covering every record given (None for those without a time)."""
    return joined(*map(record_span, records))


def is_provisional(span: Span, now: int) -> bool:
    """A replaced record whose period (before or after the change: `span`) has not ended."""
    return span[1] is not None and span[1] > now


@dataclass(frozen=True)
class Change:
    """One record changed: its id, the action, the record before and after (None when it did
    not exist / no longer exists)."""

    record_id: str
    action: str
    before: dict | None
    after: dict | None
    # The stretch of time the record describes, before and after; worked out when not given.
    span: Span | None = None


def organisation_of(data_set: DataSet, user, path: str) -> int | None:
    """The organisation a correction is credited to: the person's own, when a person made it
    (None for the platform's administrators, who belong to none, as for the command line);
    otherwise the service's, whose token or collector sent it."""
    if user is not None:
        return user.organisation_id
    if path == Correction.MANAGE:
        return None
    service = data_set.service if data_set.service_id else None
    return service.organisation_id if service else None


def _user(user_id):
    if user_id is None:
        return None
    from perfplat.accounts.models import User

    return User.objects.filter(pk=user_id).first()


def log(
    data_set: DataSet,
    changes: list[Change],
    source,
    *,
    emptied: int = 0,
    span: tuple[int | None, int | None] = (None, None),
) -> list:
    """Store the corrections of one write and their audit log entry (inside the write's
    transaction). `emptied`: the number of records an emptying removed (then `changes` is
    empty and one EMPTY correction is stored, covering `span`)."""
    from perfplat.audit.services import record as audit

    user = _user(source.user_id)
    common = {
        "data_set": data_set,
        "path": source.correction_path,
        "organisation_id": organisation_of(data_set, user, source.correction_path),
        "reason": source.reason,
        "token_id": source.token_id,
        "user": user,
    }
    if emptied:
        rows = [
            Correction(
                action=Correction.EMPTY,
                record_count=emptied,
                starts_at=span[0],
                ends_at=span[1],
                **common,
            )
        ]
    else:
        rows = []
        for change in changes:
            starts_at, ends_at = change.span or span_of(change.before, change.after)
            rows.append(
                Correction(
                    record_id=change.record_id,
                    action=change.action,
                    before=change.before,
                    after=change.after,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    **common,
                )
            )
    if not rows:
        return []
    _insert(rows)
    service = data_set.service if data_set.service_id else None
    audit(
        user,
        "data_set.correct",
        data_set,
        None,
        {
            "corrections": len(rows),
            "action": rows[0].action if len(rows) == 1 else "several",
            "records": emptied or len(rows),
            "record_ids": [row.record_id for row in rows[:20] if row.record_id],
            "path": source.correction_path,
            "reason": source.reason or NO_REASON,
        },
        service=service,
        organisation=service.organisation if service else None,
    )
    return rows


_COLUMNS = (
    "data_set_id",
    "record_id",
    "action",
    "before",
    "after",
    "path",
    "organisation_id",
    "reason",
    "starts_at",
    "ends_at",
    "record_count",
    "token_id",
    "user_id",
    "created_at",
)


def _insert(rows: list[Correction]) -> None:
    """Insert the corrections with one executemany: a write may correct thousands of records,
    and the ORM's bulk_create costs more than the write itself."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    created_at = connection.ops.adapt_datetimefield_value(now)
    dumps = orjson.dumps
    values = [
        (
            row.data_set_id,
            row.record_id,
            row.action,
            None if row.before is None else dumps(row.before).decode(),
            None if row.after is None else dumps(row.after).decode(),
            row.path,
            row.organisation_id,
            row.reason,
            row.starts_at,
            row.ends_at,
            row.record_count,
            row.token_id,
            row.user_id,
            created_at,
        )
        for row in rows
    ]
    json = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    placeholders = ", ".join(json if c in ("before", "after") else "%s" for c in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.executemany(
            # Constant column names; every value is a bound parameter.
            f"INSERT INTO datasets_correction ({', '.join(_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608
            values,
        )
    for row in rows:
        row.created_at = now
