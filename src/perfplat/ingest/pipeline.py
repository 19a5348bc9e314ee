"""The table pipeline: map -> (propose) -> convert -> validate, for uploads and collectors.

`read_records` reads a table's rows into records by the data set's declared field types,
proposing a type first for each column of a free-form data set whose field is not declared
yet; `check_records` validates them with the write path's own validation and turns every
problem into a row error; `check_table` does both. Storing is the write path's
`store_records`, given the proposals so the data set keeps the types its columns were read by.
"""

from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

from perfplat.datasets import values, writes
from perfplat.datasets.fields import FieldDeclaration
from perfplat.errors import InvalidRecords, RecordProblem

from . import conversion
from .mapping import ID, TIMESTAMP, RowError, field_plan, mapped_columns
from .parsing import Table


@dataclass
class Checked:
    """A table read and checked: its records, the declarations proposed for the fields the
    data set had not declared, every row error, and (when there is none) the validated batch
    ready for `writes.store_records`."""

    table: Table
    mapping: dict[str, str]
    converted: conversion.Converted
    proposals: tuple[FieldDeclaration, ...]
    errors: list[RowError]
    batch: writes.PreparedBatch | None

    @property
    def records(self) -> list[dict]:
        return self.converted.records

    def store(self, data_set, source: writes.WriteSource) -> int:
        """Store the records (all or none; the write path's own store)."""
        return writes.store_records(data_set, self.batch, source, proposals=self.proposals)


def propose_columns(
    table: Table, mapping: dict[str, str], declared: dict
) -> tuple[FieldDeclaration, ...]:
    """Proposed declarations for the mapped columns of a free-form data set whose fields are
    not declared (`declared`: field -> type), from the table's cells: each field's type is
    the one (nearly) all its cells read as ("1,200" and "12" -> whole number), and it is
    required when no row leaves it empty."""
    proposals = []
    for _, column, field in mapped_columns(table, mapping):
        if field in (TIMESTAMP, ID) or field in declared:
            continue
        proposal = values.propose(field, map(itemgetter(column), table.rows))
        if proposal is not None:
            proposals.append(proposal)
    return tuple(proposals)


def read_records(
    data_set,
    table: Table,
    mapping: dict[str, str],
    on_progress: Callable[[float], None] | None = None,
) -> tuple[conversion.Converted, tuple[FieldDeclaration, ...]]:
    """The table's records, each cell read by its field's declared type (or, for a free-form
    data set's fields not declared yet, by the type proposed from the table), and those
    proposals."""
    plan = field_plan(data_set)
    proposals = propose_columns(table, mapping, plan.kinds) if plan.free_form else ()
    kinds = {**plan.kinds, **{proposal.name: proposal.type for proposal in proposals}}
    # A JSON object says which fields it has, each for itself: validation names each one that
    # lacks a required field, item by item.
    required = () if table.format == conversion.JSON else plan.required
    converted = conversion.convert(table, mapping, kinds, required, on_progress)
    return converted, proposals


def check_records(
    data_set,
    table: Table,
    mapping: dict[str, str],
    converted: conversion.Converted,
    proposals: tuple[FieldDeclaration, ...] = (),
) -> Checked:
    """Validate the records as a write to the data set would be (writes.validate_for) and
    gather every problem of the table, by row and column."""
    problems: list[RecordProblem] = []
    batch = None
    try:
        batch = writes.validate_for(data_set, converted.records)
    except InvalidRecords as error:
        problems = getattr(error, "problems", None) or [
            RecordProblem(0, None, message) for message in error.messages or [error.message]
        ]
    errors = conversion.row_errors(table, mapping, converted, problems)
    return Checked(table, mapping, converted, proposals, errors, None if errors else batch)


def check_table(
    data_set,
    table: Table,
    mapping: dict[str, str],
    on_progress: Callable[[float], None] | None = None,
) -> Checked:
    """map -> convert -> validate: the table's records and every row error."""
    converted, proposals = read_records(data_set, table, mapping, on_progress)
    return check_records(data_set, table, mapping, converted, proposals)
