"""The public corrections log (/corrections, /services/<slug>/corrections, /corrections/<id>):
each change to a record of a published data set after publication (SPEC section 13), newest
first, with when, which data set and period, which fields changed from what to what, the path
it came by, the organisation that made it (never a person) and its reason."""

from dataclasses import dataclass
from datetime import UTC, datetime

from perfplat.csvfiles import csv_text
from perfplat.datasets.corrections import NO_REASON
from perfplat.datasets.models import Correction
from perfplat.datasets.periods import format_timestamp
from perfplat.errors import InvalidRequest, NotFound
from perfplat.registry.models import Service
from perfplat.registry.services import public_services

from ..formatting import MONTHS, date_text, read_period
from .common import _service_ref

PER_PAGE = 50
MAX_PAGE = 10_000
# Who made a correction when no organisation is recorded: a platform administrator.
PLATFORM_TEAM = "The platform's administrators"
NONE_TEXT = "(none)"


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: object  # None when the record did not have the field (or did not exist)
    after: object

    @property
    def before_text(self) -> str:
        return value_text(self.before)

    @property
    def after_text(self) -> str:
        return value_text(self.after)


@dataclass(frozen=True)
class CorrectionEntry:
    id: int
    made_at: datetime
    service_slug: str
    service_name: str
    data_set: str  # group/type
    action: str  # patch, delete, replace, empty
    action_text: str
    record_id: str
    record_count: int
    starts_at: int | None
    ends_at: int | None
    period_text: str
    changes: tuple[FieldChange, ...]
    path: str  # api, upload, collector, manage
    path_text: str
    organisation: str
    reason: str  # "" when none was given
    before: dict | None
    after: dict | None

    @property
    def url(self) -> str:
        return f"/corrections/{self.id}"

    @property
    def reason_text(self) -> str:
        return self.reason or NO_REASON

    @property
    def made_at_text(self) -> str:
        return date_text(self.made_at)

    @property
    def summary(self) -> str:
        """One line: what changed, for headings and feed titles."""
        if self.action == Correction.EMPTY:
            noun = "record" if self.record_count == 1 else "records"
            return f"{self.data_set}: all {self.record_count} {noun} removed"
        return f"{self.data_set}, {self.period_text}: {self.action_text.lower()}"


def value_text(value) -> str:
    if value is None:
        return NONE_TEXT
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _day(seconds: int) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def period_text(record: dict | None, starts_at: int | None, ends_at: int | None) -> str:
    """The period a correction touched, as people read it: "Week starting 1 January 2024",
    "January 2024", or the days an emptying covered."""
    if record is not None:
        timestamp = record.get("_timestamp")
        if timestamp is None:
            return "No period (the record has no _timestamp)"
        period = record.get("period")
        if period == "week":
            return f"Week starting {read_period('week', timestamp)}"
        if period in ("month", "quarter", "year", "day"):
            return read_period(period, timestamp)
        moment = datetime.fromisoformat(timestamp)
        return date_text(moment)
    if starts_at is None:
        return "No period"
    last = _day(max(starts_at, ends_at - 1))
    first = _day(starts_at)
    return first if first == last else f"{first} to {last}"


def field_changes(correction: Correction) -> tuple[FieldChange, ...]:
    """Each field whose value differs between the record before and after (all the record's
    fields for a deletion); the id is not a field people read."""
    if correction.action == Correction.EMPTY:
        return ()
    before, after = correction.before or {}, correction.after or {}
    names = [name for name in {**before, **after} if name != "_id"]
    return tuple(
        FieldChange(name, before.get(name), after.get(name))
        for name in names
        if before.get(name) != after.get(name)
    )


def entry_of(correction: Correction) -> CorrectionEntry:
    data_set = correction.data_set
    service = data_set.service
    record = correction.before or correction.after
    return CorrectionEntry(
        id=correction.pk,
        made_at=correction.created_at,
        service_slug=service.slug,
        service_name=service.name,
        data_set=str(data_set),
        action=correction.action,
        action_text=correction.get_action_display(),
        record_id=correction.record_id,
        record_count=correction.record_count,
        starts_at=correction.starts_at,
        ends_at=correction.ends_at,
        period_text=period_text(record, correction.starts_at, correction.ends_at),
        changes=field_changes(correction),
        path=correction.path,
        path_text=correction.get_path_display(),
        organisation=correction.organisation.name if correction.organisation else PLATFORM_TEAM,
        reason=correction.reason,
        before=correction.before,
        after=correction.after,
    )


