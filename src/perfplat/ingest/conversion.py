"""Turning a table's rows into records: each cell read by its field's declared type.

Plain functions (nothing here needs the database). The records made here are then validated by
the write path (perfplat.datasets.writes.validate_for) exactly like records sent to the write
API; `row_errors` turns its problems back into the table's rows and columns.

A row error names the row as people see it in their spreadsheet (the header is row 1 unless
rows above it are empty), the column by its header, the cell's value, and the problem.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from operator import itemgetter

from perfplat.datasets import values
from perfplat.datasets.values import READERS, ValueProblem, display
from perfplat.datasets.writes import parse_timestamp
from perfplat.errors import RecordProblem

from .mapping import TIMESTAMP, RowError, mapped_columns, mapping_problems
from .parsing import Table

MAX_ERRORS_KEPT = 1000
JSON = "json"


class _Missing(str):
    """The cell of a key a JSON object does not have (told apart from a "" it has)."""


MISSING = _Missing("")


@dataclass
class Converted:
    """The records of a table, the table row each came from, and the conversion problems
    (keyed by record index and field, so validation does not report a cell twice)."""

    records: list[dict]
    sources: list[int]
    problems: dict[tuple[int, str], RowError]
    # Required fields no column is mapped to, and the one problem reported for each.
    unmapped: list[str]
    missing: list[RowError]


# cells


def convert_cell(value):
    """A spreadsheet cell of a field with no declared type: text trimmed, numbers and
    booleans as they are, dates as ISO 8601 text."""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is datetime:
        return value.isoformat()
    if kind is date:
        return value.isoformat()
    if kind in (time, timedelta):
        return str(value)
    if kind is float:
        return values.whole(value)
    return value


def _as_sent(value):
    """A JSON value of a field with no declared type: kept as the write API would keep it."""
    return value


def _json_timestamp(value):
    # A _timestamp the write API would take is kept as sent (with its fraction of a second,
    # and its offset); anything else (a plain date, 31/01/2024) is read as a date.
    try:
        parse_timestamp(value)
    except (ValueError, TypeError):
        return values.read_date_time(value)
    return value


def converter_for(field: str, kind: str | None, table_format: str):
    """How the cells of a column mapped to `field` (of declared type `kind`) are read."""
    if field == TIMESTAMP:
        return _json_timestamp if table_format == JSON else values.read_date_time
    if kind in READERS:
        return READERS[kind]
    return _as_sent if table_format == JSON else convert_cell


def record_cell(value) -> str:
    """A stored record's value as text, for a preview table (uploads and collector runs)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


ROW_ERROR_HEAD = ["Row", "Column", "Value", "Problem"]


def row_error_cells(errors: list[dict]) -> list[list]:
    """Kept row errors (RowError.as_dict) as the cells of a table under ROW_ERROR_HEAD."""
    return [[e["row"], e["column"], e["value"], e["problem"]] for e in errors]


# rows -> records


class _Empty:
    """An empty cell (or one of only spaces): left out of the record."""

    __slots__ = ()

    def __repr__(self):
        return "<empty cell>"


_EMPTY = _Empty()


def _column_converter(converter, cache: bool = True):
    """The converter of one column's cells, with empty cells as _EMPTY, and a flag set once
    any of its cells could not be converted. Spreadsheets repeat values (dates, channels,
    counts): each distinct value is converted once. `typed` keeps True, 1 and 1.0 apart;
    values unequal to themselves (NaN) simply miss the cache."""
    troubled = [False]

    def convert_cell_of_column(value):
        if value == "":
            return _EMPTY
        result = converter(value)
        if type(result) is str and not result:
            return _EMPTY
        if type(result) is ValueProblem:
            troubled[0] = True
        return result

    return lru_cache(maxsize=None, typed=True)(convert_cell_of_column), troubled


def _json_converter(converter):
    """The converter of a JSON table's column: only a key an object does not have is empty;
    null and "" are values, as the write API takes them. Not cached: JSON values may be lists
    or objects."""
    troubled = [False]

    def convert_value(value):
        if value is MISSING:
            return _EMPTY
        if value is None:
            return None
        result = converter(value)
        if type(result) is ValueProblem:
            troubled[0] = True
        return result

    return convert_value, troubled


