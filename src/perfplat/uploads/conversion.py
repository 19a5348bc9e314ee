"""Turning a spreadsheet's rows into records: the header -> field mapping, dates and numbers.

Plain functions (nothing here needs the database). The records made here are then validated by
the write path (perfplat.datasets.writes.validate_for) exactly like records sent to the write
API; `row_errors` turns its problems back into the spreadsheet's rows and columns.

A row error names the row as people see it in their spreadsheet (the header is row 1 unless
rows above it are empty), the column by its header, the cell's value, and the problem.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from operator import itemgetter

from perfplat.errors import RecordProblem

from .parsing import Table

TIMESTAMP = "_timestamp"
ID = "_id"
# A column that is not uploaded.
IGNORE = ""
INTEGER, NUMBER, STRING = "integer", "number", "string"
# Headers people give the column of dates (compared normalised: see `normalise`).
TIMESTAMP_HEADERS = {
    "timestamp",
    "date",
    "weekstarting",
    "weekcommencing",
    "monthstarting",
    "periodstarting",
    "periodstart",
    "startdate",
    "startat",
}
DATE_HINT = (
    "write dates like 2024-01-31 or 31/01/2024 (with a time if needed, like "
    "2024-01-31T09:30:00Z or 31/01/2024 09:30), or make the cell a date"
)
MAX_ERRORS_KEPT = 1000

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}.*")
_UK_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_NUMBER = re.compile(r"([-+]?)(£?)(\d{1,3}(?:,\d{3})+|\d*)(\.\d+)?")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9]+")
# Floats hold every whole number below this exactly.
_EXACT = 2**53


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    value: str
    problem: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "problem": self.problem,
        }


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


# the mapping


def normalise(header: str) -> str:
    """A header as compared with field names: case, spaces, '_' and '-' do not count."""
    return re.sub(r"[\s_\-]+", "", header.casefold())


def field_from_header(header: str) -> str:
    """The field a free-form data set stores a column as: "Rating 1" -> "rating_1"."""
    name = _NOT_IDENTIFIER.sub("_", header.strip()).strip("_").lower()
    if not name or name[0].isdigit():
        return IGNORE
    return name


def default_mapping(
    headers, fields, saved: dict | None = None, free_form: bool = False
) -> dict[str, str]:
    """header -> field for each header: the saved mapping of the data set first (keyed by
    normalised header), then a field of the same name, then a date column for _timestamp,
    then (free-form data sets only) a field named after the header. IGNORE: not uploaded."""
    known = {normalise(name): name for name in fields}
    saved = saved or {}
    taken: set[str] = set()
    mapping = {}
    for header in headers:
        key = normalise(header)
        if key in saved:
            field = saved[key]
        elif header.strip() == ID:
            field = ID
        elif key in known:
            field = known[key]
        elif key in TIMESTAMP_HEADERS:
            field = TIMESTAMP
        elif free_form:
            field = field_from_header(header)
        else:
            field = IGNORE
        if field in taken:
            # Two columns would fill one field ("Date" and "Timestamp"): the first wins.
            field = IGNORE
        if field:
            taken.add(field)
        mapping[header] = field
    return mapping


def mapping_problems(mapping: dict[str, str], header_row: int) -> list[RowError]:
    """Two columns mapped to the same field."""
    problems = []
    first: dict[str, str] = {}
    for header, field in mapping.items():
        if not field:
            continue
        if field in first:
            problems.append(
                RowError(
                    header_row,
                    header,
                    header,
                    f'both this column and "{first[field]}" are mapped to {field}: '
                    "choose another field for one of them, or do not upload it",
                )
            )
        else:
            first[field] = header
    return problems


# values


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


class _Problem(str):
    """A conversion's result when the value cannot be converted: the problem's text."""


def convert_timestamp(value):
    """A _timestamp cell as an ISO 8601 date-time in UTC (`2024-01-31T00:00:00Z`), or a
    _Problem. Dates and date-times without an offset are taken as UTC."""
    kind = type(value)
    shown = repr(display(value))
    if kind is datetime:
        return _utc_text(value)
    if kind is date:
        return f"{value.isoformat()}T00:00:00Z"
    if kind is str:
        text = value.strip()
        if _ISO_DATE.fullmatch(text):
            try:
                return f"{date.fromisoformat(text).isoformat()}T00:00:00Z"
            except ValueError:
                return _Problem(f"{shown} is not a real date")
        if _ISO_DATETIME.fullmatch(text):
            try:
                return _utc_text(datetime.fromisoformat(text))
            except ValueError:
                return _Problem(f"{shown} is not a date: {DATE_HINT}")
        match = _UK_DATE.fullmatch(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            try:
                moment = datetime(
                    int(year),
                    int(month),
                    int(day),
                    int(hour or 0),
                    int(minute or 0),
                    int(second or 0),
                )
            except ValueError:
                return _Problem(f"{shown} is not a real date (dates are day/month/year)")
            return _utc_text(moment)
        return _Problem(f"{shown} is not a date: {DATE_HINT}")
    if kind in (int, float):
        return _Problem(
            f"{shown} is a number, not a date: format the cell as a date, or write the date "
            "like 2024-01-31"
        )
    return _Problem(f"{shown} is not a date: {DATE_HINT}")


def _number(value, pounds: bool):
    """A number written as text ("1,234", "£1,234.50" when `pounds`) as an int or float; the
    text itself when it is not one (validation then says what is wrong)."""
    kind = type(value)
    if kind is float:
        return _whole(value)
    if kind is not str:
        return value
    text = value.strip()
    match = _NUMBER.fullmatch(text)
    if match is None:
        return text
    sign, pound, whole, fraction = match.groups()
    if (pound and not pounds) or not (whole or fraction):
        return text
    digits = sign + whole.replace(",", "")
    if fraction:
        return _whole(float((digits or "0") + fraction))
    return int(digits)


def _whole(value: float):
    # 12.0 (how workbooks hold every number) is 12, so a record's values, and the _id made
    # from them, are the same whether it came from a workbook or a CSV file.
    if value.is_integer() and -_EXACT < value < _EXACT:
        return int(value)
    return value


def convert_integer(value):
    return _number(value, pounds=False)


def convert_amount(value):
    return _number(value, pounds=True)


def convert_text(value):
    """A cell of a text field: text stays text (trimmed), a number cell becomes its text
    ("12", not "12.0"), a date cell its ISO 8601 text."""
    kind = type(value)
    if kind is str:
        return value.strip()
    if kind is float:
        return str(int(value)) if value.is_integer() else repr(value)
    if kind is int:
        return str(value)
    return convert_cell(value)


def convert_cell(value):
    """A cell of a free-form field: text trimmed, numbers and booleans as they are, dates as
    ISO 8601 text."""
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
        return _whole(value)
    return value


def display(value) -> str:
    """A cell's value as text, for a row error."""
    if type(value) is float and value.is_integer():
        return str(int(value))
    if isinstance(value, date | datetime):
        return value.isoformat()
    return "" if value is None else str(value)


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