def public_corrections(service: Service | None = None):
    """The corrections anyone may see: of published data sets of public services."""
    found = Correction.objects.filter(
        data_set__published=True, data_set__service__in=public_services()
    )
    if service is not None:
        found = found.filter(data_set__service=service)
    return found.select_related("data_set__service", "organisation").order_by("-created_at", "-id")


@dataclass(frozen=True)
class CorrectionsLog:
    service: Service | None  # None: every service
    entries: tuple[CorrectionEntry, ...]
    page: int
    pages: int
    total: int

    @property
    def path(self) -> str:
        if self.service is None:
            return "/corrections"
        return f"/services/{self.service.slug}/corrections"


def check_page(value: str | None) -> int:
    if value in (None, ""):
        return 1
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        raise InvalidRequest(f"page must be a whole number from 1 to {MAX_PAGE}", field="page")
    return int(value)


def _public_service(slug: str) -> Service:
    service = public_services().select_related("organisation").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"No published service {slug!r}")
    return service


def corrections_log(service_slug: str | None = None, page: int = 1) -> CorrectionsLog:
    """A page of the corrections log, newest first: of one public service, or of all."""
    service = _public_service(service_slug) if service_slug else None
    found = public_corrections(service)
    total = found.count()
    pages = max(1, -(-total // PER_PAGE))
    start = (page - 1) * PER_PAGE
    entries = tuple(entry_of(c) for c in found[start : start + PER_PAGE])
    return CorrectionsLog(service, entries, page, pages, total)


def latest_corrections(service: Service | None = None, count: int = PER_PAGE) -> list:
    """The newest corrections, for the feeds."""
    return [entry_of(c) for c in public_corrections(service)[:count]]


def correction_entry(correction_id: int) -> CorrectionEntry:
    correction = public_corrections().filter(pk=correction_id).first()
    if correction is None:
        raise NotFound(f"No public correction {correction_id}")
    return entry_of(correction)


# data twins


def entry_json(entry: CorrectionEntry) -> dict:
    return {
        "id": entry.id,
        "url": entry.url,
        "made_at": entry.made_at.isoformat(),
        "service": entry.service_slug,
        "data_set": entry.data_set,
        "action": entry.action,
        "record_id": entry.record_id or None,
        "records": entry.record_count,
        "period": entry.period_text,
        "starts_at": format_timestamp(entry.starts_at),
        "ends_at": format_timestamp(entry.ends_at),
        "changes": [
            {"field": change.field, "before": change.before, "after": change.after}
            for change in entry.changes
        ],
        "before": entry.before,
        "after": entry.after,
        "path": entry.path,
        "organisation": entry.organisation,
        "reason": entry.reason or None,
    }


def corrections_json(log: CorrectionsLog) -> dict:
    return {
        "service": _service_ref(log.service) if log.service else None,
        "page": log.page,
        "pages": log.pages,
        "total": log.total,
        "corrections": [entry_json(entry) for entry in log.entries],
    }


CSV_HEAD = [
    "id",
    "made_at",
    "service",
    "data_set",
    "action",
    "record_id",
    "period",
    "starts_at",
    "ends_at",
    "field",
    "before",
    "after",
    "path",
    "organisation",
    "reason",
]


def _csv_rows(entry: CorrectionEntry) -> list[list]:
    """One row per field changed (an emptying: one row saying how many records went)."""
    common = [
        entry.id,
        entry.made_at.isoformat(),
        entry.service_slug,
        entry.data_set,
        entry.action,
        entry.record_id,
        entry.period_text,
        format_timestamp(entry.starts_at),
        format_timestamp(entry.ends_at),
    ]
    tail = [entry.path, entry.organisation, entry.reason_text]
    if entry.action == Correction.EMPTY:
        return [[*common, "", f"{entry.record_count} records", "0 records", *tail]]
    changes = entry.changes or (FieldChange("", None, None),)
    return [
        [*common, change.field, _csv_value(change.before), _csv_value(change.after), *tail]
        for change in changes
    ]


def _csv_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def corrections_csv(log_or_entries) -> str:
    entries = log_or_entries.entries if hasattr(log_or_entries, "entries") else log_or_entries
    rows = [CSV_HEAD]
    for entry in entries:
        rows.extend(_csv_rows(entry))
    return csv_text(rows)
