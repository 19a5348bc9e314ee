"""Turning spreadsheet rows into records: the header mapping, dates in each form, numbers with
thousands separators, and row errors that name the row, column, value and problem."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from perfplat.datasets import values
from perfplat.datasets.types import TYPES
from perfplat.datasets.writes import validate_records
from perfplat.errors import InvalidRecords
from perfplat.ingest import conversion, parsing
from perfplat.ingest import mapping as columns
from perfplat.ingest.mapping import RowError
from spreadsheets import csv_file, ods, xls, xlsx

TRANSACTIONS = TYPES["transactions-by-channel"]
FIELDS = ["_timestamp", "period", "channel", "count"]
KINDS = {"period": "text", "channel": "text", "count": "whole-number"}
REQUIRED = ("_timestamp", "period", "channel", "count")


def convert(data: bytes, mapping=None, kinds=KINDS, required=REQUIRED):
    table = parsing.read_table(data)
    mapping = mapping or columns.default_mapping(table.headers, FIELDS)
    return table, mapping, conversion.convert(table, mapping, kinds, required)


def errors_of(data: bytes, data_set_type=TRANSACTIONS, auto_ids=None, **options):
    """Every row error of a file for a data set of the type, as the upload would show them."""
    table, mapping, converted = convert(data, **options)
    problems = []
    try:
        validate_records(converted.records, auto_ids, data_set_type)
    except InvalidRecords as error:
        problems = error.problems
    return conversion.row_errors(table, mapping, converted, problems)


# the mapping


def test_headers_map_to_fields_whatever_their_case_spaces_and_underscores():
    mapping = columns.default_mapping(
        ["Week starting", "Period", "CHANNEL", "count "], FIELDS, free_form=False
    )
    assert mapping == {
        "Week starting": "_timestamp",
        "Period": "period",
        "CHANNEL": "channel",
        "count ": "count",
    }


@pytest.mark.parametrize("header", ["Date", "Timestamp", "_timestamp", "Week starting", "date"])
def test_date_columns_map_to_timestamp(header):
    assert columns.default_mapping([header], FIELDS) == {header: "_timestamp"}


def test_rating_headers_map_to_rating_fields():
    fields = ["_timestamp", "period", *(f"rating_{n}" for n in range(1, 6))]
    mapping = columns.default_mapping(["Rating 1", "rating_2", "Rating-3"], fields)
    assert mapping == {"Rating 1": "rating_1", "rating_2": "rating_2", "Rating-3": "rating_3"}


def test_unknown_headers_are_not_uploaded_to_a_typed_data_set():
    assert columns.default_mapping(["Notes"], FIELDS) == {"Notes": ""}


def test_free_form_data_sets_take_a_field_named_after_the_header():
    mapping = columns.default_mapping(
        ["Date", "Licence URL slug", "licenceUrlSlug", "2nd", "Count"],
        ["_timestamp", "_id", "count"],
        free_form=True,
    )
    assert mapping == {
        "Date": "_timestamp",
        "Licence URL slug": "licence_url_slug",
        "licenceUrlSlug": "licenceurlslug",
        "2nd": "",
        "Count": "count",
    }


def test_a_free_form_field_already_stored_keeps_its_case():
    mapping = columns.default_mapping(["LicenceUrlSlug"], ["licenceUrlSlug"], free_form=True)
    assert mapping == {"LicenceUrlSlug": "licenceUrlSlug"}


def test_a_saved_mapping_wins_over_the_defaults():
    saved = {"when": "_timestamp", "channel": ""}
    mapping = columns.default_mapping(["When", "Channel"], FIELDS, saved)
    assert mapping == {"When": "_timestamp", "Channel": ""}


def test_a_second_column_for_the_same_field_is_not_uploaded_by_default():
    assert columns.default_mapping(["Date", "Timestamp"], FIELDS) == {
        "Date": "_timestamp",
        "Timestamp": "",
    }


def test_two_columns_chosen_for_one_field_is_an_error_on_the_header_row():
    data = csv_file(
        [["Date", "Period", "Channel", "Kind", "Count"], ["2024-01-01", "week", "a", "b", "1"]]
    )
    mapping = {
        "Date": "_timestamp",
        "Period": "period",
        "Channel": "channel",
        "Kind": "channel",
        "Count": "count",
    }
    assert errors_of(data, mapping=mapping) == [
        RowError(
            1,
            "Kind",
            "Kind",
            'both this column and "Channel" are mapped to channel: choose another field for '
            "one of them, or do not upload it",
        )
    ]


# dates


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2024-01-31", "2024-01-31T00:00:00Z"),
        ("2024-01-31T09:30:00Z", "2024-01-31T09:30:00Z"),
        ("2024-01-31T09:30:00+01:00", "2024-01-31T08:30:00Z"),
        ("2024-01-31 09:30", "2024-01-31T09:30:00Z"),
        ("2024-01-31T09:30:15.250", "2024-01-31T09:30:15Z"),
        ("31/01/2024", "2024-01-31T00:00:00Z"),
        ("1/2/2024", "2024-02-01T00:00:00Z"),
        ("31/01/2024 09:30", "2024-01-31T09:30:00Z"),
        ("31/01/2024 09:30:45", "2024-01-31T09:30:45Z"),
        (" 31/01/2024 ", "2024-01-31T00:00:00Z"),
        (date(2024, 1, 31), "2024-01-31T00:00:00Z"),
        (datetime(2024, 1, 31, 9, 30), "2024-01-31T09:30:00Z"),
        (datetime(2024, 6, 1, 9, 0, tzinfo=timezone(timedelta(hours=1))), "2024-06-01T08:00:00Z"),
        (datetime(2024, 6, 1, tzinfo=UTC), "2024-06-01T00:00:00Z"),
    ],
)
def test_dates_in_every_form_become_iso_8601_in_utc(cell, expected):
    assert values.read_date_time(cell) == expected


HINT = (
    "write dates like 2024-01-31 or 31/01/2024 (with a time if needed, like "
    "2024-01-31T09:30:00Z or 31/01/2024 09:30), or make the cell a date"
)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("next week", f"'next week' is not a date: {HINT}"),
        ("31/02/2024", "'31/02/2024' is not a real date (dates are day/month/year)"),
        ("01/13/2024", "'01/13/2024' is not a real date (dates are day/month/year)"),
        ("2024-02-30", "'2024-02-30' is not a real date"),
        ("2024-01-31T25:00", f"'2024-01-31T25:00' is not a date: {HINT}"),
        (
            45292,
            "'45292' is a number, not a date: format the cell as a date, or write the date "
            "like 2024-01-31",
        ),
        (True, f"'True' is not a date: {HINT}"),
    ],
)
def test_what_is_not_a_date_says_why(cell, problem):
    result = values.read_date_time(cell)
    assert isinstance(result, values.ValueProblem)
    assert str(result) == problem


@pytest.mark.parametrize("maker", [xlsx, xls, ods], ids=["xlsx", "xls", "ods"])
def test_date_cells_of_each_workbook_format(maker):
    rows = [
        ["Date", "Period", "Channel", "Count"],
        [date(2024, 1, 1), "week", "digital", 5],
        [datetime(2024, 1, 8, 12, 0), "week", "phone", 6],
    ]
    _, _, converted = convert(maker({"S": rows}))
    assert converted.records == [
        {"_timestamp": "2024-01-01T00:00:00Z", "period": "week", "channel": "digital", "count": 5},
        {"_timestamp": "2024-01-08T12:00:00Z", "period": "week", "channel": "phone", "count": 6},
    ]


# numbers and text


def test_free_form_cells_keep_what_the_spreadsheet_holds():
    assert conversion.convert_cell(" 1,234 ") == "1,234"
    assert conversion.convert_cell(3.0) == 3
    assert conversion.convert_cell(2.5) == 2.5
    assert conversion.convert_cell(True) is True
    assert conversion.convert_cell(date(2024, 1, 2)) == "2024-01-02"
    assert conversion.convert_cell(datetime(2024, 1, 2, 3, 4)) == "2024-01-02T03:04:00"


def test_empty_cells_are_left_out_of_the_record():
    _, _, converted = convert(b"Date,Period,Channel,Count\n2024-01-01,week,,  \n")
    assert converted.records == [{"_timestamp": "2024-01-01T00:00:00Z", "period": "week"}]


def test_a_csv_and_a_workbook_of_the_same_rows_give_the_same_records():
    rows = [["Date", "Period", "Channel", "Count"], ["01/01/2024", "week", "digital", "1,200"]]
    workbook_rows = [rows[0], [date(2024, 1, 1), "week", "digital", 1200]]
    assert convert(csv_file(rows))[2].records == convert(xlsx({"S": workbook_rows}))[2].records


# row errors


def test_each_kind_of_row_error_names_row_column_value_and_problem():
    data = csv_file(
        [
            ["Date", "Period", "Channel", "Count"],
            ["2024-01-01", "week", "digital", "1,234"],  # row 2: fine
            ["31/02/2024", "week", "phone", "5"],  # row 3: no such date
            ["2024-01-08", "fortnight", "phone", "5"],  # row 4: not a period
            ["2024-01-08", "week", "", "5"],  # row 5: no channel
            ["2024-01-08", "week", "paper", "12.5"],  # row 6: not whole
            ["2024-01-08", "week", "paper", "-1"],  # row 7: below 0
            ["2024-01-08", "week", "post", "lots"],  # row 8: not a number
            [],
            ["soon", "month", "paper", "1"],  # row 10: not a date
        ]
    )
    not_real = "'31/02/2024' is not a real date (dates are day/month/year)"
    not_a_period = "field 'period' must be one of day, week, month, quarter, not 'fortnight'"
    assert errors_of(data) == [
        RowError(3, "Date", "31/02/2024", not_real),
        RowError(4, "Period", "fortnight", not_a_period),
        RowError(5, "Channel", "", "field 'channel' is required"),
        RowError(6, "Count", "12.5", "'12.5' is not a whole number"),
        RowError(7, "Count", "-1", "field 'count' must be 0 or more, not -1"),
        RowError(8, "Count", "lots", "'lots' is not a whole number"),
        RowError(10, "Date", "soon", f"'soon' is not a date: {HINT}"),
    ]


def test_a_required_field_with_no_column_is_one_error_not_one_per_row():
    data = csv_file([["Date", "Channel", "Count"], ["2024-01-01", "digital", "1"]] * 1)
    assert errors_of(data) == [
        RowError(
            1,
            "",
            "",
            "no column is mapped to period, which every record needs: add the column, or "
            "choose it in the mapping",
        )
    ]


def test_errors_of_a_workbook_show_its_cells_as_people_see_them():
    rows = [
        ["Date", "Period", "Channel", "Count"],
        [date(2024, 1, 1), "week", "digital", -2.0],
        [45292, "week", "phone", 1],
    ]
    assert errors_of(xlsx({"S": rows})) == [
        RowError(2, "Count", "-2", "field 'count' must be 0 or more, not -2"),
        RowError(
            3,
            "Date",
            "45292",
            "'45292' is a number, not a date: format the cell as a date, or write the date like "
            "2024-01-31",
        ),
    ]


def test_a_missing_auto_ids_field_of_a_free_form_data_set():
    data = csv_file(
        [["Date", "Region", "Value"], ["2024-01-01", "", "3"], ["2024-01-02", "north", "4"]]
    )
    errors = errors_of(
        data,
        data_set_type=None,
        auto_ids=["_timestamp", "region"],
        mapping={"Date": "_timestamp", "Region": "region", "Value": "value"},
        kinds={},
        required=("_timestamp", "region"),
    )
    assert errors == [RowError(2, "Region", "", "missing auto_ids field(s): region")]


def test_a_row_with_data_only_in_columns_not_uploaded_is_skipped():
    data = csv_file(
        [["Date", "Period", "Channel", "Count", "Notes"], [None, None, None, None, "n/a"]]
    )
    _, _, converted = convert(data)
    assert converted.records == []
