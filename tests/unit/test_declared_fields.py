"""Declared fields as plain data: a standard type's FieldSpecs mapped onto declarations, the
check of a value against a declaration, and the rules of a team's declarations."""

import pytest

from perfplat.datasets.fields import (
    MAX_FIELDS,
    FieldDeclaration,
    check_declarations,
    declaration_problems,
    declared_fields,
    field_problem,
    needs_conversion,
    with_proposals,
)
from perfplat.datasets.models import DataSet
from perfplat.datasets.writes import validate_records
from perfplat.errors import InvalidRecords, InvalidRequest


def test_a_standard_type_declares_its_fields():
    data_set = DataSet(standard_type="cost")
    assert [
        d.as_dict() | {"minimum": d.minimum, "default": d.default}
        for d in declared_fields(data_set)
    ] == [
        {
            "name": "period",
            "type": "text",
            "required": True,
            "allowed_values": ["day", "week", "month", "quarter"],
            "description": "The period the record describes, starting at its _timestamp",
            "confirmed": True,
            "minimum": None,
            "default": None,
        },
        {
            "name": "amount",
            "type": "number",
            "required": True,
            "allowed_values": [],
            "description": "Cost in pounds",
            "confirmed": True,
            "minimum": 0,
            "default": None,
        },
        {
            "name": "channel",
            "type": "text",
            "required": False,
            "allowed_values": [],
            "description": "The channel the cost is for; all when not given",
            "confirmed": True,
            "minimum": None,
            "default": "all",
        },
    ]


def test_a_free_form_data_set_declares_what_its_team_confirmed_or_its_data_proposed():
    data_set = DataSet(
        field_declarations=[
            {"name": "count", "type": "whole-number", "required": True, "confirmed": True},
            {"name": "region", "type": "text", "allowed_values": ["north"], "confirmed": False},
        ]
    )
    assert declared_fields(data_set) == [
        FieldDeclaration("count", "whole-number", required=True),
        FieldDeclaration("region", "text", allowed_values=("north",), confirmed=False),
    ]


COUNT = FieldDeclaration("count", "whole-number", required=True)


@pytest.mark.parametrize(
    ("declaration", "value", "message"),
    [
        (COUNT, "1200", "field 'count' must be a whole number, not '1200'"),
        (COUNT, 12.5, "field 'count' must be a whole number, not 12.5"),
        (COUNT, True, "field 'count' must be a whole number, not True"),
        (COUNT, None, "field 'count' is required"),
        (FieldDeclaration("amount", "number"), "£5", "field 'amount' must be a number, not '£5'"),
        (FieldDeclaration("name", "text"), 12, "field 'name' must be text, not 12"),
        (
            FieldDeclaration("region", "text", allowed_values=("north", "south")),
            "east",
            "field 'region' must be one of north, south, not 'east'",
        ),
        (
            FieldDeclaration("paid", "boolean"),
            "yes",
            "field 'paid' must be true or false, not 'yes'",
        ),
        (
            FieldDeclaration("due", "date-time"),
            "31/3/2025",
            "field 'due' must be a date and time with a UTC offset, such as "
            "2024-01-31T00:00:00Z, not '31/3/2025'",
        ),
        (
            FieldDeclaration("due", "date-time"),
            20250331,
            "field 'due' must be a date and time with a UTC offset, such as "
            "2024-01-31T00:00:00Z, not 20250331",
        ),
    ],
)
def test_a_value_of_another_type_says_what_the_field_must_be(declaration, value, message):
    assert field_problem(declaration, value) == message


@pytest.mark.parametrize(
    ("declaration", "value"),
    [
        (COUNT, 1200),
        (COUNT, 3.0),
        (FieldDeclaration("amount", "number"), 1200.5),
        (FieldDeclaration("region", "text", allowed_values=("north",)), "north"),
        (FieldDeclaration("paid", "boolean"), False),
        (FieldDeclaration("due", "date-time"), "2025-03-31T00:00:00Z"),
        (FieldDeclaration("note", "text"), None),
    ],
)
def test_a_value_of_the_declared_type_fits(declaration, value):
    assert field_problem(declaration, value) is None


