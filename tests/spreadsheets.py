"""Real spreadsheet files for the upload tests, made in memory: XLSX (xlsxwriter), XLS (xlwt),
ODS (odfpy) and CSV in the encodings and separators people's spreadsheets save.

Each takes rows (lists of cells: str, int, float, date, datetime, or None for an empty cell);
the workbook makers take {sheet name: rows}.
"""

import io
from datetime import date, datetime


def xlsx(sheets: dict) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    datetime_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, datetime):
                    sheet.write_datetime(r, c, cell, datetime_format)
                elif isinstance(cell, date):
                    sheet.write_datetime(r, c, cell, date_format)
                else:
                    sheet.write(r, c, cell)
    workbook.close()
    return buffer.getvalue()


def xls(sheets: dict) -> bytes:
    import xlwt

    workbook = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="DD/MM/YYYY")
    datetime_style = xlwt.easyxf(num_format_str="DD/MM/YYYY HH:MM")
    for name, rows in sheets.items():
        sheet = workbook.add_sheet(name)
        for r, row in enumerate(rows):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                if isinstance(cell, datetime):
                    sheet.write(r, c, cell, datetime_style)
                elif isinstance(cell, date):
                    sheet.write(r, c, cell, date_style)
                else:
                    sheet.write(r, c, cell)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ods(sheets: dict) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for cell in row:
                if cell is None:
                    table_cell = TableCell()
                elif isinstance(cell, datetime):
                    table_cell = TableCell(valuetype="date", datevalue=cell.isoformat())
                    table_cell.addElement(P(text=cell.strftime("%d/%m/%Y %H:%M")))
                elif isinstance(cell, date):
                    table_cell = TableCell(valuetype="date", datevalue=cell.isoformat())
                    table_cell.addElement(P(text=cell.strftime("%d/%m/%Y")))
                elif isinstance(cell, int | float) and not isinstance(cell, bool):
                    table_cell = TableCell(valuetype="float", value=cell)
                    table_cell.addElement(P(text=str(cell)))
                else:
                    table_cell = TableCell(valuetype="string")
                    table_cell.addElement(P(text=str(cell)))
                table_row.addElement(table_cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def csv_file(rows, delimiter=",", encoding="utf-8", bom=False, newline="\r\n") -> bytes:
    """CSV as spreadsheets save it: every cell as text, quoted when it must be."""
    import csv

    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator=newline)
    for row in rows:
        writer.writerow(["" if cell is None else cell for cell in row])
    data = text.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


MAKERS = {"xlsx": xlsx, "xls": xls, "ods": ods}
