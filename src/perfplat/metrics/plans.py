"""Reading a team's planned metrics for the support check: a spreadsheet with one planned metric
a row, or a JSON file, and a sample data file read exactly as a spreadsheet upload reads one
(perfplat.ingest).

Plain functions over bytes. A file that cannot be used raises InvalidRequest (or PayloadTooLarge)
with a message for the person who chose it; `messages` lists every problem when there are many.
"""

from dataclasses import asdict, dataclass, fields, replace
from typing import get_origin

import orjson
from pydantic import ValidationError

from perfplat.datasets.models import DataSet
from perfplat.datasets.types import TYPES
from perfplat.datasets.values import read_text
from perfplat.errors import InvalidRequest
from perfplat.ingest import conversion, parsing, pipeline
from perfplat.ingest.mapping import RowError, default_mapping, field_plan, normalise

from .services import PlannedMetric, sample_problems

# The columns of a plan spreadsheet (compared as ingest.mapping.normalise compares headers: case,
# spaces, "_" and "-" do not count) and the PlannedMetric field each fills.
PLAN_COLUMNS = {
    "name": "name",
    "type": "data_set_type",
    "datasettype": "data_set_type",
    "fields": "fields",
    "period": "period",
    "dataperiod": "data_period",
    "query": "query",
    "kpi": "kpi",
}
COLUMN_NAMES = "name, type, fields, period, data_period, query and kpi"
MAX_PLANNED = 200
# Sample problems kept with a checked plan (the rest are counted).
SAMPLE_PROBLEMS_KEPT = 100


def _plan_error(message: str, messages: list[str] | None = None) -> InvalidRequest:
    return InvalidRequest(message, messages=messages, field="plan")


def _many(problems: list[str]) -> InvalidRequest:
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return _plan_error(problems[0] + more, problems)


def read_plan(content: bytes, max_bytes: int = parsing.DEFAULT_MAX_BYTES) -> list[PlannedMetric]:
    """The planned metrics in a file: JSON (a list of planned metrics, or {"metrics": [...]}
    as the support check API takes) or a spreadsheet (CSV, XLSX, XLS or ODS) whose columns
    are name, type, fields, period, data_period, query and kpi."""
    parsing.check_size(len(content), max_bytes)
    start = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    planned = _json_plan(content) if start in (b"{", b"[") else _spreadsheet_plan(content)
    if not planned:
        raise _plan_error("The file lists no planned metrics")
    if len(planned) > MAX_PLANNED:
        raise _plan_error(
            f"The file lists {len(planned):,} planned metrics: check at most {MAX_PLANNED} at "
            "a time"
        )
    return planned


def _json_plan(content: bytes) -> list[PlannedMetric]:
    from .schemas import SupportCheckIn

    try:
        data = orjson.loads(content.removeprefix(b"\xef\xbb\xbf"))
    except orjson.JSONDecodeError as error:
        raise _plan_error(f"The file is not valid JSON: {error}")
    if isinstance(data, list):
        data = {"metrics": data}
    try:
        # The support check API's own schema: a file says what a request body would.
        checked = SupportCheckIn.model_validate(data)
    except ValidationError as error:
        raise _many(
            [
                f"{'.'.join(str(part) for part in item['loc']) or 'the file'}: {item['msg']}"
                for item in error.errors()
            ]
        )
    return [
        PlannedMetric(
            name=item.name,
            data_set_type=item.data_set_type,
            fields=tuple(item.fields),
            period=item.period,
            data_period=item.data_period,
            query=item.query,
            kpi=item.kpi,
            sample_records=tuple(item.sample_records),
        )
        for item in checked.metrics
    ]


def _spreadsheet_plan(content: bytes) -> list[PlannedMetric]:
    table = parsing.read_table(content)
    columns = {}
    for header, column in zip(table.headers, table.columns, strict=True):
        name = PLAN_COLUMNS.get(normalise(header))
        if name is None:
            raise _plan_error(
                f"The file has a column “{header}” that a plan does not have: its columns are "
                f"{COLUMN_NAMES}"
            )
        columns[name] = column
    if "name" not in columns:
        raise _plan_error(f"The file has no column “name”: its columns are {COLUMN_NAMES}")
    planned, problems = [], []
    for row, number in zip(table.rows, table.row_numbers, strict=True):
        values = {name: read_text(row[column]) for name, column in columns.items()}
        if not values["name"]:
            problems.append(f"Row {number} has no name: give each planned metric a name")
            continue
        fields_ = values.pop("fields", "")
        planned.append(
            PlannedMetric(
                **{name: value for name, value in values.items() if value},
                fields=tuple(part.strip() for part in fields_.split(",") if part.strip()),
            )
        )
    if problems:
        raise _many(problems)
    return planned


