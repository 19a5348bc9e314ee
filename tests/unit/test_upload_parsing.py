"""Reading spreadsheets: every format from real files made in the tests, the sheet of a
workbook, CSV encodings and separators, and each file-level error with its exact message."""

from datetime import date, datetime

import pytest

from perfplat.errors import InvalidRequest, PayloadTooLarge
from perfplat.ingest import parsing
from spreadsheets import csv_file, ods, xls, xlsx

ROWS = [
    ["Date", "Channel", "Count"],
    [date(2024, 1, 1), "digital", 1234],
    [datetime(2024, 1, 8, 9, 30), "phone", 7.5],
]
WORKBOOKS = {"xlsx": xlsx, "xls": xls, "ods": ods}


def error_of(data: bytes, **options) -> str:
    with pytest.raises(InvalidRequest) as raised:
        parsing.read_table(data, **options)
    return raised.value.message


@pytest.mark.parametrize("kind", WORKBOOKS)
def test_each_workbook_format_is_read_with_its_cell_types(kind):
    table = parsing.read_table(WORKBOOKS[kind]({"Data": ROWS}))
    assert table.format == kind
    assert table.sheet == "Data"
    assert table.headers == ("Date", "Channel", "Count")
    assert table.header_row == 1
    assert table.row_numbers == [2, 3]
    first, second = table.rows
    assert first[0] == date(2024, 1, 1)
    assert second[0] == datetime(2024, 1, 8, 9, 30)
    assert [first[1], first[2], second[2]] == ["digital", 1234, 7.5]


@pytest.mark.parametrize("kind", WORKBOOKS)
def test_the_format_is_told_from_the_bytes_not_the_file_name(kind):
    assert parsing.detect_format(WORKBOOKS[kind]({"Data": ROWS})) == kind
    assert parsing.detect_format(csv_file(ROWS)) == "csv"


@pytest.mark.parametrize("kind", WORKBOOKS)
def test_a_chosen_sheet_of_a_workbook_is_read(kind):
    data = WORKBOOKS[kind](
        {"Notes": [["About"], ["This workbook"]], "Figures": [["Channel"], ["phone"]]}
    )
    assert parsing.sheet_names(data) == ("Notes", "Figures")
    default = parsing.read_table(data)
    assert (default.sheet, default.headers) == ("Notes", ("About",))
    chosen = parsing.read_table(data, sheet="Figures")
    assert (chosen.sheet, chosen.headers, chosen.rows) == ("Figures", ("Channel",), [["phone"]])
    assert chosen.sheet_names == ("Notes", "Figures")


def test_a_sheet_name_matches_without_case_or_surrounding_spaces():
    data = xlsx({"Notes": [["a"], ["b"]], "Figures": [["c"], ["d"]]})
    assert parsing.read_table(data, sheet="  figures ").sheet == "Figures"


@pytest.mark.parametrize("kind", WORKBOOKS)
def test_a_missing_sheet_is_named_with_the_sheets_there_are(kind):
    data = WORKBOOKS[kind]({"Notes": [["a"], ["b"]], "Figures": [["c"], ["d"]]})
    with pytest.raises(InvalidRequest) as raised:
        parsing.read_table(data, sheet="Totals")
    assert raised.value.message == (
        'The spreadsheet has no sheet named "Totals": its sheets are "Notes", "Figures"'
    )
    assert raised.value.field == "sheet"


def test_csv_in_utf8_without_bom():
    table = parsing.read_table(csv_file([["Channel", "Name"], ["digital", "Café £"]]))
    assert table.rows == [["digital", "Café £"]]


def test_csv_in_utf8_with_bom_has_no_bom_in_its_first_header():
    table = parsing.read_table(csv_file([["Date", "Count"], ["2024-01-01", "3"]], bom=True))
    assert table.headers == ("Date", "Count")