def convert(
    table: Table,
    mapping: dict[str, str],
    field_kinds: dict[str, str],
    required: tuple[str, ...] = (),
    on_progress: Callable[[float], None] | None = None,
) -> Converted:
    """The records of a table's rows. `field_kinds` gives the declared type (text,
    whole-number, number, boolean, date-time) of the fields whose type is declared; a cell of
    another field keeps what it holds. Empty cells are left out of the record. `required`
    fields that no column is mapped to are one problem each, reported against the header
    row."""
    plan = [
        (column, field, converter_for(field, field_kinds.get(field), table.format), header)
        for header, column, field in mapped_columns(table, mapping)
    ]
    mapped = {field for _, field, _, _ in plan}
    unmapped = [field for field in dict.fromkeys(required) if field not in mapped]
    missing = [
        RowError(
            table.header_row,
            "",
            "",
            f"no column is mapped to {field}, which every record needs: add the column, or "
            "choose it in the mapping",
        )
        for field in unmapped
    ]
    records: list[dict] = []
    sources: list[int] = []
    problems: dict[tuple[int, str], RowError] = {}
    rows = table.rows
    headers = dict(zip(table.columns, table.headers, strict=True))
    fields = tuple(field for _, field, _, _ in plan)
    column_converter = _json_converter if table.format == JSON else _column_converter
    getters = [
        (itemgetter(column), *column_converter(converter)) for column, _, converter, _ in plan
    ]
    step = max(1000, len(rows) // 20)
    # Column by column and chunk by chunk: converting a column is a map() over a cache, with no
    # Python work per cell for the values seen before, and the chunks give progress.
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        columns = []
        bad_rows: set[int] = set()
        for getter, converter, troubled in getters:
            cells = list(map(converter, map(getter, chunk)))
            if troubled[0]:
                # Only a column in which some value could not be converted is searched.
                bad_rows.update(i for i, v in enumerate(cells) if type(v) is ValueProblem)
            columns.append(cells)
        for offset, row_values in enumerate(zip(*columns, strict=True)):
            if _EMPTY not in row_values and offset not in bad_rows:
                records.append(dict(zip(fields, row_values, strict=True)))
                sources.append(start + offset)
                continue
            record = {}
            had_problem = False
            for (column, field, _, _), value in zip(plan, row_values, strict=True):
                if value is _EMPTY:
                    continue
                if type(value) is ValueProblem:
                    raw = rows[start + offset][column]
                    problems[(len(records), field)] = RowError(
                        table.row_numbers[start + offset], headers[column], display(raw), str(value)
                    )
                    had_problem = True
                    continue
                record[field] = value
            if not record and not had_problem:
                # Nothing in the columns uploaded (the row's data is all in ignored columns).
                continue
            records.append(record)
            sources.append(start + offset)
        if on_progress is not None:
            on_progress(min(1.0, (start + step) / len(rows)))
    return Converted(records, sources, problems, unmapped, missing)


def row_errors(
    table: Table,
    mapping: dict[str, str],
    converted: Converted,
    problems: list[RecordProblem],
) -> list[RowError]:
    """Every problem of the table as row errors, in row order: the mapping's, then each
    cell's (conversion problems, and validation `problems` of the records, mapped back to the
    row and the column mapped to the field)."""
    column_of = {field: header for header, field in mapping.items() if field}
    index_of = {header: column for header, column in zip(table.headers, table.columns, strict=True)}
    unmapped = set(converted.unmapped)
    found = list(converted.problems.values())
    # One problem per cell: a missing channel of a typed data set with channel in its auto_ids
    # is both "required" and "missing auto_ids field(s)"; the first says it.
    seen = set(converted.problems)
    for problem in problems:
        key = (problem.index, problem.field)
        if key in seen or problem.field in unmapped:
            continue
        seen.add(key)
        source = converted.sources[problem.index]
        header = column_of.get(problem.field, "")
        value = display(table.rows[source][index_of[header]]) if header else ""
        found.append(RowError(table.row_numbers[source], header, value, problem.message))
    order = {header: position for position, header in enumerate(table.headers)}
    found.sort(key=lambda error: (error.row, order.get(error.column, -1)))
    return mapping_problems(mapping, table.header_row) + converted.missing + found
