"""The write path: decode -> validate every record -> derive period starts -> store atomically.

The write API calls `write_records`; spreadsheet uploads and collectors read their tables into
records first (perfplat.ingest) and then call the same `validate_for` and `store_records`, so a
record is checked and stored the same way whichever way it arrives. Storing also proposes a
declaration (datasets.fields) for each field a free-form data set receives for the first time.
"""

import base64
import hashlib
import re
import secrets
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from django.db import connection, transaction
from django.db.models import F

from perfplat.errors import (
    InvalidRecords,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    RecordProblem,
)

from . import fields, values
from .models import IDENTIFIER, Correction, DataSet, Record, WriteBatch
from .periods import EARLIEST, LATEST, OUT_OF_RANGE, format_timestamp, parse_datetime, period_starts
from .types import TYPES, DataSetType, apply_type

RESERVED_KEYS = ("_id", "_timestamp")
# PostgreSQL cannot store U+0000 in text or jsonb, so no database may hold it.
NUL = "\x00"
_NO_WHITESPACE = re.compile(r"\S+")
MAX_ID_LENGTH = 255
# Floats hold every whole number below this exactly.
_EXACT = 2**53
_TYPE_NAMES = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


@dataclass(frozen=True)
class WriteSource:
    """How a write arrived: through the API with a token, an upload by a user, a collector."""

    kind: str
    token_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class PreparedRecord:
    """A record that passed validation, ready to store."""

    record_id: str
    timestamp: int | None
    data: dict


@dataclass(frozen=True)
class PreparedBatch:
    records: list[PreparedRecord]
    # (field, JSON type name) pairs seen in the batch.
    field_types: frozenset
    # Every id was made for this batch (no _id, no auto_ids): none can be stored already, so
    # the records are inserted without the upsert's cost. (The ids start with a random 64-bit
    # prefix per batch; were one ever drawn twice, the insert would fail, never replace
    # another batch's records.)
    new_ids: bool = False


# decode


def decompress_gzip(body: bytes, max_bytes: int) -> bytes:
    """Inflate a gzip body, refusing with 413 as soon as it passes `max_bytes`.

    Inflating stops at the cap, so a zip bomb costs at most `max_bytes` of memory. A body of
    several gzip members (as `cat a.gz b.gz` makes) is inflated whole, as gzip(1) does.
    """
    chunks = []
    size = 0
    rest = body
    while True:
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(rest, max_bytes - size + 1)
        except zlib.error as error:
            raise InvalidRequest(f"The body is not valid gzip data: {error}")
        size += len(data)
        if size > max_bytes or inflater.unconsumed_tail:
            raise PayloadTooLarge(
                f"The decompressed body is larger than the limit of {max_bytes} bytes"
            )
        if not inflater.eof:
            raise InvalidRequest("The body is not valid gzip data: it ends too early")
        chunks.append(data)
        rest = inflater.unused_data
        if not rest:
            return b"".join(chunks)


def parse_json_body(body: bytes):
    if not body.strip():
        raise InvalidRequest("The body is empty: send a JSON object or a list of them")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"The body is not valid JSON: {error}")


def records_from_body(payload) -> list:
    """The records of a write body: one object, or a list of them."""
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list):
        return payload
    raise InvalidRequest(
        f"The body must be a JSON object or a list of objects, not {_describe(payload)}"
    )


# validate


