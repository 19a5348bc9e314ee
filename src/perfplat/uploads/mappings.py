"""What the columns of a data set's spreadsheets can be mapped to, and the mapping used.

A data set of a standard type takes the type's fields (the type says which are numbers); a
free-form data set takes the fields it already has and fields named after the headers. The
header -> field mapping of an upload is what the person chose for it, else what the data set's
last mapping said (HeaderMapping), else the defaults of conversion.default_mapping.
"""

from dataclasses import dataclass

from perfplat.datasets.models import DataSet
from perfplat.datasets.types import TYPES

from . import conversion
from .conversion import TIMESTAMP
from .models import HeaderMapping


@dataclass(frozen=True)
class FieldPlan:
    """The fields a data set's columns can be mapped to, the kind of each field whose kind is
    known (integer, number or string), and the fields every record needs."""

    fields: tuple[str, ...]
    kinds: dict
    required: tuple[str, ...]
    free_form: bool


def field_plan(data_set: DataSet) -> FieldPlan:
    data_set_type = TYPES.get(data_set.standard_type)
    auto_ids = tuple(data_set.auto_ids or ())
    if data_set_type is not None:
        fields = (TIMESTAMP, *(spec.name for spec in data_set_type.fields))
        kinds = {spec.name: spec.type for spec in data_set_type.fields}
        needed = tuple(
            spec.name for spec in data_set_type.fields if spec.required and spec.default is None
        )
        # A field the type fills in when missing (cost's channel: all) needs no column, even
        # when it identifies the record.
        defaulted = {spec.name for spec in data_set_type.fields if spec.default is not None}
        identifying = tuple(name for name in auto_ids if name not in defaulted)
        return FieldPlan(fields, kinds, (TIMESTAMP, *needed, *identifying), free_form=False)
    known = tuple(data_set.field_types or {})
    # A free-form field that has only ever held numbers takes "1,234" in a CSV as a number.
    kinds = {
        name: conversion.INTEGER
        for name, types in (data_set.field_types or {}).items()
        if types == ["number"]
    }
    fields = tuple(dict.fromkeys((TIMESTAMP, conversion.ID, *known, *auto_ids)))
    return FieldPlan(fields, kinds, auto_ids, free_form=True)


def field_choices(data_set: DataSet, headers) -> list[str]:
    """The fields a column of this data set can be mapped to, in the order to offer them."""
    plan = field_plan(data_set)
    choices = list(plan.fields)
    if plan.free_form:
        for header in headers:
            name = conversion.field_from_header(header)
            if name and name not in choices:
                choices.append(name)
    return choices


def saved_mapping(data_set: DataSet) -> dict:
    row = HeaderMapping.objects.filter(data_set=data_set).first()
    return row.mapping if row else {}


def mapping_for(data_set: DataSet, headers, chosen: dict | None = None) -> dict[str, str]:
    """header -> field: what was chosen for this upload, else the data set's saved mapping,
    else the defaults (see conversion.default_mapping)."""
    plan = field_plan(data_set)
    mapping = conversion.default_mapping(
        headers, plan.fields, saved_mapping(data_set), plan.free_form
    )
    for header, field in (chosen or {}).items():
        if header in mapping:
            mapping[header] = field
    return mapping
