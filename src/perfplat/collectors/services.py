"""Collectors: create, change, pause, resume and delete them (permission-checked, audited in
the same transaction), and run them.

A run is a pipeline of small stages: fetch (fetching.py) -> read the body as a table ->
map, convert by the declared field types and validate (reading.py, through perfplat.ingest's
pipeline, as spreadsheet uploads do) -> store through the write path (`writes.store_records`,
provenance "collector"). A dry run stops after validating. Any failure is recorded on the run with a
message for people, and nothing is written.

`actor` is the signed-in user, or None for the platform itself (the command line, the demo,
the scheduler).
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from perfplat.accounts.permissions import check
from perfplat.audit.services import record, snapshot
from perfplat.datasets import writes
from perfplat.datasets.corrections import check_reason
from perfplat.datasets.models import DataSet, WriteBatch
from perfplat.datasets.periods import format_timestamp
from perfplat.errors import Conflict, InvalidRequest, NotFound, PerfplatError

from . import fetching, reading, scheduler
from .models import Collector, CollectorRun, ScheduledJob

logger = logging.getLogger(__name__)

AUDITED_FIELDS = ["data_set", "name", "url", "format", "sheet", "mapping", "interval", "paused"]
SETTINGS = ["name", "url", "format", "sheet", "mapping", "interval", "paused"]
MAX_INTERVAL = 31 * 86400
# Records a dry run shows.
PREVIEW_RECORDS = 20


# settings


def _text(values: dict, name: str, label: str, max_length: int, required: bool) -> str:
    value = values.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidRequest(f"{label} must be text", field=name)
    value = value.strip()
    if required and not value:
        raise InvalidRequest(f"Enter {label.lower()}", field=name)
    if len(value) > max_length:
        raise InvalidRequest(f"{label} must be {max_length} characters or fewer", field=name)
    return value


def check_mapping(mapping) -> dict[str, str]:
    """A collector's mapping, checked: column header (or JSON key) -> field name, or "" to
    leave the column out."""
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise InvalidRequest(
            "The mapping must be pairs of a column (or JSON key) and a field", field="mapping"
        )
    checked = {}
    for header, field in mapping.items():
        if not isinstance(header, str) or not header.strip() or len(header) > 255:
            raise InvalidRequest(
                "Each column in the mapping must be a name of 1 to 255 characters",
                field="mapping",
            )
        if field is None:
            field = ""
        if not isinstance(field, str):
            raise InvalidRequest(f"The field for {header!r} must be a field name", field="mapping")
        field = field.strip()
        problem = writes.key_problem(field) if field else None
        if problem:
            raise InvalidRequest(f"The field for {header!r}: {problem}", field="mapping")
        checked[header.strip()] = field
    return checked


def check_settings(values: dict, allow_private: bool | None = None) -> dict:
    """The settings of a collector, checked; InvalidRequest naming the field otherwise. A URL
    whose host is a private or local address is refused unless `allow_private` (by default
    settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE)."""
    if allow_private is None:
        allow_private = settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE
    checked = {
        "name": _text(values, "name", "A name", 100, required=True),
        "url": _text(values, "url", "The URL", 2000, required=True),
        "sheet": _text(values, "sheet", "The sheet", 255, required=False),
    }
    fetching.check_url(checked["url"])
    problem = fetching.literal_address_problem(checked["url"], allow_private)
    if problem:
        raise InvalidRequest(problem, field="url")
    file_format = values.get("format", Collector.CSV)
    if file_format not in dict(Collector.FORMATS):
        raise InvalidRequest("The format must be csv, json or xlsx", field="format")
    checked["format"] = file_format
    interval = values.get("interval", 3600)
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int)
        or not Collector.MIN_INTERVAL <= interval <= MAX_INTERVAL
    ):
        raise InvalidRequest(
            f"The interval must be a whole number of seconds from {Collector.MIN_INTERVAL} "
            f"(every minute) to {MAX_INTERVAL} (every 31 days)",
            field="interval",
        )
    checked["interval"] = interval
    paused = values.get("paused", False)
    if not isinstance(paused, bool):
        raise InvalidRequest("paused must be true or false", field="paused")
    checked["paused"] = paused
    checked["mapping"] = check_mapping(values.get("mapping", {}))
    return checked


def _scope(data_set: DataSet) -> dict:
    service = data_set.service
    return {"service": service, "organisation": service.organisation if service else None}


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# create, change, delete


def create_collector(
    actor,
    data_set: DataSet,
    now: datetime | None = None,
    *,
    allow_private: bool | None = None,
    **values,
) -> Collector:
    """Create a collector and schedule its first run for now. (`allow_private` is for the
    demo, whose source runs on this machine.)"""
    check(actor, "data_set.manage", data_set)
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise InvalidRequest(f"Unknown setting(s): {', '.join(sorted(unknown))}")
    checked = check_settings(values, allow_private)
    now = now or timezone.now()
    with transaction.atomic():
        collector = Collector.objects.create(data_set=data_set, created_by=_user(actor), **checked)
        ScheduledJob.objects.create(
            name=f"collector-{collector.pk}",
            kind=ScheduledJob.COLLECTOR,
            collector=collector,
            interval=collector.interval,
            enabled=not collector.paused,
            next_run_at=now,
        )
        record(
            actor,
            "collector.create",
            collector,
            None,
            snapshot(collector, AUDITED_FIELDS),
            **_scope(data_set),
        )
    return collector


def update_collector(actor, collector: Collector, now: datetime | None = None, **changes):
    """Change a collector's settings; pausing stops its scheduled runs, resuming schedules
    one for now."""
    check(actor, "data_set.manage", collector.data_set)
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise InvalidRequest(f"Unknown setting(s): {', '.join(sorted(unknown))}")
    now = now or timezone.now()
    current = {name: getattr(collector, name) for name in SETTINGS}
    # The address is checked again only when it changes: pausing a collector whose address
    # was allowed when it was made must still work.
    same_url = str(changes.get("url", current["url"]) or "").strip() == current["url"]
    checked = check_settings({**current, **changes}, True if same_url else None)
    changed = {name: value for name, value in checked.items() if value != current[name]}
    if not changed:
        return collector
    action = "collector.update"
    if set(changed) == {"paused"}:
        action = "collector.pause" if checked["paused"] else "collector.resume"
    with transaction.atomic():
        before = snapshot(collector, AUDITED_FIELDS)
        for name, value in checked.items():
            setattr(collector, name, value)
        collector.save(update_fields=[*SETTINGS, "updated_at"])
        job = job_of(collector, now)
        job_changes = {"interval": collector.interval, "enabled": not collector.paused}
        if "paused" in changed and not collector.paused:
            job_changes["next_run_at"] = now
        elif "interval" in changed:
            job_changes["next_run_at"] = min(
                job.next_run_at, now + timedelta(seconds=collector.interval)
            )
        ScheduledJob.objects.filter(pk=job.pk).update(**job_changes)
        record(
            actor,
            action,
            collector,
            before,
            snapshot(collector, AUDITED_FIELDS),
            **_scope(collector.data_set),
        )
    return collector


def delete_collector(actor, collector: Collector) -> None:
    """Delete a collector, its schedule and its run history (records it wrote stay)."""
    check(actor, "data_set.manage", collector.data_set)
    with transaction.atomic():
        record(
            actor,
            "collector.delete",
            collector,
            snapshot(collector, AUDITED_FIELDS),
            None,
            **_scope(collector.data_set),
        )
        collector.delete()


def job_of(collector: Collector, now: datetime | None = None) -> ScheduledJob:
    """The collector's scheduled job (made if it is missing)."""
    job, _ = ScheduledJob.objects.get_or_create(
        collector=collector,
        defaults={
            "name": f"collector-{collector.pk}",
            "kind": ScheduledJob.COLLECTOR,
            "interval": collector.interval,
            "enabled": not collector.paused,
            "next_run_at": now or timezone.now(),
        },
    )
    return job


