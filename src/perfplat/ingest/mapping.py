"""Mapping a table's columns to a data set's fields: which fields a column can be, the
defaults (a field of the same name, a date column for _timestamp, a free-form field named
after the header) and the problems of a mapping.

Plain functions, except `field_plan`, which reads a data set's declared fields.
"""

import re
from dataclasses import dataclass

from perfplat.datasets.fields import declared_fields

from .parsing import Table

TIMESTAMP = "_timestamp"
ID = "_id"
# A column that is not stored.
IGNORE = ""
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
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9]+")


@dataclass(frozen=True)
class RowError:
    """A problem of a table, where people see it: the row number in their spreadsheet (the
    item number of a JSON list), the column's header, the cell's value and what is wrong."""

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

    @property
    def text(self) -> str:
        """The error in one line: "Row 5, column 'count': '12x' is not a whole number"."""
        return row_error_text(self.as_dict())


def row_error_text(error: dict, row_word: str = "Row") -> str:
    """A kept row error (RowError.as_dict) in one line."""
    place = f"{row_word} {error['row']}"
    if error["column"]:
        place += f", column {error['column']!r}"
    return f"{place}: {error['problem']}"


@dataclass(frozen=True)
class FieldPlan:
    """The fields a data set's columns can be mapped to, the declared type of each field whose
    type is declared (datasets.fields: text, whole-number, ...), and the fields every record
    needs."""

    fields: tuple[str, ...]
    kinds: dict
    required: tuple[str, ...]
    free_form: bool


def field_plan(data_set) -> FieldPlan:
    declared = declared_fields(data_set)
    kinds = {declaration.name: declaration.type for declaration in declared}
    auto_ids = tuple(data_set.auto_ids or ())
    if data_set.standard_type:
        fields = (TIMESTAMP, *(declaration.name for declaration in declared))
        needed = tuple(d.name for d in declared if d.required and d.default is None)
        # A field the type fills in when missing (cost's channel: all) needs no column, even
        # when it identifies the record.
        defaulted = {d.name for d in declared if d.default is not None}
        identifying = tuple(name for name in auto_ids if name not in defaulted)
        return FieldPlan(fields, kinds, (TIMESTAMP, *needed, *identifying), free_form=False)
    known = tuple(data_set.field_types or {})
    needed = tuple(d.name for d in declared if d.required and d.confirmed)
    fields = tuple(dict.fromkeys((TIMESTAMP, ID, *kinds, *known, *auto_ids)))
    return FieldPlan(fields, kinds, tuple(dict.fromkeys((*auto_ids, *needed))), free_form=True)


def field_choices(data_set, headers) -> list[str]:
    """The fields a column of this data set can be mapped to, in the order to offer them."""
    plan = field_plan(data_set)
    choices = list(plan.fields)
    if plan.free_form:
        for header in headers:
            name = field_from_header(header)
            if name and name not in choices:
                choices.append(name)
    return choices


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


def mapped_columns(table: Table, mapping: dict[str, str]):
    """(header, column index, field) of each column that is stored, in the table's order."""
    for header, column in zip(table.headers, table.columns, strict=True):
        field = mapping.get(header, IGNORE)
        if field:
            yield header, column, field
