"""The write path: decode -> validate every record -> derive period starts -> store atomically.

The write API calls `write_records`; spreadsheet uploads and collectors read their tables into
records first (perfplat.ingest) and then call the same `validate_for` and `store_records`, so a
record is checked and stored the same way whichever way it arrives. Storing also proposes a
declaration (datasets.fields) for each field a free-form data set receives for the first time.
"""

import base64
import hashlib
import math
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

from . import corrections, fields, values
from .corrections import Change
from .models import (
    IDENTIFIER,
    MAX_FIELDS,
    MAX_KEY_LENGTH,
    MAX_NUMBER,
    MAX_TEXT_LENGTH,
    Correction,
    DataSet,
    Record,
    WriteBatch,
)
from .periods import EARLIEST, LATEST, OUT_OF_RANGE, format_timestamp, parse_datetime, period_starts
from .types import TYPES, DataSetType, apply_type

RESERVED_KEYS = ("_id", "_timestamp")
# PostgreSQL cannot store U+0000 in text or jsonb, so no database may hold it.
NUL = "\x00"
_NO_WHITESPACE = re.compile(r"\S+")
MAX_ID_LENGTH = 255
_NUMBERS = (int, float)
_TYPE_NAMES = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


@dataclass(frozen=True)
class WriteSource:
    """How a write arrived: through the API with a token, an upload by a user, a collector;
    and, should it correct published records, why (`reason`, "" when not said)."""

    kind: str
    token_id: int | None = None
    user_id: int | None = None
    reason: str = ""
    # The path its corrections are logged under, when not the kind's own (the management
    # pages and API: Correction.MANAGE).
    path: str = ""

    @property
    def correction_path(self) -> str:
        return self.path or corrections.PATHS.get(self.kind, self.kind)


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
    if len(key) > MAX_KEY_LENGTH:
        return (
            f"key {key[:20]!r}... is {len(key)} characters long: "
            f"keys are at most {MAX_KEY_LENGTH} characters"
        )
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


NUMBER_RANGE = (
    f"numbers must lie between -{MAX_NUMBER} and {MAX_NUMBER} (±(2^53 - 1), the whole "
    "numbers every JSON reader holds exactly)"
)


def number_problem(value) -> str | None:
    """Why a number cannot be stored: out of range or not finite; None when it can."""
    if type(value) is float and not math.isfinite(value):
        return f"is {value}: {NUMBER_RANGE}"
    if not -MAX_NUMBER <= value <= MAX_NUMBER:
        return f"is {value}: {NUMBER_RANGE}"
    return None


def value_problem(key: str, value) -> str | None:
    if type(value) is str and NUL in value:
        return f"field {key!r} contains the NUL character (\\u0000), which cannot be stored"
    if type(value) is str and len(value) > MAX_TEXT_LENGTH:
        return (
            f"field {key!r} is {len(value)} characters long: "
            f"text values are at most {MAX_TEXT_LENGTH} characters"
        )
    if type(value) in (int, float):
        problem = number_problem(value)
        return f"field {key!r} {problem}" if problem else None
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
                if (
                    value_type not in _TYPE_NAMES
                    or (value_type is str and (NUL in value or len(value) > MAX_TEXT_LENGTH))
                    or (value_type in _NUMBERS and not -MAX_NUMBER <= value <= MAX_NUMBER)
                ):
                    # (NaN fails the range check too.)
                    record_problems.append((key, value_problem(key, value)))
                    continue
                if value_type is float and value.is_integer():
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


# Stored records found per query when looking for those a write replaces.
_LOOKUP_CHUNK = 500


def _replaced_sqlite(cursor, data_set_id: int, rows: list[tuple]) -> list[tuple]:
    """(record_id, timestamp, data) of the stored records that `rows` replace with other
    values: one indexed lookup per 500 records."""
    by_id = {row[1]: row for row in rows}
    ids = list(by_id)
    found = []
    for first in range(0, len(ids), _LOOKUP_CHUNK):
        chunk = ids[first : first + _LOOKUP_CHUNK]
        cursor.execute(
            "SELECT record_id, timestamp, data FROM datasets_record "
            f"WHERE data_set_id = %s AND record_id IN ({', '.join(['%s'] * len(chunk))})",
            [data_set_id, *chunk],
        )
        for record_id, timestamp, data in cursor.fetchall():
            new = by_id[record_id]
            # The same text is the same record; other text may still be the same values.
            if timestamp != new[2] or data != new[10]:
                stored = orjson.loads(data)
                if timestamp != new[2] or stored != orjson.loads(new[10]):
                    found.append((record_id, timestamp, stored))
    return found


