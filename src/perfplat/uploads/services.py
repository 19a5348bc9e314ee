"""Spreadsheet uploads: receive a file, check it, show what would be stored, then commit it.

The pipeline is perfplat.ingest's: parse -> map -> convert by field type -> validate -> store,
and the last two stages are the write path's own (`writes.validate_for`,
`writes.store_records`): an upload is checked and stored exactly like a write through the API.
A free-form data set's fields not declared yet are proposed from the file, shown with the
preview, and kept with the data set when the upload is committed. Nothing is written to the data set
until `commit`, and only when no row has an error; the commit stores every row or none.

Large files (settings.PERFPLAT_UPLOAD_BACKGROUND_BYTES / _ROWS) are checked and committed by a
background task (tasks.py) that updates the upload's `progress`; small ones in the request.
`actor` is the signed-in user, or None for the command line; pages and the API also check the
permission before calling.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from perfplat.accounts.permissions import check
from perfplat.audit.services import record as audit
from perfplat.datasets import writes
from perfplat.datasets.corrections import check_reason
from perfplat.datasets.models import DataSet, WriteBatch
from perfplat.datasets.periods import format_timestamp
from perfplat.errors import Conflict, InvalidRecords, InvalidRequest, PerfplatError
from perfplat.ingest import conversion, parsing, pipeline
from perfplat.ingest.mapping import ID, IGNORE, RowError, field_choices, normalise

from .mappings import mapping_for
from .models import HeaderMapping, Upload

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 20
ProgressCallback = Callable[[int, str], None]


def max_upload_bytes() -> int:
    return settings.PERFPLAT_MAX_UPLOAD_BYTES


# progress


class Progress:
    """Reports how far work has gone: saved on the upload (for its page) and passed to
    `callback` (the command line's progress bar). `stage(start, end)` gives the part of 0..100
    the next step covers; `fraction` is how much of that step is done."""

    def __init__(self, upload: Upload, callback: ProgressCallback | None = None):
        self.upload = upload
        self.callback = callback
        self.start, self.end, self.label = 0, 100, ""
        self.last = -1

    def stage(self, start: int, end: int, label: str) -> "Progress":
        self.start, self.end, self.label = start, end, label
        self.fraction(0)
        return self

    def fraction(self, done: float) -> None:
        self.set(round(self.start + (self.end - self.start) * done))

    def set(self, percent: int) -> None:
        if percent == self.last:
            return
        self.last = percent
        self.upload.progress = percent
        Upload.objects.filter(pk=self.upload.pk).update(progress=percent)
        if self.callback is not None:
            self.callback(percent, self.label)


# receiving and checking


def read_file(uploaded) -> bytes:
    """The bytes of an uploaded file (a Django UploadedFile), reading no more than one byte
    past the limit."""
    return uploaded.read(max_upload_bytes() + 1)


def receive(
    data_set: DataSet,
    content: bytes,
    file_name: str,
    *,
    actor=None,
    sheet: str = "",
    mode: str = Upload.APPEND,
    mapping: dict | None = None,
    reason: str = "",
    commit: bool = False,
    background: bool = True,
    on_progress: ProgressCallback | None = None,
    size: int | None = None,
) -> Upload:
    """Keep an uploaded file and check it: the upload comes back previewed (no errors: it can
    be committed), invalid (with its row errors), or queued for the background worker when
    large. With `commit`, the records are stored as soon as the file is found free of errors.
    `reason`: why, should it correct records of a published data set (the corrections log).

    A file that cannot be read at all (not a spreadsheet, empty, too large, no header row)
    is kept in the history as invalid and raises its error. `size` is the file's size when
    `content` was cut short at the limit (see `read_file`)."""
    check(actor, "data_set.manage", data_set)
    if mode not in dict(Upload.MODES):
        raise InvalidRequest("mode must be append or replace", field="mode")
    reason = check_reason(reason)
    if mapping:
        choices = set(field_choices(data_set, mapping))
        for header, field in mapping.items():
            if field != IGNORE and field not in choices:
                raise InvalidRequest(
                    f'"{field}" is not a field column "{header}" can be mapped to: choose one '
                    f"of {', '.join(sorted(choices))}",
                    field="mapping",
                )
    user = actor if getattr(actor, "is_authenticated", False) else None
    fields = {
        "data_set": data_set,
        "user": user,
        "file_name": (file_name or "upload")[:255],
        "size": len(content) if size is None else size,
        "sheet": (sheet or "").strip()[:255],
        "mode": mode,
        "reason": reason,
        "commit_requested": commit,
        "mapping": mapping or {},
    }
    try:
        parsing.check_size(max(len(content), size or 0), max_upload_bytes())
    except PerfplatError as error:
        # Kept without its content: an empty file has none, a too large one is not stored.
        Upload.objects.create(
            **fields,
            status=Upload.INVALID,
            failure_message=error.message,
            finished_at=timezone.now(),
        )
        raise
    upload = Upload.objects.create(**fields, content=content)
    upload.data_set = data_set
    if background and len(content) > settings.PERFPLAT_UPLOAD_BACKGROUND_BYTES:
        _enqueue(upload, "check")
        return upload
    check_upload(upload, background=background, on_progress=on_progress)
    return upload


def check_upload(
    upload: Upload, *, background: bool = False, on_progress: ProgressCallback | None = None
) -> Upload:
    """Read, convert and validate the upload's file; save its preview and row errors. Stores
    the records too when the upload's commit was requested and nothing is wrong."""
    progress = Progress(upload, on_progress)
    committing = upload.commit_requested
    progress.stage(0, 10 if committing else 20, "Reading the file")
    try:
        table = parsing.read_table(bytes(upload.content), upload.sheet, max_upload_bytes())
    except PerfplatError as error:
        _finish(upload, Upload.INVALID, failure_message=error.message, progress=100)
        raise
    upload.file_format = table.format
    upload.sheet = table.sheet
    upload.sheet_names = list(table.sheet_names)
    upload.headers = list(table.headers)
    upload.row_count = table.row_count
    if background and table.row_count > settings.PERFPLAT_UPLOAD_BACKGROUND_ROWS:
        _save(upload)
        _enqueue(upload, "check")
        return upload
    try:
        result = _analyse(upload, table, progress, committing)
    except Exception as error:
        _failed(upload, error, "checking the file")
        raise
    upload.mapping = result.mapping
    upload.errors = [error.as_dict() for error in result.errors[: conversion.MAX_ERRORS_KEPT]]
    upload.error_count = len(result.errors)
    upload.preview = result.preview
    upload.proposed_fields = [proposal.as_dict() for proposal in result.checked.proposals]
    upload.failure_message = ""
    if result.errors or not committing:
        status = Upload.INVALID if result.errors else Upload.PREVIEWED
        upload.commit_requested = False
        _finish(upload, status, progress=100)
        return upload
    _save(upload)
    _store(upload, result.checked, upload.user, progress.stage(60, 100, "Storing the records"))
    return upload


@dataclass
class Analysis:
    mapping: dict
    errors: list[RowError]
    preview: list[dict]
    checked: pipeline.Checked


def _analyse(upload: Upload, table: parsing.Table, progress: Progress, committing: bool):
    """map -> convert -> validate (ingest.pipeline) -> row errors and the preview."""
    data_set = upload.data_set
    mapping = mapping_for(data_set, table.headers, upload.mapping)
    progress.stage(progress.end, 45 if committing else 60, "Reading the rows")
    converted, proposals = pipeline.read_records(
        data_set, table, mapping, on_progress=progress.fraction
    )
    progress.stage(progress.end, 55 if committing else 90, "Checking the rows")
    checked = pipeline.check_records(data_set, table, mapping, converted, proposals)
    errors = checked.errors
    if not converted.records and not errors:
        errors = [
            RowError(
                table.header_row,
                "",
                "",
                "no row has a value in a column that is uploaded: choose the fields of the "
                "columns in the mapping",
            )
        ]
        checked.batch = None
    preview = _preview(data_set, table, converted)
    return Analysis(mapping, errors, preview, checked)


def _preview(data_set: DataSet, table: parsing.Table, converted) -> list[dict]:
    """The first rows as they will be stored: with the type's defaults, the derived _id and
    the timestamp as the read API returns it."""
    rows = []
    show_id = bool(data_set.auto_ids)
    for index, record in enumerate(converted.records[:PREVIEW_ROWS]):
        try:
            prepared = writes.validate_for(data_set, [record]).records[0]
        except InvalidRecords:
            stored = dict(record)
        else:
            stored = {}
            if show_id or ID in record:
                stored["_id"] = prepared.record_id
            if prepared.timestamp is not None:
                stored["_timestamp"] = format_timestamp(prepared.timestamp)
            stored.update(prepared.data)
        rows.append({"row": table.row_numbers[converted.sources[index]], "record": stored})
    return rows


def preview_columns(upload: Upload) -> list[str]:
    """The fields the preview shows, in order: _timestamp, the others, and _id last (long,
    and of least interest to people)."""
    seen: dict[str, None] = {}
    for row in upload.preview:
        seen.update(dict.fromkeys(row["record"]))
    middle = [name for name in seen if name not in ("_id", "_timestamp")]
    return [n for n in ("_timestamp",) if n in seen] + middle + [n for n in ("_id",) if n in seen]


# committing


def commit(
    upload: Upload,
    actor=None,
    *,
    background: bool = True,
    on_progress: ProgressCallback | None = None,
) -> Upload:
    """Store the upload's records in its data set (appending, or replacing all its records),
    all or none. Refused while any row has an error; large uploads are committed by the
    background worker."""
    data_set = upload.data_set
    check(actor, "data_set.manage", data_set)
    if upload.status == Upload.COMMITTED:
        raise Conflict("This upload has already been committed: its records are stored")
    if upload.in_progress:
        raise Conflict("This upload is still being checked or committed: wait for it to finish")
    if not upload.can_commit:
        raise InvalidRequest(
            "Nothing can be committed while the spreadsheet has errors: correct them and "
            "upload it again"
        )
    if background and upload.row_count > settings.PERFPLAT_UPLOAD_BACKGROUND_ROWS:
        upload.commit_requested = True
        upload.save(update_fields=["commit_requested"])
        _enqueue(upload, "commit")
        return upload
    return commit_now(upload, on_progress=on_progress)


def commit_now(upload: Upload, on_progress: ProgressCallback | None = None) -> Upload:
    """Read the file again, check it again (the data set may have changed since the preview),
    and store its records."""
    progress = Progress(upload, on_progress)
    _set(upload, status=Upload.COMMITTING, failure_message="")
    progress.stage(0, 10, "Reading the file")
    try:
        table = parsing.read_table(bytes(upload.content), upload.sheet, max_upload_bytes())
        result = _analyse(upload, table, progress, committing=True)
    except PerfplatError as error:
        _finish(upload, Upload.INVALID, failure_message=error.message, progress=100)
        raise
    except Exception as error:
        _failed(upload, error, "checking the file")
        raise
    if result.errors:
        upload.errors = [e.as_dict() for e in result.errors[: conversion.MAX_ERRORS_KEPT]]
        upload.error_count = len(result.errors)
        _finish(upload, Upload.INVALID, progress=100)
        raise InvalidRequest(
            "The data set has changed since the file was checked, and some rows no longer "
            "fit it: see the row errors"
        )
    _store(upload, result.checked, upload.user, progress.stage(60, 100, "Storing the records"))
    return upload


def _store(upload: Upload, checked: pipeline.Checked, actor, progress: Progress) -> None:
    data_set = upload.data_set
    _set(upload, status=Upload.COMMITTING)
    source = writes.WriteSource(
        kind=WriteBatch.UPLOAD, user_id=upload.user_id, reason=upload.reason
    )
    try:
        with transaction.atomic():
            # Two commits of one upload (a double click) take turns; the second finds it done.
            status = Upload.objects.select_for_update().values_list("status", flat=True)
            if status.get(pk=upload.pk) == Upload.COMMITTED:
                raise Conflict("This upload has already been committed: its records are stored")
            replaced = None
            if upload.mode == Upload.REPLACE:
                replaced = data_set.record_set.count()
                stored = writes.replace_records(
                    data_set, checked.batch, source, proposals=checked.proposals
                )
            else:
                stored = checked.store(data_set, source)
            # store_records locked the data set's row: the newest upload batch is this one.
            write_batch = (
                WriteBatch.objects.filter(data_set=data_set, kind=WriteBatch.UPLOAD)
                .order_by("-pk")
                .first()
            )
            upload.write_batch = write_batch
            upload.stored_count = stored
            _finish(upload, Upload.COMMITTED, progress=100)
            service = data_set.service
            audit(
                actor,
                "upload.commit",
                upload,
                None,
                {
                    "data_set": str(data_set),
                    "file_name": upload.file_name,
                    "mode": upload.mode,
                    "rows": upload.row_count,
                    "records_stored": stored,
                    "records_replaced": replaced,
                },
                service=service,
                organisation=service.organisation if service else None,
            )
    except Conflict:
        raise
    except Exception as error:
        _failed(upload, error, "storing the records")
        raise
    progress.set(100)


def _failed(upload: Upload, error: Exception, doing: str) -> None:
    """Record an unexpected failure (a bug, the database gone): nothing was stored."""
    logger.exception("Upload %s failed while %s", upload.pk, doing)
    _finish(
        upload,
        Upload.FAILED,
        failure_message=(
            f"Something went wrong while {doing} ({type(error).__name__}), so no records were "
            "stored. Try again; if it happens again, tell the platform team."
        ),
    )


# A worker stopping under an upload's work once is most likely a restart (a deploy, a machine
# going away): the work is started again. Twice is taken as the file's doing (such as running
# out of memory), and the person is told.
MAX_RESTARTS = 1


def abandoned(args: list, started_at, now) -> None:
    """The background task checking or committing an upload died with its worker (see
    collectors.scheduler.recover_abandoned_tasks): its transaction stored nothing. The first
    time, the same work is queued again for the next worker; after that, the upload is marked
    failed with a message its page shows: a checked upload can be committed again, any other
    uploaded again."""
    upload = Upload.objects.filter(pk=args[0], status__in=Upload.IN_PROGRESS).first()
    if upload is None:
        return
    step = args[1] if len(args) > 1 else "check"
    if upload.restarts < MAX_RESTARTS:
        _enqueue(upload, step, restarts=upload.restarts + 1)
        return
    checked = upload.row_count > 0 and upload.error_count == 0 and bool(upload.headers)
    doing = "storing the records of" if step == "commit" else "checking"
    again = "Commit it again." if checked else "Upload the file again."
    _finish(
        upload,
        Upload.FAILED,
        failure_message=(
            f"The background worker stopped while {doing} this file (it was restarted or ran "
            f"out of memory), so no records were stored. {again}"
        ),
    )


def _set(upload: Upload, **changes) -> None:
    for name, value in changes.items():
        setattr(upload, name, value)
    Upload.objects.filter(pk=upload.pk).update(**changes)


def _save(upload: Upload) -> None:
    # Every field but the file, which never changes: no need to write megabytes again.
    upload.save(update_fields=_SAVED_FIELDS)


_SAVED_FIELDS = [
    field.name
    for field in Upload._meta.concrete_fields
    if field.name not in ("id", "content", "created_at")
]


def _finish(upload: Upload, status: str, **changes) -> None:
    upload.status = status
    for name, value in changes.items():
        setattr(upload, name, value)
    if status in (Upload.COMMITTED, Upload.FAILED, Upload.INVALID):
        upload.finished_at = timezone.now()
    _save(upload)


def _enqueue(upload: Upload, step: str, restarts: int = 0) -> None:
    """Queue the upload's background work; `restarts`: how many times this same work has been
    started again after its worker stopped (0 for work a person asks for)."""
    from .tasks import process_upload

    _set(upload, status=Upload.QUEUED, progress=0, restarts=restarts)
    process_upload.enqueue(upload.pk, step)


# changing the mapping or the sheet


def change_mapping(
    upload: Upload, actor, mapping: dict[str, str], sheet: str | None = None
) -> Upload:
    """Map the upload's columns to other fields (remembered for the data set's next uploads),
    or read another sheet of the workbook; then check the file again."""
    data_set = upload.data_set
    check(actor, "data_set.manage", data_set)
    if upload.status == Upload.COMMITTED or upload.in_progress:
        raise Conflict("This upload can no longer be changed")
    if sheet is not None and sheet != upload.sheet:
        upload.sheet = sheet
        upload.mapping = {}
    else:
        choices = set(field_choices(data_set, upload.headers))
        for header, field in mapping.items():
            if header not in upload.headers:
                raise InvalidRequest(f'The file has no column "{header}"', field="mapping")
            if field != IGNORE and field not in choices:
                raise InvalidRequest(
                    f'"{field}" is not a field column "{header}" can be mapped to',
                    field="mapping",
                )
        with transaction.atomic():
            saved, _ = HeaderMapping.objects.select_for_update().get_or_create(data_set=data_set)
            before = dict(saved.mapping)
            saved.mapping = {
                **saved.mapping,
                **{normalise(h): f for h, f in mapping.items()},
            }
            saved.updated_by = actor if getattr(actor, "is_authenticated", False) else None
            saved.save()
            service = data_set.service
            audit(
                actor,
                "data_set.header_mapping",
                data_set,
                before,
                saved.mapping,
                service=service,
                organisation=service.organisation if service else None,
            )
        upload.mapping = {**upload.mapping, **mapping}
    upload.status = Upload.RECEIVED
    _save(upload)
    if upload.size > settings.PERFPLAT_UPLOAD_BACKGROUND_BYTES:
        _enqueue(upload, "check")
        return upload
    try:
        check_upload(upload, background=True)
    except PerfplatError:
        # Kept on the upload (failure_message): its page shows it.
        pass
    return upload


# history


def history(data_set: DataSet):
    """The data set's uploads, newest first (without their files)."""
    return (
        Upload.objects.filter(data_set=data_set)
        .defer("content", "preview", "errors")
        .select_related("user")
    )


def find_upload(data_set_id: int, upload_id: int) -> Upload:
    from perfplat.errors import NotFound

    upload = (
        Upload.objects.filter(pk=upload_id, data_set_id=data_set_id)
        .select_related("data_set__service__organisation", "user")
        .first()
    )
    if upload is None:
        raise NotFound(f"No upload {upload_id} of data set {data_set_id}")
    return upload
