"""Reading a cell as each declared field type (the conventions the README lists), every
rejection with its exact message, and proposing a type from a field's first values."""

from datetime import date, datetime

import pytest

from perfplat.datasets import values
from perfplat.datasets.fields import FieldDeclaration
from perfplat.datasets.values import ValueProblem


def read(field_type, cell):
    result = values.READERS[field_type](cell)
    assert type(result) is not ValueProblem, str(result)
    return result


def problem(field_type, cell) -> str:
    result = values.READERS[field_type](cell)
    assert type(result) is ValueProblem, f"{cell!r} was read as {result!r}"
    return str(result)


# whole numbers


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1200", 1200),
        ("1,200", 1200),
        ("1,234,567", 1234567),
        (" 1,200 ", 1200),
        ("-3", -3),
        ("+3", 3),
        ("12.0", 12),
        ("0", 0),
        (12, 12),
        (1234.0, 1234),
        (-2.0, -2),
    ],
)
def test_whole_numbers(cell, expected):
    converted = read("whole-number", cell)
    assert converted == expected
    assert type(converted) is int


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("12x", "'12x' is not a whole number"),
        ("12.5", "'12.5' is not a whole number"),
        (12.5, "'12.5' is not a whole number"),
        ("£12", "'£12' is not a whole number"),
        ("12%", "'12%' is not a whole number"),
        ("1,23", "'1,23' is not a whole number"),
        ("1 200", "'1 200' is not a whole number"),
        ("1e3", "'1e3' is not a whole number"),
        ("-", "'-' is not a whole number"),
        ("+-3", "'+-3' is not a whole number"),
        (True, "'True' is not a whole number"),
        (date(2024, 1, 1), "'2024-01-01' is not a whole number"),
        (float("nan"), "'nan' is not a whole number"),
        (
            "9007199254740992",
            "'9007199254740992' is too large: whole numbers must be between "
            "-9,007,199,254,740,991 and 9,007,199,254,740,991",
        ),
        (
            1e20,
            "'100000000000000000000' is too large: whole numbers must be between "
            "-9,007,199,254,740,991 and 9,007,199,254,740,991",
        ),
    ],
)
def test_what_is_not_a_whole_number_says_so(cell, message):
    assert problem("whole-number", cell) == message


# numbers


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1,200", 1200),
        ("£1,200.50", 1200.5),
        ("£1200.50", 1200.5),
        (" £0.99 ", 0.99),
        ("-£5", -5),
        ("£-5", -5),
        (".5", 0.5),
        ("12.25", 12.25),
        ("12%", 0.12),
        ("12.5%", 0.125),
        ("100%", 1),
        ("-3%", -0.03),
        ("1,200%", 12),
        (99.95, 99.95),
        (3.0, 3),
        (7, 7),
    ],
)
def test_numbers(cell, expected):
    converted = read("number", cell)
    assert converted == expected
    assert type(converted) is type(expected)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("lots", "'lots' is not a number"),
        ("£12%", "'£12%' is not a number"),
        ("12 %", "'12 %' is not a number"),
        ("£ 12", "'£ 12' is not a number"),
        ("(1,200)", "'(1,200)' is not a number"),
        ("$5", "'$5' is not a number"),
        ("-£-5", "'-£-5' is not a number"),
        ("1.2.3", "'1.2.3' is not a number"),
        ("", "'' is not a number"),
        (False, "'False' is not a number"),
        (float("inf"), "'inf' is not a number"),
    ],
)
def test_what_is_not_a_number_says_so(cell, message):
    assert problem("number", cell) == message


# booleans


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        (" Yes ", True),
        ("1", True),
        ("false", False),
        ("No", False),
        ("0", False),
        (True, True),
        (False, False),
        (1, True),
        (0.0, False),
    ],
)
def test_booleans(cell, expected):
    assert read("boolean", cell) is expected


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("maybe", "'maybe' is not true or false: write true, false, yes, no, 1 or 0"),
        ("y", "'y' is not true or false: write true, false, yes, no, 1 or 0"),
        (2, "'2' is not true or false: write true, false, yes, no, 1 or 0"),
    ],
)
def test_what_is_not_true_or_false_says_so(cell, message):
    assert problem("boolean", cell) == message


# dates and text


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-03-31", "2025-03-31T00:00:00Z"),
        ("31/3/2025", "2025-03-31T00:00:00Z"),
        ("31/03/2025 14:05", "2025-03-31T14:05:00Z"),
        ("2025-03-31T14:05:00+01:00", "2025-03-31T13:05:00Z"),
        (date(2025, 3, 31), "2025-03-31T00:00:00Z"),
        (datetime(2025, 3, 31, 9, 30), "2025-03-31T09:30:00Z"),
    ],
)
def test_dates_and_times(cell, expected):
    assert read("date-time", cell) == expected


def test_a_date_that_is_not_a_real_one_says_so():
    assert problem("date-time", "31/2/2025") == (
        "'31/2/2025' is not a real date (dates are day/month/year)"
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("  digital ", "digital"),
        (12.0, "12"),
        (1.5, "1.5"),
        (7, "7"),
        (True, "true"),
        (date(2024, 1, 1), "2024-01-01"),
    ],
)
def test_text(cell, expected):
    assert read("text", cell) == expected


# proposing a type


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["1200", "1,300", "12"], "whole-number"),
        ([1200, 3.0], "whole-number"),
        (["0", "1"], "whole-number"),
        (["1200", "12.5"], "number"),
        (["£1,200.50", "£3"], "number"),
        (["12%", "80%"], "number"),
        (["yes", "No", "TRUE"], "boolean"),
        ([True, False], "boolean"),
        (["2025-03-31", "31/3/2025"], "date-time"),
        ([date(2025, 3, 31)], "date-time"),
        (["digital", "phone"], "text"),
        (["1200", "n/a"], "text"),
        # All but a few: the few are mistakes, which the upload shows as row errors.
        (["1200"] * 9 + ["12x"], "whole-number"),
        (["1200"] * 8 + ["12x", "n/a"], "text"),
        (["yes"] * 19 + ["maybe"], "boolean"),
        # Written with a leading zero: a code, whose zero must not be lost.
        (["007", "012"], "text"),
        (["1234567890123456789"], "text"),
    ],
)
def test_the_type_proposed_is_the_first_all_values_fit(cells, expected):
    assert values.infer_type(cells) == expected


def test_a_json_list_or_object_is_text():
    assert values.infer_type([1, [1, 2]]) == "text"


def test_no_values_propose_nothing():
    assert values.infer_type([]) is None
    assert values.propose("notes", [None, "  "]) is None


def test_proposals_from_records_are_unconfirmed_and_required_when_always_given():
    records = [
        {"count": "1200", "channel": "digital", "note": "late"},
        {"count": "1,300", "channel": "phone"},
    ]
    assert values.propose_from_records(records, {"count", "channel", "note"}) == [
        FieldDeclaration("count", "whole-number", required=True, confirmed=False),
        FieldDeclaration("channel", "text", required=True, confirmed=False),
        FieldDeclaration("note", "text", required=False, confirmed=False),
    ]
