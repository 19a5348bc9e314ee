"""Converting a data set's stored values to its declared field types.

Data written before its fields were declared (or through the API before they were confirmed)
may hold "1200" as text in a whole-number field, and sums over it fail. `convert_stored_values`
reads every stored value of a declared field by its type, as a spreadsheet cell would be read
(datasets.values), and rewrites the records in one transaction: every value, or, when any value
cannot be converted, none (the problems say which). The data set's version is bumped (caches
key on it) and its field_types worked out again from what is stored.
"""

from dataclasses import dataclass, field

import orjson
from django.db import connection, transaction
from django.db.models import F

from perfplat.accounts.permissions import check
from perfplat.audit.services import record

from . import values
from .fields import BOOLEAN, DATE_TIME, NUMBER, TEXT, WHOLE_NUMBER, declared_fields
from .models import IDENTIFIER, DataSet
from .periods import parse_datetime

# Problems kept on a report (problem_count says how many there were).
PROBLEMS_KEPT = 100
_CHUNK = 2000

# The stored JSON types that may need converting, per declared type: (SQLite json_type names,
# PostgreSQL jsonb_typeof names). A whole-number field's numbers are checked for a fraction too.
_CANDIDATES = {
    TEXT: (("integer", "real", "true", "false"), ("number", "boolean")),
    WHOLE_NUMBER: (("text", "real", "true", "false"), ("string", "boolean")),
    NUMBER: (("text", "true", "false"), ("string", "boolean")),
    BOOLEAN: (("text", "integer", "real"), ("string", "number")),
    DATE_TIME: (("text", "integer", "real", "true", "false"), ("string", "number", "boolean")),
}
_SQLITE_TYPES = {"text": "string", "integer": "number", "real": "number", "true": "boolean"}
_SQLITE_TYPES.update({"false": "boolean", "null": "null"})


@dataclass(frozen=True)
class StoredValueProblem:
    record_id: str
    field: str
    value: str
    problem: str

    @property
    def text(self) -> str:
        return f"Record {self.record_id!r}, field {self.field!r}: {self.problem}"

    def as_dict(self) -> dict:
        return {
            "record_id": self.record_id,
            "field": self.field,
            "value": self.value,
            "problem": self.problem,
        }


@dataclass
class FieldConversion:
    """What converting the stored values did (or, for a dry run or when some value cannot be
    converted, would do): how many records and values of each field change, and the values
    that cannot be converted (then nothing is changed)."""

    dry_run: bool
    changed_records: int = 0
    changed_values: dict[str, int] = field(default_factory=dict)
    problems: list[StoredValueProblem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def applied(self) -> bool:
        return not self.dry_run and not self.problem_count and self.changed_records > 0

    @property
    def summary(self) -> str:
        if self.problem_count:
            return (
                f"{self.problem_count:,} stored value{_s(self.problem_count)} cannot be "
                "converted to the declared type, so nothing was changed"
            )
        if not self.changed_records:
            return "Every stored value already has its field's declared type: nothing to convert"
        values_changed = sum(self.changed_values.values())
        verb = "would be" if self.dry_run else "were"
        return (
            f"{values_changed:,} value{_s(values_changed)} in {self.changed_records:,} "
            f"record{_s(self.changed_records)} {verb} converted ("
            + ", ".join(f"{name}: {count:,}" for name, count in self.changed_values.items())
            + ")"
        )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def stored_value(field_type: str, value):
    """A stored value read as the declared type: the value to store instead, the same value
    when it already fits, or a ValueProblem."""
    if field_type == DATE_TIME and type(value) is str:
        try:
            parse_datetime(value)
        except ValueError:
            return values.read_date_time(value)
        return value
    return values.READERS[field_type](value)


def _candidates_sql(declarations) -> str:
    """A condition true for the records in which some declared field has a stored value of a
    JSON type that may need converting (field names are identifiers: checked again here)."""
    conditions = []
    postgres = connection.vendor == "postgresql"
    for declaration in declarations:
        name = declaration.name
        if not IDENTIFIER.fullmatch(name):
            continue
        sqlite_types, postgres_types = _CANDIDATES[declaration.type]
        if postgres:
            typeof = f"jsonb_typeof(data -> '{name}')"
            listed = ", ".join(f"'{t}'" for t in postgres_types)
            condition = f"{typeof} IN ({listed})"
            if declaration.type == WHOLE_NUMBER:
                # CASE, not AND: PostgreSQL may evaluate AND's sides in any order, and text
                # cannot be cast to a number.
                number = f"(data ->> '{name}')::numeric"
                condition += (
                    f" OR CASE WHEN {typeof} = 'number' THEN {number} <> trunc({number}) "
                    "ELSE FALSE END"
                )
        else:
            listed = ", ".join(f"'{t}'" for t in sqlite_types)
            condition = f"json_type(data, '$.{name}') IN ({listed})"
        conditions.append(f"({condition})")
    return " OR ".join(conditions) or "FALSE"


def _stored_field_types(data_set_id: int) -> dict:
    """Every field's JSON types as stored now (DataSet.field_types' shape)."""
    if connection.vendor == "postgresql":
        sql = (
            "SELECT DISTINCT j.key, jsonb_typeof(j.value) FROM datasets_record r, "
            "jsonb_each(r.data) j WHERE r.data_set_id = %s"
        )
        names = {}
    else:
        sql = (
            "SELECT DISTINCT j.key, j.type FROM datasets_record r, json_each(r.data) j "
            "WHERE r.data_set_id = %s"
        )
        names = _SQLITE_TYPES
    found: dict[str, set] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [data_set_id])
        for key, kind in cursor.fetchall():
            found.setdefault(key, set()).add(names.get(kind, kind))
    return {key: sorted(kinds) for key, kinds in sorted(found.items())}