def _describe(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"{_TYPE_NAMES.get(type(value), type(value).__name__)} {orjson.dumps(value).decode()}"


def key_problem(key: str) -> str | None:
    """Why `key` cannot be a field name of a record, or None when it can."""
    if not IDENTIFIER.fullmatch(key):
        return (
            f"key {key!r} is not a valid identifier "
            "(letters, digits and _, not starting with a digit)"
        )
    if key[0] == "_" and key not in RESERVED_KEYS:
        return f"key {key!r} is reserved: only _id and _timestamp may begin with _"
    return None


def id_problem(value) -> str | None:
    if not isinstance(value, str) or not _NO_WHITESPACE.fullmatch(value):
        return f"_id must be a non-empty string with no whitespace, not {_describe(value)}"
    if NUL in value:
        return "_id must not contain the NUL character (\\u0000)"
    if len(value) > MAX_ID_LENGTH:
        return f"_id must be at most {MAX_ID_LENGTH} characters long, not {len(value)}"
    return None


def parse_timestamp(value) -> int:
    """A record's _timestamp in epoch seconds; ValueError unless it is an ISO 8601 date-time
    with an offset whose UTC moment lies in the range perfplat can bucket and query."""
    seconds = parse_datetime(value)
    if not EARLIEST <= seconds < LATEST:
        raise TimestampOutOfRange(OUT_OF_RANGE)
    return seconds


class TimestampOutOfRange(ValueError):
    pass


def timestamp_problem(value, error: Exception) -> str:
    if isinstance(error, TimestampOutOfRange):
        return f"_timestamp {_describe(value)} {error}"
    return (
        f"_timestamp {_describe(value)} is not an ISO 8601 date-time with a UTC offset "
        f"such as 2024-01-01T00:00:00Z ({error})"
    )


def value_problem(key: str, value) -> str | None:
    if type(value) is str and NUL in value:
        return f"field {key!r} contains the NUL character (\\u0000), which cannot be stored"
    if type(value) in _TYPE_NAMES:
        return None
    return f"field {key!r} is {_describe(value)}: values must be strings, numbers, booleans or null"


def derive_id(record: dict, auto_ids: list[str], timestamp: int | None = None) -> str:
    """The id of a record in a data set with auto_ids, as backdrop made it: base64 of the
    auto_ids values joined with '.'. One difference: _timestamp takes part in its stored UTC
    form (2024-01-01T00:00:00+00:00, what backdrop's Python clients send), so the same moment
    sent as ...Z by a spreadsheet or +01:00 by a collector replaces the record instead of
    adding a copy. Ids too long to store are hashed instead."""
    joined = ".".join(
        format_timestamp(timestamp)
        if field == "_timestamp" and timestamp is not None
        else _backdrop_str(record[field])
        for field in auto_ids
    )
    encoded = base64.b64encode(joined.encode()).decode()
    if len(encoded) > MAX_ID_LENGTH:
        return hashlib.sha256(encoded.encode()).hexdigest()
    return encoded


def _backdrop_str(value) -> str:
    # Python's str(), as backdrop used: True, None, 1.5.
    return value if isinstance(value, str) else str(value)


def validate_records(
    records: list,
    auto_ids: list[str] | None = None,
    data_set_type: DataSetType | None = None,
    declarations: tuple = (),
) -> PreparedBatch:
    """Check every record and prepare it for storage, or raise InvalidRecords naming every
    problem (record index and field). A later record with the same _id replaces an earlier.
    With a standard type, each record must also match the type's schema; with declarations
    (datasets.fields.FieldDeclaration), each declared field's value must be of its type."""
    auto_ids = auto_ids or []
    problems: list[RecordProblem] = []
    prepared: dict[str, PreparedRecord] = {}
    seen_types: set = set()
    good_keys: set = set()
    parsed_times: dict = {}
    id_prefix = secrets.token_hex(8)
    new_ids = not auto_ids
    for index, record in enumerate(records):
        if type(record) is not dict:
            problems.append(
                RecordProblem(index, None, f"must be a JSON object, not {_describe(record)}")
            )
            continue
        record_problems = []
        if data_set_type is not None:
            # A copy: the type fills in defaults, and the caller's records stay as they were.
            record = dict(record)
            record_problems = apply_type(data_set_type, record)
        elif declarations:
            record_problems = fields.declaration_problems(declarations, record)
        data = {}
        record_id = None
        timestamp = None
        for key, value in record.items():
            if key not in good_keys:
                problem = key_problem(key)
                if problem:
                    record_problems.append((key, problem))
                    continue
                good_keys.add(key)
            if key == "_timestamp":
                timestamp = parsed_times.get(value) if type(value) is str else None
                if timestamp is None:
                    try:
                        timestamp = parsed_times[value] = parse_timestamp(value)
                    except (ValueError, TypeError) as error:
                        record_problems.append(("_timestamp", timestamp_problem(value, error)))
                        continue
            elif key == "_id":
                problem = id_problem(value)
                if problem:
                    record_problems.append(("_id", problem))
                    continue
                record_id = value
                new_ids = False
            else:
                value_type = type(value)
                if value_type not in _TYPE_NAMES or (value_type is str and NUL in value):
                    record_problems.append((key, value_problem(key, value)))
                    continue
                if value_type is float and value.is_integer() and -_EXACT < value < _EXACT:
                    # 1.0 is 1: one JSON number, one group, on both databases (spreadsheets
                    # give floats for whole numbers).
                    value = int(value)
                    value_type = int
                seen_types.add((key, value_type))
                data[key] = value
        if auto_ids:
            missing = [field for field in auto_ids if field not in record]
            if missing:
                record_problems.append(
                    (missing[0], f"missing auto_ids field(s): {', '.join(missing)}")
                )
            elif not record_problems:
                record_id = derive_id(record, auto_ids, timestamp)
        if record_problems:
            problems.extend(RecordProblem(index, f, text) for f, text in record_problems)
            continue
        if record_id is None:
            # Unique without a random draw per record: a random prefix per batch and a counter.
            record_id = f"{id_prefix}{index:06x}"
        prepared[record_id] = PreparedRecord(record_id, timestamp, data)
    if problems:
        raise InvalidRecords.of(problems)
    types = frozenset((field, _TYPE_NAMES[value_type]) for field, value_type in seen_types)
    return PreparedBatch(list(prepared.values()), types, new_ids)


# store

_COLUMNS = (
    "data_set_id, record_id, timestamp, hour_start, day_start, week_start, month_start, "
    "quarter_start, year_start, updated_at, data, batch_id"
)
_UPSERT_SET = (
    "timestamp = excluded.timestamp, hour_start = excluded.hour_start, "
    "day_start = excluded.day_start, week_start = excluded.week_start, "
    "month_start = excluded.month_start, quarter_start = excluded.quarter_start, "
    "year_start = excluded.year_start, updated_at = excluded.updated_at, "
    "data = excluded.data, batch_id = excluded.batch_id"
)
_NO_PERIODS = (None,) * 6


def _record_rows(data_set_id: int, batch_id: int, now: int, records: list[PreparedRecord]):
    dumps = orjson.dumps
    for record in records:
        starts = _NO_PERIODS if record.timestamp is None else period_starts(record.timestamp)
        yield (
            data_set_id,
            record.record_id,
            record.timestamp,
            *starts,
            now,
            dumps(record.data).decode(),
            batch_id,
        )


def _insert_sqlite(cursor, rows, new_ids: bool):
    upsert = "" if new_ids else f" ON CONFLICT (data_set_id, record_id) DO UPDATE SET {_UPSERT_SET}"
    cursor.executemany(
        f"INSERT INTO datasets_record ({_COLUMNS}) VALUES ({', '.join(['%s'] * 12)}){upsert}",
        list(rows),
    )


_LOAD_TABLE = "perfplat_record_load"


def _insert_postgresql(cursor, rows, data_set_id: int, new_ids: bool):
    if new_ids or not Record.objects.filter(data_set_id=data_set_id).exists():
        # Nothing to replace (ids made for this batch, or an empty data set, locked so that
        # nobody adds records meanwhile; the batch has no duplicate ids): COPY straight into
        # the table, the fastest way in.
        with cursor.copy(f"COPY datasets_record ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    # COPY (done in C by psycopg) into a session-local staging table, then one upsert from it:
    # several times faster than binding 12,000 parameters. The table is (re)created in every
    # write: a rolled-back transaction takes a table created in it away, so remembering that
    # a connection has one would break every later write on that connection.
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_LOAD_TABLE} ("
        "data_set_id bigint, record_id text, timestamp bigint, hour_start bigint, "
        "day_start bigint, week_start bigint, month_start bigint, quarter_start bigint, "
        "year_start bigint, updated_at bigint, data jsonb, batch_id bigint"
        ") ON COMMIT DELETE ROWS"
    )
    # Empty unless an earlier write ran in the same transaction (ON COMMIT DELETE ROWS only
    # empties it at commit): its rows must not be upserted again.
    cursor.execute(f"DELETE FROM {_LOAD_TABLE}")
    with cursor.copy(f"COPY {_LOAD_TABLE} ({_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute(
        f"INSERT INTO datasets_record ({_COLUMNS}) SELECT {_COLUMNS} FROM {_LOAD_TABLE} "
        f"ON CONFLICT (data_set_id, record_id) DO UPDATE SET {_UPSERT_SET}"
    )


def _merge_field_types(current: dict, seen: frozenset) -> dict | None:
    """The data set's field types with those of a batch added, or None when nothing is new."""
    new = [(field, name) for field, name in seen if name not in current.get(field, ())]
    if not new:
        return None
    merged = {field: list(names) for field, names in current.items()}
    for field, name in new:
        merged.setdefault(field, []).append(name)
    return {field: sorted(names) for field, names in merged.items()}


def _new_declarations(
    data_set: DataSet, current: list[dict], batch: PreparedBatch, proposals
) -> list[dict] | None:
    """A free-form data set's declarations with those proposed for the fields it receives for
    the first time added (`proposals` when the caller read them from a table, else worked out
    from the batch's values), or None when no field is new."""
    if data_set.standard_type:
        return None
    known = {item["name"] for item in current}
    new = {field for field, name in batch.field_types if name != "null" and field not in known}
    if not new:
        return None
    given = {proposal.name: proposal for proposal in proposals or () if proposal.name in new}
    missing = new - set(given)
    found = list(given.values())
    if missing:
        found += values.propose_from_records([record.data for record in batch.records], missing)
    return fields.with_proposals(current, found)


def store_records(
    data_set: DataSet, batch: PreparedBatch, source: WriteSource, proposals=None
) -> int:
    """Store validated records in one transaction; returns how many were written.
    `proposals`: declarations a spreadsheet's columns were read by, for fields the data set
    has not declared yet (the batch's values propose the others)."""
    now = int(time.time())
    with transaction.atomic():
        # Locks the data set row on PostgreSQL so concurrent writers update field types,
        # declarations and the version one after the other (SQLite's IMMEDIATE transactions
        # already do).
        current = (
            DataSet.objects.select_for_update()
            .values("field_types", "field_declarations")
            .get(pk=data_set.pk)
        )
        write_batch = WriteBatch.objects.create(
            data_set_id=data_set.pk,
            kind=source.kind,
            token_id=source.token_id,
            user_id=source.user_id,
            record_count=len(batch.records),
        )
        rows = _record_rows(data_set.pk, write_batch.pk, now, batch.records)
        if connection.vendor == "postgresql":
            connection.ensure_connection()
            # A plain psycopg cursor: COPY is psycopg's own API, not Django's.
            import psycopg

            with psycopg.Cursor(connection.connection) as cursor:
                _insert_postgresql(cursor, rows, data_set.pk, batch.new_ids)
        else:
            with connection.cursor() as cursor:
                _insert_sqlite(cursor, rows, batch.new_ids)
        changes = {"version": F("version") + 1, "last_write_at": datetime.fromtimestamp(now, UTC)}
        merged = _merge_field_types(current["field_types"], batch.field_types)
        if merged is not None:
            changes["field_types"] = merged
            data_set.field_types = merged
        declarations = _new_declarations(data_set, current["field_declarations"], batch, proposals)
        if declarations is not None:
            changes["field_declarations"] = declarations
            data_set.field_declarations = declarations
        DataSet.objects.filter(pk=data_set.pk).update(**changes)
    return len(batch.records)


def validate_for(data_set: DataSet, records: list) -> PreparedBatch:
    """Validate records as the data set would on a write (its auto_ids, its type and its
    confirmed declared fields)."""
    return validate_records(
        records,
        data_set.auto_ids,
        TYPES.get(data_set.standard_type),
        fields.confirmed_fields(data_set),
    )


def write_records(data_set: DataSet, records: list, source: WriteSource) -> int:
    """Validate and store records: all of them, or none and an InvalidRecords error."""
    return store_records(data_set, validate_for(data_set, records), source)


# corrections


def empty_data_set(data_set: DataSet) -> None:
    with transaction.atomic():
        Record.objects.filter(data_set=data_set).delete()
        DataSet.objects.filter(pk=data_set.pk).update(
            version=F("version") + 1, field_types={}, last_write_at=None
        )


def stored_record(row: Record) -> dict:
    """A stored record as it was sent: its _id, _timestamp and fields."""
    record = {"_id": row.record_id}
    if row.timestamp is not None:
        record["_timestamp"] = format_timestamp(row.timestamp)
    record.update(row.data)
    return record


def _find_record(data_set: DataSet, record_id: str) -> Record:
    """The record, locked until the transaction ends so concurrent corrections queue."""
    # No stored _id holds NUL, and PostgreSQL refuses to even compare with one.
    row = (
        None
        if NUL in record_id
        else Record.objects.select_for_update()
        .filter(data_set=data_set, record_id=record_id)
        .first()
    )
    if row is None:
        raise NotFound(f"No record with _id {record_id!r} in data set {data_set}")
    return row


def patch_record(data_set: DataSet, record_id: str, changes, source: WriteSource) -> dict:
    """Set some fields of one record, validated like a write; returns the record after."""
    if not isinstance(changes, dict):
        raise InvalidRequest(f"A correction must be a JSON object, not {_describe(changes)}")
    problems = []
    if "_id" in changes:
        problems.append("_id cannot be changed; delete the record and send it again")
    problems.extend(
        f"{field} is one of the data set's auto_ids and cannot be changed; "
        "delete the record and send it again"
        for field in data_set.auto_ids
        if field in changes
    )
    if problems:
        raise InvalidRecords(problems[0], messages=problems)
    with transaction.atomic():
        before = stored_record(_find_record(data_set, record_id))
        after = {**before, **changes}
        batch = validate_for(data_set, [after])
        store_records(data_set, batch, source)
        Correction.objects.create(
            data_set=data_set,
            record_id=record_id,
            action="patch",
            before=before,
            after=after,
            token_id=source.token_id,
        )
    return after


def delete_record(data_set: DataSet, record_id: str, source: WriteSource) -> None:
    with transaction.atomic():
        row = _find_record(data_set, record_id)
        before = stored_record(row)
        row.delete()
        DataSet.objects.filter(pk=data_set.pk).update(version=F("version") + 1)
        Correction.objects.create(
            data_set=data_set,
            record_id=record_id,
            action="delete",
            before=before,
            token_id=source.token_id,
        )
