"""Turning a collector's response into records: read -> map -> convert -> validate.

The stages are perfplat.ingest's, as for a spreadsheet upload: CSV and XLSX are read by its
parser, and every table is mapped and converted by the data set's declared field types ("1,234"
in a whole-number field is 1234; a free-form data set's new fields are proposed from the
response) and validated by the write path, so a collected spreadsheet becomes the same records
as an uploaded one. A JSON body is laid out as the same kind of table (one row per object, one
column per key) so that problems name the item and key as an upload's name the row and column;
the values of fields with no declared type are kept as sent, as the write API keeps them, and a
`_timestamp` that is already an ISO 8601 date-time with an offset is kept as it is. Storing is
the write path's own, in services.py.
"""

import orjson

from perfplat.datasets import writes
from perfplat.datasets.models import DataSet
from perfplat.errors import InvalidRequest, PerfplatError
from perfplat.ingest import mapping as columns
from perfplat.ingest import parsing, pipeline
from perfplat.ingest.conversion import MISSING

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


# map, convert and validate


def mapping_for(data_set: DataSet, table: parsing.Table, chosen: dict[str, str]) -> dict[str, str]:
    """header -> field: the collector's own mapping first (matched exactly, then ignoring
    case, spaces, '-' and '_'), then for CSV and XLSX the uploads' defaults (a field of the
    same name, a date column for _timestamp), and for JSON each key as it is."""
    plan = columns.field_plan(data_set)
    if table.format == "json":
        # Keys that can never be fields (backdrop's _updated_at, _week_start_at, ...) are left
        # out unless the mapping names them.
        mapping = {
            key: key if writes.key_problem(key) is None else columns.IGNORE for key in table.headers
        }
    else:
        mapping = columns.default_mapping(table.headers, plan.fields, None, plan.free_form)
    folded = {columns.normalise(header): field for header, field in chosen.items()}
    for header in table.headers:
        if header in chosen:
            mapping[header] = chosen[header]
        elif columns.normalise(header) in folded:
            mapping[header] = folded[columns.normalise(header)]
    return mapping


def prepare(data_set: DataSet, table: parsing.Table, chosen: dict[str, str]) -> pipeline.Checked:
    """The table's records, mapped, converted and validated (ingest.pipeline); CollectorFailed
    naming every row error."""
    checked = pipeline.check_table(data_set, table, mapping_for(data_set, table, chosen))
    if checked.errors:
        raise failure_with_rows(table.format, checked.errors)
    if not checked.records:
        raise CollectorFailed(
            "The response has no records: no row has anything in the columns mapped to fields"
        )
    return checked


def failure_with_rows(table_format: str, errors: list) -> CollectorFailed:
    """A CollectorFailed listing row errors (ingest.mapping.RowError)."""
    count = len(errors)
    first = errors[0]
    if first.row > 0:
        where = columns.row_error_text(first.as_dict(), "item" if table_format == "json" else "row")
    else:
        where = first.problem
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    message = f"The data has problems, so nothing was written: {where}{more}"
    return CollectorFailed(
        message, [error.as_dict() for error in errors[:ERRORS_KEPT]], error_count=count
    )