def test_records_are_checked_against_declarations_by_index_and_field():
    with pytest.raises(InvalidRecords) as error:
        validate_records([{"count": 1}, {"count": "1200"}, {"other": 1}], declarations=(COUNT,))
    assert error.value.messages == [
        "record 1: field 'count' must be a whole number, not '1200'",
        "record 2: field 'count' is required",
    ]
    assert declaration_problems((COUNT,), {"count": 3}) == []


def test_needs_conversion_names_declared_fields_with_values_stored_as_another_type():
    data_set = DataSet(
        field_declarations=[
            {"name": "count", "type": "whole-number"},
            {"name": "channel", "type": "text"},
            {"name": "paid", "type": "boolean"},
        ],
        field_types={
            "count": ["number", "string"],
            "channel": ["null", "string"],
            "paid": ["boolean"],
        },
    )
    assert needs_conversion(data_set) == ["count"]


# a team's declarations


def test_declarations_are_confirmed_and_cleaned():
    assert check_declarations(
        [
            {"name": "count", "type": "whole-number", "required": True},
            {"name": "region", "type": "text", "allowed_values": [" north ", "south", "north"]},
        ]
    ) == [
        FieldDeclaration("count", "whole-number", required=True),
        FieldDeclaration("region", "text", allowed_values=("north", "south")),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"name": "count"}, "fields must be a list of fields, each with a name and a type"),
        (["count"], "Field 1 must be an object with a name and a type"),
        (
            [{"name": "_count", "type": "text"}],
            "Field 1: the name '_count' must be letters, digits and _, starting with a letter",
        ),
        (
            [{"name": "2nd", "type": "text"}],
            "Field 1: the name '2nd' must be letters, digits and _, starting with a letter",
        ),
        (
            [{"name": "a", "type": "text"}, {"name": "a", "type": "number"}],
            "The field 'a' is declared twice",
        ),
        (
            [{"name": "a", "type": "integer"}],
            "The type of field 'a' must be one of text, whole-number, number, boolean, date-time",
        ),
        (
            [{"name": "a", "type": "text", "required": "yes"}],
            "required of field 'a' must be true or false",
        ),
        (
            [{"name": "a", "type": "number", "allowed_values": ["1"]}],
            "Only text fields can have allowed values, and 'a' is a number",
        ),
        (
            [{"name": "a", "type": "text", "allowed_values": [""]}],
            "Each allowed value of field 'a' must be 1 to 200 characters",
        ),
        ([{"name": "a", "type": "text", "size": 3}], "Field 1 has unknown key(s): size"),
        ([{"name": "a" * 101, "type": "text"}], "Field 1: a name can be at most 100 characters"),
        (
            [{"name": f"f{n}", "type": "text"} for n in range(201)],
            "A data set can declare at most 200 fields, not 201",
        ),
    ],
)
def test_bad_declarations_name_the_problem(items, message):
    with pytest.raises(InvalidRequest) as error:
        check_declarations(items)
    assert error.value.message == message


def test_proposals_add_only_new_fields_up_to_the_most_a_data_set_declares():
    current = [{"name": f"f{n}", "type": "text"} for n in range(MAX_FIELDS - 1)]
    proposals = [
        FieldDeclaration("f0", "number", confirmed=False),
        FieldDeclaration("new1", "number", confirmed=False),
        FieldDeclaration("new2", "number", confirmed=False),
    ]
    merged = with_proposals(current, proposals)
    assert [item["name"] for item in merged[-2:]] == [f"f{MAX_FIELDS - 2}", "new1"]
    assert len(merged) == MAX_FIELDS
    assert with_proposals(merged, proposals) is None