def collectors_of(data_set: DataSet):
    return Collector.objects.filter(data_set=data_set).select_related("job")


def find_collector(data_set_id: int, collector_id: int) -> Collector:
    collector = (
        Collector.objects.select_related("data_set__service__organisation", "job")
        .filter(pk=collector_id, data_set_id=data_set_id)
        .first()
    )
    if collector is None:
        raise NotFound(f"No collector {collector_id} of data set {data_set_id}")
    return collector


def history(collector: Collector, limit: int = 50):
    return collector.runs.select_related("user")[:limit]


# running


def run_now(
    actor, collector: Collector, now: datetime | None = None, reason: str = ""
) -> CollectorRun:
    """Run a collector at once (paused or not), under its job's lease so it never overlaps a
    scheduled run; Conflict while another run is in progress. `reason`: why, should the run
    correct records of a published data set (the corrections log)."""
    check(actor, "data_set.manage", collector.data_set)
    reason = check_reason(reason)
    now = now or timezone.now()
    job = job_of(collector, now)
    lease = scheduler.acquire_lease(job.pk, now)
    if lease is None:
        raise Conflict(
            "The collector is running at the moment: its run will be in the history when it ends"
        )
    run = None
    try:
        run = _run(collector, CollectorRun.MANUAL, actor, now, reason)
    finally:
        failed = run is None or run.outcome == CollectorRun.FAILED
        scheduler.release_lease(
            job.pk, lease, now, (run.error if run else "interrupted") if failed else None
        )
    return run