# sample data


@dataclass(frozen=True)
class Sample:
    """A sample data file's records, the spreadsheet row of each, and the problems found
    reading it (those rows are left out of the records: their problem is said once)."""

    records: tuple[dict, ...]
    rows: tuple[int, ...]
    problems: tuple[str, ...]


def _row_error_text(error: RowError) -> str:
    if error.column:
        return f"row {error.row}, column “{error.column}”: {error.problem}"
    return f"row {error.row}: {error.problem}"


def read_sample(
    content: bytes, data_set_type: str, max_bytes: int = parsing.DEFAULT_MAX_BYTES
) -> Sample:
    """The records of a sample data file, as a spreadsheet upload to a data set of the type
    would make them (the same header -> field mapping, dates and numbers). A type the platform
    does not know is read as free-form data."""
    table = parsing.read_table(content, "", max_bytes)
    spec = TYPES.get(data_set_type)
    # An unsaved data set of the type: it only tells field_plan the fields, their kinds and
    # the fields every record needs, as for a real upload.
    data_set = DataSet(
        standard_type=spec.slug if spec else "",
        auto_ids=list(spec.auto_ids) if spec else [],
        field_types={},
        field_declarations=[],
    )
    plan = field_plan(data_set)
    mapping = default_mapping(table.headers, plan.fields, None, plan.free_form)
    converted, _ = pipeline.read_records(data_set, table, mapping)
    problems = [_row_error_text(e) for e in conversion.row_errors(table, mapping, converted, [])]
    if converted.unmapped:
        # Every record would miss the field: the one problem per missing column says so.
        return Sample((), (), tuple(problems))
    unreadable = {index for index, _ in converted.problems}
    kept = [i for i in range(len(converted.records)) if i not in unreadable]
    if not kept and not problems:
        problems.append(
            f"row {table.header_row}: no column is one of the data's fields "
            f"({', '.join(plan.fields)}): name the columns after the fields"
        )
    return Sample(
        records=tuple(converted.records[i] for i in kept),
        rows=tuple(table.row_numbers[converted.sources[i]] for i in kept),
        problems=tuple(problems),
    )


def with_sample(planned: PlannedMetric, sample: Sample) -> PlannedMetric:
    return replace(
        planned,
        sample_records=sample.records,
        sample_rows=sample.rows,
        sample_problems=sample.problems,
    )


def checked(planned: PlannedMetric) -> PlannedMetric:
    """The planned metric with its sample data's problems worked out and its records dropped,
    so that the plan is small enough to keep between the check and saving it, and gives the
    same verdict when checked again. At most SAMPLE_PROBLEMS_KEPT problems are kept; the
    others are counted."""
    if not (planned.sample_records or planned.sample_problems):
        return planned
    problems = sample_problems(planned)
    if len(problems) > SAMPLE_PROBLEMS_KEPT:
        extra = len(problems) - SAMPLE_PROBLEMS_KEPT
        problems = problems[:SAMPLE_PROBLEMS_KEPT] + [
            f"{extra:,} more problem{'s' if extra != 1 else ''} not shown: correct these and "
            "check again"
        ]
    return replace(planned, sample_records=(), sample_rows=(), sample_problems=tuple(problems))


# keeping a checked plan (in the session) between the check and saving it

_TUPLES = {f.name for f in fields(PlannedMetric) if get_origin(f.type) is tuple}


def plan_data(planned: list[PlannedMetric]) -> list[dict]:
    return [asdict(metric) for metric in planned]


def plan_from_data(data: list[dict]) -> list[PlannedMetric]:
    return [
        PlannedMetric(
            **{name: tuple(value) if name in _TUPLES else value for name, value in item.items()}
        )
        for item in data
    ]
