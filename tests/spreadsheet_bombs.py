"""Spreadsheet bombs, made in memory for the tests (issue 13): small files that describe huge
sheets. Never shipped: each is built here when a test asks for it."""

import functools
import io
import os
import zipfile

from spreadsheets import ods


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
        data = rewrite(data, "xl/worksheets/sheet1.xml", _with_dimension(dimension))
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


def rewrite(data: bytes, member: str, change) -> bytes:
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
    return rewrite(
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


def area_message(sheet: str, column: str, row: int, cells: int) -> str:
    named = f'The sheet "{sheet}"' if sheet else "The spreadsheet"
    return (
        f"{named} reaches column {column} and row {row}: {cells:,} cells, more than the "
        "5,000,000 a sheet may span (rows times columns from A1 to its farthest cell). Delete "
        "any cells beyond your data, or split the data into smaller files"
    )
