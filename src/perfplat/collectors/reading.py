"""Turning a collector's response into records: read -> map -> convert.

CSV and XLSX are read by the spreadsheet uploads' parser (perfplat.uploads.parsing) and
converted by the uploads' conversion (dates, "1,234" numbers, the header -> field mapping), so
a collected spreadsheet becomes the same records as an uploaded one. A JSON body is laid out as
the same kind of table (one row per object, one column per key) so that problems name the item
and key as an upload's name the row and column, but its values are kept as sent, as the write
API keeps them (only a `_timestamp` that is not already an ISO 8601 date-time with an offset,
such as a plain date, is converted). Validation and storage are the write path's own
(perfplat.datasets.writes), in services.py.
"""

from dataclasses import dataclass

import orjson

from perfplat.datasets import writes
from perfplat.datasets.models import DataSet
from perfplat.errors import InvalidRecords, InvalidRequest, PerfplatError
from perfplat.uploads import conversion, parsing

from .fetching import Response

FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "xlsx": "XLSX"}
# Row errors kept on a run (error_count says how many there were).
ERRORS_KEPT = 50


class CollectorFailed(PerfplatError):
    """The response could not be turned into records; nothing was written. `errors` lists the
    first row errors ({row, column, value, problem}) and `error_count` how many there were."""

    expected = True

    def __init__(self, message: str, errors: list | None = None, error_count: int = 0):
        super().__init__(message)
        self.errors = errors or []
        self.error_count = error_count or len(self.errors)


@dataclass
class Prepared:
    """The records a response holds, and what is needed to point a problem back at its row."""

    table: parsing.Table
    mapping: dict[str, str]
    converted: conversion.Converted

    @property
    def records(self) -> list[dict]:
        return self.converted.records


class _Missing(str):
    """The cell of a key an object does not have (told apart from a "" it has)."""


MISSING = _Missing("")


# read


def decode(response: Response, max_bytes: int) -> bytes:
    body = response.body
    if response.content_encoding == "gzip":
        try:
            body = writes.decompress_gzip(body, max_bytes)
        except PerfplatError as error:
            raise CollectorFailed(f"The response could not be decompressed: {error.message}")
    elif response.content_encoding not in ("", "identity"):
        raise CollectorFailed(
            f"The response is encoded as {response.content_encoding!r}, which collectors "
            "cannot read"
        )
    return body


def read_table(body: bytes, file_format: str, sheet: str = "") -> parsing.Table:
    """The table in a response body of the collector's format."""
    if file_format == "json":
        return table_from_json(body)
    try:
        table = parsing.read_table(body, sheet=sheet, max_bytes=max(len(body), 1))
    except InvalidRequest as error:
        raise CollectorFailed(
            f"The response could not be read as {FORMAT_NAMES[file_format]}: {error.message}"
        )
    if table.format != file_format:
        found = parsing.FORMAT_NAMES.get(table.format, table.format)
        raise CollectorFailed(
            f"The response is {found}, not {FORMAT_NAMES[file_format]}: change the collector's "
            "format, or its URL"
        )
    return table