def dry_run(actor, collector: Collector, now: datetime | None = None) -> CollectorRun:
    """Fetch and check what the collector would write, and write nothing."""
    check(actor, "data_set.manage", collector.data_set)
    return _run(collector, CollectorRun.DRY_RUN, actor, now)


def run_scheduled(job: ScheduledJob, now: datetime) -> CollectorRun:
    """The scheduler's entry point: run the job's collector, raising CollectorFailed (so the
    scheduler retries with backoff) when the run failed."""
    run = _run(job.collector, CollectorRun.SCHEDULE, None, now)
    if run.outcome == CollectorRun.FAILED:
        raise reading.CollectorFailed(run.error)
    return run


def _preview(record: writes.PreparedRecord) -> dict:
    shown = {"_id": record.record_id}
    if record.timestamp is not None:
        shown["_timestamp"] = format_timestamp(record.timestamp)
    shown.update(record.data)
    return shown


def _check_identity(data_set: DataSet, records: list[dict]) -> None:
    # Without auto_ids or an _id, every pull would add the same rows again as new records.
    if not data_set.auto_ids and not all("_id" in record for record in records):
        raise reading.CollectorFailed(
            "Each pull would add the same records again: give the data set fields that "
            "identify a record (auto_ids), or map a column to _id"
        )


def _fetch_records(
    collector: Collector, run: CollectorRun, dry: bool, user, reason: str = ""
) -> None:
    data_set = collector.data_set
    max_bytes = settings.PERFPLAT_COLLECTOR_MAX_BYTES
    response = fetching.fetch(
        collector.url,
        timeout=settings.PERFPLAT_COLLECTOR_TIMEOUT,
        max_bytes=max_bytes,
        allow_private=settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE,
        file_format=collector.format,
    )
    run.http_status = response.status
    run.size = len(response.body)
    table = reading.read_table(
        reading.decode(response, max_bytes), collector.format, collector.sheet
    )
    run.rows = table.row_count
    checked = reading.prepare(data_set, table, collector.mapping)
    _check_identity(data_set, checked.records)
    if dry:
        run.records = len(checked.batch.records)
        run.preview = [_preview(record) for record in checked.batch.records[:PREVIEW_RECORDS]]
    else:
        source = writes.WriteSource(
            WriteBatch.COLLECTOR, user_id=getattr(user, "pk", None), reason=reason
        )
        run.records = checked.store(data_set, source)


def _run(
    collector: Collector, trigger: str, user, now: datetime | None, reason: str = ""
) -> CollectorRun:
    started = now or timezone.now()
    clock = time.monotonic()
    dry = trigger == CollectorRun.DRY_RUN
    run = CollectorRun(collector=collector, trigger=trigger, user=_user(user), started_at=started)
    try:
        _fetch_records(collector, run, dry, _user(user), reason)
        run.outcome = CollectorRun.SUCCEEDED
    except PerfplatError as error:
        run.outcome = CollectorRun.FAILED
        run.error = error.message
        run.errors = getattr(error, "errors", [])
        run.error_count = getattr(error, "error_count", 0)
    except Exception as error:  # noqa: BLE001 - recorded on the run for people to see
        logger.exception("Collector %s failed unexpectedly", collector.pk)
        run.outcome = CollectorRun.FAILED
        run.error = (
            f"An unexpected error stopped the run ({type(error).__name__}): the platform's "
            "administrators can find the details in its logs"
        )
    run.finished_at = started + timedelta(seconds=time.monotonic() - clock)
    _record(collector, run)
    if not dry and run.outcome == CollectorRun.FAILED:
        from perfplat.notifications.services import collector_failed

        collector_failed(collector, run, started)
    return run


def _record(collector: Collector, run: CollectorRun) -> None:
    """Save the run and, for a real run, the collector's failing streak."""
    with transaction.atomic():
        run.save()
        if not run.dry_run:
            collectors = Collector.objects.filter(pk=collector.pk)
            if run.outcome == CollectorRun.SUCCEEDED:
                collectors.update(
                    failure_count=0,
                    failing_since=None,
                    failure_notified=False,
                    last_run_at=run.started_at,
                    last_success_at=run.started_at,
                )
            else:
                collectors.update(
                    failure_count=F("failure_count") + 1,
                    failing_since=Coalesce(F("failing_since"), Value(run.started_at)),
                    last_run_at=run.started_at,
                )
        old = list(
            CollectorRun.objects.filter(collector=collector)
            .order_by("-started_at", "-id")
            .values_list("pk", flat=True)[CollectorRun.KEPT : CollectorRun.KEPT + 100]
        )
        if old:
            CollectorRun.objects.filter(pk__in=old).delete()
    collector.refresh_from_db(
        fields=[
            "failure_count",
            "failing_since",
            "failure_notified",
            "last_run_at",
            "last_success_at",
        ]
    )
