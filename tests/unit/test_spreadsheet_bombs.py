"""Spreadsheets are read within bounds (issue 13, finding 2): small files that describe huge
sheets are refused before any grid is built, and what the checks miss is read in a child
process under a memory and time limit, never in the worker itself.

The bombs are made in memory by tests/spreadsheet_bombs.py: an XLSX whose one far cell is
XFD1048576 (1.6 KB, which made python-calamine allocate 549 GB and abort the process) or
CV1048576 (4.25 GB), the same padded past the background-upload size, one whose <dimension>
lies, an ODS of repeated rows of repeated cells, and an XLS reaching the format's last cell.
"""

import pytest

from perfplat.errors import PayloadTooLarge
from perfplat.ingest import parsing, spreadsheet_limits
from spreadsheet_bombs import (
    area_message,
    far_cell_xlsx,
    last_cell_xls,
    repeated_ods,
    rewrite,
)
from spreadsheets import MAKERS, csv_file, ods, xls


def refusal(data: bytes) -> str:
    with pytest.raises(PayloadTooLarge) as raised:
        parsing.read_table(data)
    assert raised.value.field == "file"
    return raised.value.message


def test_an_xlsx_whose_one_far_cell_is_xfd1048576_is_refused_naming_the_bound():
    data = far_cell_xlsx(1048575, 16383)
    assert len(data) < 6000
    assert refusal(data) == area_message("", "XFD", 1048576, 17_179_869_184)


def test_an_xlsx_ending_at_cv1048576_is_refused():
    assert refusal(far_cell_xlsx(1048575, 99)) == area_message("", "CV", 1048576, 104_857_600)


def test_a_padded_xlsx_bomb_is_refused_too():
    data = far_cell_xlsx(1048575, 16383, padding=1_300_000)
    assert len(data) > 1_300_000
    assert refusal(data) == area_message("", "XFD", 1048576, 17_179_869_184)


def test_an_xlsx_whose_dimension_hides_its_far_cell_is_refused():
    data = far_cell_xlsx(1048575, 16383, dimension="A1:A2")
    assert refusal(data) == area_message("", "XFD", 1048576, 17_179_869_184)


def test_an_xlsx_whose_dimension_claims_a_huge_sheet_is_refused():
    data = far_cell_xlsx(2, 1, dimension="A1:XFD1048576")
    assert refusal(data) == area_message("", "XFD", 1048576, 17_179_869_184)


def test_an_ods_of_repeated_rows_of_repeated_cells_is_refused():
    data = repeated_ods(1024, 1_048_575)
    assert len(data) < 3000
    assert refusal(data) == area_message("", "AMJ", 1_048_576, 1_073_741_824)


def test_an_ods_with_the_trailing_empty_repeats_spreadsheets_write_is_read():
    # LibreOffice ends every sheet with empty rows and cells repeated to its last cell.
    data = rewrite(
        ods({"Data": [["name", "n"], ["a", 1]]}),
        "content.xml",
        lambda xml: xml.replace(
            b"</table:table>",
            b'<table:table-row table:number-rows-repeated="1048574"><table:table-cell '
            b'table:number-columns-repeated="1024"/></table:table-row></table:table>',
        ),
    )
    assert parsing.read_table(data).rows == [["a", 1.0]]


def test_an_xls_reaching_the_formats_last_cell_is_refused_before_its_cells_are_made():
    assert refusal(last_cell_xls()) == area_message("Data", "IV", 65536, 16_777_216)


def test_a_csv_past_the_cell_bound_is_refused():
    data = b"name" + b"," * 5_000_000 + b"\r\n"
    assert refusal(data) == area_message("", "JXLKS", 1, 5_000_001)


@pytest.mark.parametrize("kind", ["xlsx", "xls", "ods"])
def test_a_sheet_within_the_bounds_is_read(kind):
    table = parsing.read_table(MAKERS[kind]({"Data": [["name", "n"], ["a", 1], ["b", 2]]}))
    assert (table.headers, table.rows) == (("name", "n"), [["a", 1.0], ["b", 2.0]])


def test_a_workbook_that_needs_more_memory_than_allowed_kills_only_the_child(settings):
    # The XLS reader builds its whole grid (about 1 GB here) when it opens the file.
    settings.PERFPLAT_SPREADSHEET_MEMORY_BYTES = 100 * 1024 * 1024
    assert refusal(last_cell_xls()) == (
        "The spreadsheet could not be read within 100 MB of memory, the most perfplat gives to "
        "one: delete any cells beyond your data, or split the data into smaller files"
    )
    # This process is unharmed, and reads the next file.
    assert parsing.read_table(xls({"Data": [["name"], ["a"]]})).rows == [["a"]]


def test_a_workbook_that_takes_longer_than_allowed_is_refused(settings):
    settings.PERFPLAT_SPREADSHEET_SECONDS = 0.2
    assert refusal(last_cell_xls()) == (
        "The spreadsheet could not be read within 0.2 seconds, the most perfplat spends on "
        "one: split the data into smaller files"
    )


def test_a_workbook_unpacking_past_the_bound_is_refused(monkeypatch):
    monkeypatch.setattr(spreadsheet_limits, "MAX_UNPACKED_BYTES", 1000)
    assert refusal(MAKERS["xlsx"]({"Data": [["name"], ["a"]]})) == (
        "The spreadsheet unpacks to more than 0 MB, the most perfplat reads: split the data "
        "into smaller files"
    )


def test_a_csv_of_ordinary_size_is_unaffected():
    assert parsing.read_table(csv_file([["name"], ["a"]])).rows == [["a"]]