CONVERTERS = {INTEGER: convert_integer, NUMBER: convert_amount, STRING: convert_text}


# rows -> records


class _Empty:
    """An empty cell (or one of only spaces): left out of the record."""

    __slots__ = ()

    def __repr__(self):
        return "<empty cell>"


_EMPTY = _Empty()


def _cached(converter):
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
        if type(result) is _Problem:
            troubled[0] = True
        return result

    return lru_cache(maxsize=None, typed=True)(convert_cell_of_column), troubled


def convert(
    table: Table,
    mapping: dict[str, str],
    field_kinds: dict[str, str],
    required: tuple[str, ...] = (),
    on_progress: Callable[[float], None] | None = None,
) -> Converted:
    """The records of a table's rows. `field_kinds` gives "integer", "number" or "string" for
    the fields whose type is known; other fields keep what the cell holds. Empty cells are left
    out of the record. `required` fields that no column is mapped to are one problem each,
    reported against the header row."""
    plan = []
    for header, column in zip(table.headers, table.columns, strict=True):
        field = mapping.get(header, IGNORE)
        if not field:
            continue
        if field == TIMESTAMP:
            converter = convert_timestamp
        else:
            converter = CONVERTERS.get(field_kinds.get(field), convert_cell)
        plan.append((column, field, converter, header))
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
    getters = [(itemgetter(column), *_cached(converter)) for column, _, converter, _ in plan]
    step = max(1000, len(rows) // 20)
    # Column by column and chunk by chunk: converting a column is a map() over a cache, with no
    # Python work per cell for the values seen before, and the chunks give progress.
    for start in range(0, len(rows), step):
        chunk = rows[start : start + step]
        columns = []
        bad_rows: set[int] = set()
        for getter, converter, troubled in getters:
            values = list(map(converter, map(getter, chunk)))
            if troubled[0]:
                # Only a column in which some value could not be converted is searched.
                bad_rows.update(i for i, v in enumerate(values) if type(v) is _Problem)
            columns.append(values)
        for offset, values in enumerate(zip(*columns, strict=True)):
            if _EMPTY not in values and offset not in bad_rows:
                records.append(dict(zip(fields, values, strict=True)))
                sources.append(start + offset)
                continue
            record = {}
            had_problem = False
            for (column, field, _, _), value in zip(plan, values, strict=True):
                if value is _EMPTY:
                    continue
                if type(value) is _Problem:
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
    """Every problem of the upload as row errors, in row order: the mapping's, then each
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