PROPOSAL_SAMPLE = 1000


def propose_from_stored(data_set: DataSet) -> list:
    """Declarations proposed from the newest stored records (at most PROPOSAL_SAMPLE), for a
    data set whose records were stored before it had any: what its fields page offers to
    confirm."""
    rows = data_set.record_set.order_by("-updated_at", "-id").values_list("data", flat=True)[
        :PROPOSAL_SAMPLE
    ]
    records = [row for row in rows if isinstance(row, dict)]
    names = {name for data in records for name in data}
    return values.propose_from_records(records, names)


def convert_stored_values(data_set: DataSet, actor=None, dry_run: bool = False) -> FieldConversion:
    """Convert every stored value of the data set's declared fields to its declared type,
    atomically; a dry run only says what would change. When any value cannot be converted,
    nothing is changed and the report lists the values (the first PROBLEMS_KEPT)."""
    check(actor, "data_set.manage", data_set)
    declarations = [d for d in declared_fields(data_set) if IDENTIFIER.fullmatch(d.name)]
    report = FieldConversion(dry_run=dry_run)
    if not declarations:
        return report
    postgres = connection.vendor == "postgresql"
    with transaction.atomic():
        # Writes to the data set wait until the conversion is done (SQLite's IMMEDIATE
        # transactions already lock the whole database).
        DataSet.objects.select_for_update().filter(pk=data_set.pk).values("pk").get()
        changes = []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, record_id, data FROM datasets_record WHERE data_set_id = %s AND ("
                + _candidates_sql(declarations)
                + ") ORDER BY id",
                [data_set.pk],
            )
            while rows := cursor.fetchmany(_CHUNK):
                for row_id, record_id, data in rows:
                    data = orjson.loads(data) if isinstance(data, str | bytes) else data
                    changed = _convert_record(declarations, record_id, data, report)
                    if changed is not None:
                        changes.append((orjson.dumps(changed).decode(), row_id))
        report.changed_records = len(changes)
        if dry_run or report.problem_count or not changes:
            return report
        cast = "%s::jsonb" if postgres else "%s"
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE datasets_record SET data = {cast} WHERE id = %s", changes)
        field_types = _stored_field_types(data_set.pk)
        DataSet.objects.filter(pk=data_set.pk).update(
            version=F("version") + 1, field_types=field_types
        )
        data_set.field_types = field_types
        service = data_set.service
        record(
            actor,
            "data_set.convert_fields",
            data_set,
            None,
            {"records": report.changed_records, "values": report.changed_values},
            service=service,
            organisation=service.organisation if service else None,
        )
    return report


def _convert_record(declarations, record_id: str, data: dict, report: FieldConversion):
    """The record's data with its declared fields converted, None when nothing changes;
    problems are added to the report."""
    changed = None
    for declaration in declarations:
        value = data.get(declaration.name)
        if value is None:
            continue
        result = stored_value(declaration.type, value)
        if type(result) is values.ValueProblem:
            report.problem_count += 1
            if len(report.problems) < PROBLEMS_KEPT:
                report.problems.append(
                    StoredValueProblem(
                        record_id, declaration.name, values.display(value), str(result)
                    )
                )
            continue
        if type(result) is type(value) and result == value:
            continue
        if changed is None:
            changed = dict(data)
        changed[declaration.name] = result
        report.changed_values[declaration.name] = report.changed_values.get(declaration.name, 0) + 1
    return changed