def table_from_json(body: bytes) -> parsing.Table:
    """A JSON body as a table: a list of objects, one object, or an object whose "data" is a
    list of objects (what perfplat's and backdrop's read API answer)."""
    if not body.strip():
        raise CollectorFailed("The response is empty")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise CollectorFailed(f"The response is not valid JSON: {error}")
    items = payload
    if isinstance(payload, dict):
        items = payload["data"] if isinstance(payload.get("data"), list) else [payload]
    if not isinstance(items, list):
        raise CollectorFailed(
            'The JSON must be a list of objects, or an object with a "data" list of them'
        )
    if not items:
        raise CollectorFailed("The response has no records")
    headers: dict[str, None] = {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise CollectorFailed(
                f"Item {number} of the JSON is not an object: each record must be a JSON object"
            )
        headers.update(dict.fromkeys(item))
    keys = list(headers)
    rows = [[item.get(key, MISSING) for key in keys] for item in items]
    return parsing.Table(
        format="json",
        headers=tuple(keys),
        columns=tuple(range(len(keys))),
        header_row=0,
        rows=rows,
        row_numbers=list(range(1, len(items) + 1)),
    )


# map and convert


def field_plan(data_set: DataSet):
    # The uploads' view of a data set's fields (kinds, required fields), so a collector maps
    # and converts exactly as a spreadsheet upload of the same data set would.
    from perfplat.uploads.services import field_plan as plan

    return plan(data_set)


def mapping_for(data_set: DataSet, table: parsing.Table, chosen: dict[str, str]) -> dict[str, str]:
    """header -> field: the collector's own mapping first (matched exactly, then ignoring
    case, spaces, '-' and '_'), then for CSV and XLSX the uploads' defaults (a field of the
    same name, a date column for _timestamp), and for JSON each key as it is."""
    plan = field_plan(data_set)
    if table.format == "json":
        # Keys that can never be fields (backdrop's _updated_at, _week_start_at, ...) are left
        # out unless the mapping names them.
        mapping = {
            key: key if writes.key_problem(key) is None else conversion.IGNORE
            for key in table.headers
        }
    else:
        mapping = conversion.default_mapping(table.headers, plan.fields, None, plan.free_form)
    folded = {conversion.normalise(header): field for header, field in chosen.items()}
    for header in table.headers:
        if header in chosen:
            mapping[header] = chosen[header]
        elif conversion.normalise(header) in folded:
            mapping[header] = folded[conversion.normalise(header)]
    return mapping


def prepare(data_set: DataSet, table: parsing.Table, chosen: dict[str, str]) -> Prepared:
    """The table's records, mapped and converted; CollectorFailed naming every row error of
    the mapping and the conversion (validation comes after, in the write path)."""
    mapping = mapping_for(data_set, table, chosen)
    if table.format == "json":
        converted = json_records(table, mapping)
    else:
        plan = field_plan(data_set)
        converted = conversion.convert(table, mapping, plan.kinds, plan.required)
    prepared = Prepared(table, mapping, converted)
    if (
        conversion.mapping_problems(mapping, table.header_row)
        or converted.problems
        or converted.missing
    ):
        # Every problem at once: the write path's validation of the rest of each row too.
        try:
            writes.validate_for(data_set, converted.records)
        except InvalidRecords as error:
            raise failure_with_rows(prepared, getattr(error, "problems", []))
        raise failure_with_rows(prepared, [])
    if not converted.records:
        raise CollectorFailed(
            "The response has no records: no row has anything in the columns mapped to fields"
        )
    return prepared


def _api_timestamp(value) -> bool:
    try:
        writes.parse_timestamp(value)
    except (ValueError, TypeError):
        return False
    return True


def json_records(table: parsing.Table, mapping: dict[str, str]) -> conversion.Converted:
    """The records of a JSON table: each object's keys renamed by the mapping, values kept."""
    records, problems = [], {}
    columns = list(zip(table.headers, table.columns, strict=True))
    for index, row in enumerate(table.rows):
        record = {}
        for header, column in columns:
            field = mapping.get(header, conversion.IGNORE)
            value = row[column]
            if not field or value is MISSING:
                continue
            if field == conversion.TIMESTAMP and not _api_timestamp(value):
                value = conversion.convert_timestamp(value)
                if type(value) is not str:
                    # The conversion's problem, in words (a str of its own type).
                    problems[(index, field)] = conversion.RowError(
                        table.row_numbers[index], header, conversion.display(row[column]), value
                    )
                    continue
            record[field] = value
        records.append(record)
    return conversion.Converted(records, list(range(len(records))), problems, [], [])


def failure_with_rows(prepared: Prepared, problems: list) -> CollectorFailed:
    """A CollectorFailed listing the row errors of the mapping, the conversion and
    `problems` (the write path's RecordProblems)."""
    errors = conversion.row_errors(prepared.table, prepared.mapping, prepared.converted, problems)
    count = len(errors)
    first = errors[0]
    place = [first.column] if first.column else []
    if first.row > 0:
        place.insert(0, f"{'item' if prepared.table.format == 'json' else 'row'} {first.row}")
    where = f"{', '.join(place)}: " if place else ""
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    message = f"The data has problems, so nothing was written: {where}{first.problem}{more}"
    return CollectorFailed(
        message, [error.as_dict() for error in errors[:ERRORS_KEPT]], error_count=count
    )
