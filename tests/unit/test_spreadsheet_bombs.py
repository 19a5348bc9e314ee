"""Spreadsheets are read within bounds (issue 13, finding 2): small files that describe huge
sheets are refused before any grid is built, and what the checks miss is read in a child
process under a memory and time limit, never in the worker itself.

The bombs are made here, in memory: an XLSX whose one far cell is XFD1048576 (1.6 KB, which
made python-calamine allocate 549 GB and abort the process) or CV1048576 (4.25 GB), the same
padded past the background-upload size, one whose <dimension> lies, an ODS of repeated rows of
repeated cells, and an XLS reaching the format's last cell.
"""

import functools
import io
import os
import zipfile

import pytest

from perfplat.errors import PayloadTooLarge
from perfplat.uploads import parsing, spreadsheet_limits
from spreadsheets import MAKERS, csv_file, ods, xls


@functools.cache
def far_cell_xlsx(row: int, column: int, padding: int = 0, dimension: str | None = None) -> bytes:
    """A sheet with a header, one row of data and one number at (row, column), 0-based."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Data")
    sheet.write(0, 0, "name")
    sheet.write(1, 0, "x")
    sheet.write(row, column, 1)
    if padding:
        # Random bytes do not compress: the file passes the background-upload size.
        sheet.insert_image("B2", "padding.png", {"image_data": io.BytesIO(_png_with(padding))})
    workbook.close()
    data = buffer.getvalue()
    if dimension is not None:
        data = _rewrite(data, "xl/worksheets/sheet1.xml", _with_dimension(dimension))
    return data


def _png_with(size: int) -> bytes:
    # A valid 1x1 PNG followed by random bytes (readers stop at IEND).
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
        b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
        b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    return png + os.urandom(size)


def _with_dimension(ref: str):
    def change(xml: bytes) -> bytes:
        start = xml.index(b"<dimension ref=")
        end = xml.index(b"/>", start) + 2
        return xml[:start] + f'<dimension ref="{ref}"/>'.encode() + xml[end:]

    return change


def _rewrite(data: bytes, member: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info, change(content) if info.filename == member else content)
    return out.getvalue()


def repeated_ods(columns: int, rows: int) -> bytes:
    """An ODS whose second row holds one number repeated across `columns` cells, the row
    repeated `rows` times: a few hundred bytes of XML."""
    data = ods({"Data": [["name"], [1]]})
    return _rewrite(
        data,
        "content.xml",
        lambda xml: xml.replace(
            b'<table:table-row><table:table-cell office:value-type="float"',
            f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
            f'table:number-columns-repeated="{columns}" office:value-type="float"'.encode(),
        ),
    )


def last_cell_xls() -> bytes:
    import xlwt

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Data")
    sheet.write(0, 0, "name")
    sheet.write(65535, 255, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refusal(data: bytes) -> str:
    with pytest.raises(PayloadTooLarge) as raised:
        parsing.read_table(data)
    assert raised.value.field == "file"
    return raised.value.message


def area_message(sheet: str, column: str, row: int, cells: int) -> str:
    named = f'The sheet "{sheet}"' if sheet else "The spreadsheet"
    return (
        f"{named} reaches column {column} and row {row}: {cells:,} cells, more than the "
        "5,000,000 a sheet may span (rows times columns from A1 to its farthest cell). Delete "
        "any cells beyond your data, or split the data into smaller files"
    )


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
    data = _rewrite(
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