def test_csv_in_windows_1252():
    data = csv_file([["Channel", "Amount"], ["café", "£1,234.50"]], encoding="cp1252")
    assert b"\xa3" in data  # the pound sign, as Windows-1252 has it
    assert parsing.read_table(data).rows == [["café", "£1,234.50"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_separators_are_sniffed(delimiter):
    rows = [["Date", "Channel", "Amount"], ["01/02/2024", "phone", "1,234.50"]]
    table = parsing.read_table(csv_file(rows, delimiter=delimiter))
    assert table.headers == ("Date", "Channel", "Amount")
    assert table.rows == [["01/02/2024", "phone", "1,234.50"]]


def test_csv_with_unix_line_ends_and_quoted_line_breaks():
    data = b'Channel,Note\nphone,"two\nlines"\npaper,one\n'
    table = parsing.read_table(data)
    assert table.rows == [["phone", "two\nlines"], ["paper", "one"]]


def test_empty_rows_are_ignored_and_rows_keep_the_numbers_people_see():
    rows = [
        [None, None],
        ["Channel", "Count"],
        ["phone", 1],
        [None, None],
        ["paper", 2],
        [None, None],
        [None, None],
    ]
    for data in (xlsx({"S": rows}), csv_file(rows), ods({"S": rows}), xls({"S": rows})):
        table = parsing.read_table(data)
        assert table.header_row == 2
        assert table.row_numbers == [3, 5]
        assert [row[0] for row in table.rows] == ["phone", "paper"]


def test_trailing_separators_and_spaces_only_rows_are_empty_rows():
    data = b"Channel,Count\nphone,1\n,\n  ,  \n;\n"
    # The trailing ";" row is one cell holding ";": a real value, so it stays.
    table = parsing.read_table(data)
    assert table.row_numbers == [2, 5]


def test_a_column_with_neither_header_nor_data_is_left_out():
    table = parsing.read_table(b"Channel,,Count,\nphone,,1,\n")
    assert table.headers == ("Channel", "Count")
    assert table.columns == (0, 2)


def test_short_csv_rows_are_padded_with_empty_cells():
    table = parsing.read_table(b"Channel,Count,Note\nphone\n")
    assert table.rows == [["phone", "", ""]]


# errors


def test_an_empty_file():
    assert error_of(b"") == "The file is empty"


def test_a_csv_file_of_only_blank_lines_is_empty():
    assert error_of(b"\r\n\r\n  \n") == "The file is empty"


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"PK\x03\x04not really a zip",
    ],
    ids=["pdf", "png", "broken zip"],
)
def test_a_file_that_is_not_a_spreadsheet(data):
    assert error_of(data) == "The file is not a spreadsheet: upload a CSV, XLSX, XLS or ODS file"


def test_a_zip_that_is_not_a_workbook_is_not_a_spreadsheet():
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    assert error_of(buffer.getvalue()) == (
        "The file is not a spreadsheet: upload a CSV, XLSX, XLS or ODS file"
    )


def test_an_xlsx_file_named_csv_is_still_read_as_xlsx():
    # The name never decides: these bytes are a workbook whatever the file is called.
    assert parsing.read_table(xlsx({"S": ROWS})).format == "xlsx"


def test_text_in_neither_utf8_nor_windows_1252():
    # 0x81 is undefined in Windows-1252 and not valid UTF-8 here.
    assert error_of(b"Channel\n\x81\x81\n") == (
        "The file is not a spreadsheet: it is not text in UTF-8 or Windows-1252, the "
        "encodings CSV files are saved in"
    )


def test_too_large():
    with pytest.raises(PayloadTooLarge) as raised:
        parsing.read_table(b"Channel\nphone\n" * 100, max_bytes=1024)
    assert raised.value.message == "The file is 1.37 KB, larger than the limit of 1 KB"
    assert raised.value.status == 413


def test_the_default_limit_is_20_mb():
    assert parsing.DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    with pytest.raises(PayloadTooLarge) as raised:
        parsing.check_size(20 * 1024 * 1024 + 1, parsing.DEFAULT_MAX_BYTES)
    assert raised.value.message == "The file is 20 MB, larger than the limit of 20 MB"


@pytest.mark.parametrize("kind", WORKBOOKS)
def test_a_workbook_with_an_empty_sheet_has_no_header_row(kind):
    data = WORKBOOKS[kind]({"Empty": [[None]], "Other": [["a"], ["b"]]})
    assert error_of(data) == (
        "The file has no header row: its first row with anything in it must name the columns"
    )


def test_a_csv_file_of_only_separators_has_no_header_row():
    assert error_of(b",,\n;;\n,,\n".replace(b";;", b",,")) == (
        "The file has no header row: its first row with anything in it must name the columns"
    )


def test_data_in_the_first_row_is_no_header_row():
    assert error_of(b"2024-01-01,digital,12\n2024-01-08,phone,3\n") == (
        "The file has no header row: its first row with anything in it must name the columns, "
        "but row 1 holds data such as 2024-01-01"
    )


def test_a_workbook_whose_first_row_holds_numbers_has_no_header_row():
    data = xlsx({"S": [[None, None], ["digital", 12], ["phone", 3]]})
    assert error_of(data) == (
        "The file has no header row: its first row with anything in it must name the columns, "
        "but row 2 holds data such as 12"
    )


def test_duplicate_headers():
    assert error_of(b"Date,Channel,Count,channel\n2024-01-01,a,1,b\n") == (
        'Columns B and D both have the header "channel": give each column a different header'
    )


def test_a_blank_header_above_data():
    assert error_of(b"Date,,Count\n2024-01-01,phone,1\n") == (
        "Column B has data but no header in row 1: give it a header, or delete the column"
    )


def test_a_header_row_with_no_data_below_it():
    assert error_of(xlsx({"S": [["Date", "Count"], [None, None]]})) == (
        "The file has a header row (row 1) but no rows of data below it"
    )


def test_column_letters_go_past_z():
    assert [parsing.column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]