def _insert_sqlite(cursor, rows, data_set_id: int, new_ids: bool, find_replaced: bool):
    """Insert (or upsert) the rows; returns the stored records they replaced with other values
    when `find_replaced`."""
    rows = list(rows)
    replaced = _replaced_sqlite(cursor, data_set_id, rows) if find_replaced else []
    upsert = "" if new_ids else f" ON CONFLICT (data_set_id, record_id) DO UPDATE SET {_UPSERT_SET}"
    cursor.executemany(
        f"INSERT INTO datasets_record ({_COLUMNS}) VALUES ({', '.join(['%s'] * 12)}){upsert}",
        rows,
    )
    return replaced


_LOAD_TABLE = "perfplat_record_load"


def _insert_postgresql(cursor, rows, data_set_id: int, new_ids: bool, find_replaced: bool):
    """Insert (or upsert) the rows; returns the stored records they replaced with other values
    when `find_replaced`."""
    if new_ids or not Record.objects.filter(data_set_id=data_set_id).exists():
        # Nothing to replace (ids made for this batch, or an empty data set, locked so that
        # nobody adds records meanwhile; the batch has no duplicate ids): COPY straight into
        # the table, the fastest way in.
        with cursor.copy(f"COPY datasets_record ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return []
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
    replaced = []
    if find_replaced:
        # Only the stored records whose values differ (jsonb compares values, not text).
        cursor.execute(
            f"SELECT r.record_id, r.timestamp, r.data FROM datasets_record r "
            f"JOIN {_LOAD_TABLE} l ON r.data_set_id = l.data_set_id AND r.record_id = l.record_id "
            "WHERE r.data_set_id = %s "
            "AND (r.timestamp IS DISTINCT FROM l.timestamp OR r.data <> l.data)",
            (data_set_id,),
        )
        # Django's connection reads jsonb as text: it decodes JSON itself.
        replaced = [
            (record_id, timestamp, orjson.loads(data) if isinstance(data, str) else data)
            for record_id, timestamp, data in cursor.fetchall()
        ]
    cursor.execute(
        f"INSERT INTO datasets_record ({_COLUMNS}) SELECT {_COLUMNS} FROM {_LOAD_TABLE} "
        f"ON CONFLICT (data_set_id, record_id) DO UPDATE SET {_UPSERT_SET}"
    )
    return replaced


def _merge_field_types(current: dict, seen: frozenset) -> dict | None:
    """The data set's field types with those of a batch added, or None when nothing is new."""
    new = [(field, name) for field, name in seen if name not in current.get(field, ())]
    if not new:
        return None
    merged = {field: list(names) for field, names in current.items()}
    for field, name in new:
        merged.setdefault(field, []).append(name)
    return {field: sorted(names) for field, names in merged.items()}


def check_field_count(data_set: DataSet, current: dict, seen: frozenset) -> None:
    """Refuse a write that would give the data set more than MAX_FIELDS distinct fields."""
    new = sorted({field for field, _ in seen} - set(current))
    if len(current) + len(new) <= MAX_FIELDS:
        return
    examples = ", ".join(new[:3]) + (", ..." if len(new) > 3 else "")
    raise InvalidRequest(
        f"Data set {data_set} may hold at most {MAX_FIELDS} distinct fields: it has "
        f"{len(current)} and this write adds {len(new)} more ({examples})"
    )


def _stored_form(record: PreparedRecord) -> dict:
    """A prepared record as `stored_record` will give it back."""
    stored = {"_id": record.record_id}
    if record.timestamp is not None:
        stored["_timestamp"] = format_timestamp(record.timestamp)
    stored.update(record.data)
    return stored


def _replacements(replaced: list[tuple], batch: PreparedBatch, now: int) -> list[Change]:
    """The corrections of a replacing write: each stored record it replaced with other values,
    unless its period is still under way (corrections.is_provisional)."""
    if not replaced:
        return []
    new = {record.record_id: record for record in batch.records}
    changes = []
    for record_id, timestamp, data in replaced:
        record = new[record_id]
        span = corrections.joined(
            corrections.span_at(timestamp, data.get("period")),
            corrections.span_at(record.timestamp, record.data.get("period")),
        )
        if corrections.is_provisional(span, now):
            continue
        before = {"_id": record_id}
        if timestamp is not None:
            before["_timestamp"] = format_timestamp(timestamp)
        before.update(data)
        changes.append(Change(record_id, Correction.REPLACE, before, _stored_form(record), span))
    return changes


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
    data_set: DataSet,
    batch: PreparedBatch,
    source: WriteSource,
    proposals=None,
    *,
    find_corrections: bool = True,
) -> int:
    """Store validated records in one transaction; returns how many were written.
    `proposals`: declarations a spreadsheet's columns were read by, for fields the data set
    has not declared yet (the batch's values propose the others). In a published data set, the
    stored records the write replaces with other values are corrections (unless
    `find_corrections` is false: the caller logs its own)."""
    now = int(time.time())
    with transaction.atomic():
        # Locks the data set row on PostgreSQL so concurrent writers update field types,
        # declarations and the version one after the other (SQLite's IMMEDIATE transactions
        # already do).
        current = (
            DataSet.objects.select_for_update()
            .values("field_types", "field_declarations", "published")
            .get(pk=data_set.pk)
        )
        # Ids made for the batch replace nothing: only other writes need the lookup.
        find_replaced = find_corrections and current["published"] and not batch.new_ids
        check_field_count(data_set, current["field_types"], batch.field_types)
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
                replaced = _insert_postgresql(
                    cursor, rows, data_set.pk, batch.new_ids, find_replaced
                )
        else:
            with connection.cursor() as cursor:
                replaced = _insert_sqlite(cursor, rows, data_set.pk, batch.new_ids, find_replaced)
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
        corrected = _replacements(replaced, batch, now)
        if corrected:
            corrections.log(data_set, corrected, source)
    return len(batch.records)


def validate_for(data_set: DataSet, records: list) -> PreparedBatch:
    """Validate records as the data set would on a write (its auto_ids, its type, its
    confirmed declared fields and how many fields it may hold)."""
    batch = validate_records(
        records,
        data_set.auto_ids,
        TYPES.get(data_set.standard_type),
        fields.confirmed_fields(data_set),
    )
    check_field_count(data_set, data_set.field_types, batch.field_types)
    return batch


def write_records(data_set: DataSet, records: list, source: WriteSource) -> int:
    """Validate and store records: all of them, or none and an InvalidRecords error."""
    return store_records(data_set, validate_for(data_set, records), source)


# corrections


def _emptied_span(data_set: DataSet) -> tuple[int | None, int | None]:
    """The stretch of time the data set's records describe (for an emptying's correction)."""
    from django.db.models import Max, Min

    found = Record.objects.filter(data_set=data_set).aggregate(
        first=Min("timestamp"), last=Max("timestamp")
    )
    if found["first"] is None:
        return None, None
    last_records = Record.objects.filter(data_set=data_set, timestamp=found["last"])[:10]
    _, end = corrections.span_of(*(stored_record(row) for row in last_records))
    return found["first"], end


def empty_data_set(data_set: DataSet, source: WriteSource | None = None) -> int:
    """Delete every record; returns how many there were. Emptying a published data set is a
    correction (logged with `source`'s path and reason)."""
    with transaction.atomic():
        published = DataSet.objects.select_for_update().values_list("published", flat=True)
        published = published.get(pk=data_set.pk)
        span = _emptied_span(data_set) if published and source is not None else (None, None)
        count, _ = Record.objects.filter(data_set=data_set).delete()
        DataSet.objects.filter(pk=data_set.pk).update(
            version=F("version") + 1, field_types={}, last_write_at=None
        )
        if published and source is not None and count:
            corrections.log(data_set, [], source, emptied=count, span=span)
    return count


def replace_records(
    data_set: DataSet, batch: PreparedBatch, source: WriteSource, proposals=None
) -> int:
    """Replace every record of the data set with the batch's, in one transaction; returns how
    many were written. In a published data set, each stored record the batch leaves out or
    changes is a correction (not the unchanged ones, nor those of a period under way)."""
    now = int(time.time())
    with transaction.atomic():
        published = DataSet.objects.select_for_update().values_list("published", flat=True)
        old = {}
        if published.get(pk=data_set.pk):
            old = {
                row.record_id: stored_record(row)
                for row in Record.objects.filter(data_set=data_set).iterator(chunk_size=2000)
            }
        empty_data_set(data_set)
        stored = store_records(data_set, batch, source, proposals, find_corrections=False)
        new = {record.record_id: record for record in batch.records}
        changes = []
        for record_id, before in old.items():
            after = _stored_form(new[record_id]) if record_id in new else None
            if after == before or corrections.is_provisional(
                corrections.span_of(before, after), now
            ):
                continue
            action = Correction.DELETE if after is None else Correction.REPLACE
            changes.append(Change(record_id, action, before, after))
        if changes:
            corrections.log(data_set, changes, source)
    return stored


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


def _is_published(data_set: DataSet) -> bool:
    return DataSet.objects.filter(pk=data_set.pk, published=True).exists()


def patch_record(data_set: DataSet, record_id: str, changes, source: WriteSource) -> dict:
    """Set some fields of one record, validated like a write; returns the record after. In a
    published data set a change is a correction."""
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
        store_records(data_set, batch, source, find_corrections=False)
        # As stored: a timestamp in its UTC form, whole floats as whole numbers.
        after = _stored_form(batch.records[0])
        if after != before and _is_published(data_set):
            corrections.log(data_set, [Change(record_id, Correction.PATCH, before, after)], source)
    return after


def delete_record(data_set: DataSet, record_id: str, source: WriteSource) -> None:
    """Remove one record. In a published data set it is a correction."""
    with transaction.atomic():
        row = _find_record(data_set, record_id)
        before = stored_record(row)
        row.delete()
        DataSet.objects.filter(pk=data_set.pk).update(version=F("version") + 1)
        if _is_published(data_set):
            corrections.log(data_set, [Change(record_id, Correction.DELETE, before, None)], source)
