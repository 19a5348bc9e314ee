"""Reading a table from an uploaded file: CSV, XLSX, XLS or ODS.

Plain functions over bytes (nothing here needs the database or settings). The format is told
from the bytes, not the file name: XLSX and ODS are zip files (ODS names itself in a `mimetype`
member), XLS is an OLE2 compound file, and anything else that is text is read as CSV.
Workbooks are read with python-calamine. The first row with anything in it is the header; rows
with nothing in them are left out, but every row keeps the number people see in their
spreadsheet, so errors can point at it.
"""

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from perfplat.errors import InvalidRequest, PayloadTooLarge, PerfplatError

from . import spreadsheet_limits
from .spreadsheet_limits import column_letter, run_bounded

CSV, XLSX, XLS, ODS = "csv", "xlsx", "xls", "ods"
FORMAT_NAMES = {CSV: "CSV", XLSX: "XLSX", XLS: "XLS", ODS: "ODS"}
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

NOT_A_SPREADSHEET = "The file is not a spreadsheet: upload a CSV, XLSX, XLS or ODS file"
EMPTY_FILE = "The file is empty"
NO_HEADER_ROW = (
    "The file has no header row: its first row with anything in it must name the columns"
)

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
# Bytes that never appear in text: their presence means a binary file (an image, a PDF, ...).
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_DELIMITERS = (",", ";", "\t")
# A header cell that looks like data: a number or a date.
_DATA_LIKE = re.compile(r"[-+]?£?[\d,]*\.?\d+|\d{1,4}[-/]\d{1,2}[-/]\d{1,4}.*")


@dataclass(frozen=True)
class Table:
    """The rows of one sheet (or of a CSV file) below its header row.

    `rows` holds the cells as read: strings for text ("" for an empty cell), int or float for
    numbers, bool, and date or datetime for date cells. Each row is as wide as the header row
    or wider. `columns[i]` is the index in each row of the column headed `headers[i]`: columns
    with neither header nor data are left out."""

    format: str
    headers: tuple[str, ...]
    columns: tuple[int, ...]
    header_row: int
    rows: list[list]
    row_numbers: list[int]
    sheet: str = ""
    sheet_names: tuple[str, ...] = field(default=())

    @property
    def row_count(self) -> int:
        return len(self.rows)


def size_text(size: int) -> str:
    """A number of bytes as people say it: 512 bytes, 20 KB, 1.5 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.3g} KB"
    return f"{size / 1024 / 1024:.3g} MB"


def check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise InvalidRequest(EMPTY_FILE, field="file")
    if size > max_bytes:
        raise PayloadTooLarge(
            f"The file is {size_text(size)}, larger than the limit of {size_text(max_bytes)}",
            field="file",
        )


def detect_format(data: bytes) -> str:
    """CSV, XLSX, XLS or ODS, told from the file's bytes; InvalidRequest for anything else."""
    if not data:
        raise InvalidRequest(EMPTY_FILE, field="file")
    if data.startswith(_OLE2):
        return XLS
    if data.startswith(_ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    if archive.read("mimetype").strip().startswith(_ODS_MIMETYPE):
                        return ODS
                elif "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                    return XLSX
        except (zipfile.BadZipFile, OSError, RuntimeError, ValueError):
            pass
        # A zip that is not a workbook: a Word document, a damaged file, an archive.
        raise InvalidRequest(NOT_A_SPREADSHEET, field="file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 text with a byte order mark ("Unicode text" from Excel): its NULs are text.
        return CSV
    if _BINARY.search(data[:65536]):
        raise InvalidRequest(NOT_A_SPREADSHEET, field="file")
    return CSV


def sheet_names(data: bytes) -> tuple[str, ...]:
    """The names of a workbook's sheets, in order; () for a CSV file."""
    file_format = detect_format(data)
    if file_format == CSV:
        return ()
    memory, seconds = spreadsheet_limits.limits()
    return run_bounded(_sheet_names, data, file_format, memory_bytes=memory, seconds=seconds)


def read_table(data: bytes, sheet: str = "", max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    """The table in a file: the named sheet of a workbook (the first visible one by default),
    or the CSV file. Raises InvalidRequest (PayloadTooLarge when too large: the file, a sheet
    over spreadsheet_limits.MAX_CELLS, a workbook that needs more memory or time than it may
    have) with a message for the person who uploaded it."""
    check_size(len(data), max_bytes)
    file_format = detect_format(data)
    if file_format == CSV:
        # A CSV file has no sheets: a sheet name given for one is ignored.
        return _table(CSV, _csv_rows(data), "", ())
    memory, seconds = spreadsheet_limits.limits()
    return run_bounded(
        _read_workbook, data, file_format, sheet, memory_bytes=memory, seconds=seconds
    )


# workbooks (read in a child process: spreadsheet_limits.run_bounded)


def _check_workbook(data: bytes, file_format: str) -> None:
    try:
        if file_format == XLSX:
            spreadsheet_limits.check_xlsx(data)
        elif file_format == ODS:
            spreadsheet_limits.check_ods(data)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
        raise InvalidRequest(_damaged(file_format, error), field="file")


def _sheet_names(data: bytes, file_format: str) -> tuple[str, ...]:
    _check_workbook(data, file_format)
    return tuple(_open_workbook(data, file_format).sheet_names)


def _read_workbook(data: bytes, file_format: str, sheet: str) -> Table:
    _check_workbook(data, file_format)
    workbook = _open_workbook(data, file_format)
    names = tuple(workbook.sheet_names)
    name = _choose_sheet(workbook, names, sheet)
    try:
        found = workbook.get_sheet_by_name(name)
        # The reader's grid is built, but no Python cell yet (XLS has no cheaper way).
        end = found.end
        if end is not None:
            spreadsheet_limits.check_area(end[0] + 1, end[1] + 1, name)
        rows = found.to_python(skip_empty_area=False)
    except PerfplatError:
        raise
    except Exception as error:  # noqa: BLE001 - calamine's errors are many and undocumented
        raise InvalidRequest(_damaged(file_format, error), field="file")
    return _table(file_format, rows, name, names)


def _damaged(file_format: str, error: Exception) -> str:
    return (
        f"The file could not be read as an {FORMAT_NAMES[file_format]} spreadsheet: "
        f"it may be damaged ({error})"
    )


def _open_workbook(data: bytes, file_format: str):
    import python_calamine

    try:
        return python_calamine.CalamineWorkbook.from_object(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise InvalidRequest(
            "The spreadsheet is protected with a password: remove the password and upload it again",
            field="file",
        )
    except Exception as error:  # noqa: BLE001 - calamine's errors are many and undocumented
        raise InvalidRequest(_damaged(file_format, error), field="file")


def _choose_sheet(workbook, names: tuple[str, ...], wanted: str) -> str:
    wanted = (wanted or "").strip()
    if not names:
        raise InvalidRequest("The spreadsheet has no sheets", field="file")
    if not wanted:
        # The first sheet people can see: a hidden first sheet often holds lookups.
        for metadata in workbook.sheets_metadata:
            if str(metadata.visible).endswith("Visible") and str(metadata.typ).endswith(
                "WorkSheet"
            ):
                return metadata.name
        return names[0]
    if wanted in names:
        return wanted
    folded = [name for name in names if name.strip().casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    listed = ", ".join(f'"{name}"' for name in names)
    raise InvalidRequest(
        f'The spreadsheet has no sheet named "{wanted}": its sheets are {listed}', field="sheet"
    )


# CSV


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidRequest(NOT_A_SPREADSHEET, field="file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise InvalidRequest(
            "The file is not a spreadsheet: it is not text in UTF-8 or Windows-1252, the "
            "encodings CSV files are saved in",
            field="file",
        )


def _delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the first line with anything in it has most of
    (spreadsheets in much of Europe save CSV with semicolons)."""
    for line in text.splitlines():
        if line.strip(" ,;\t"):
            counts = {delimiter: line.count(delimiter) for delimiter in _DELIMITERS}
            best = max(_DELIMITERS, key=lambda d: counts[d])
            return best if counts[best] else ","
    return ","


def _csv_rows(data: bytes) -> list[list]:
    text = _decode(data)
    if not text.strip():
        raise InvalidRequest(EMPTY_FILE, field="file")
    rows: list[list] = []
    width = 0
    limit = spreadsheet_limits.MAX_CELLS
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)):
            rows.append(row)
            if len(row) > width:
                width = len(row)
            if len(rows) * width > limit:
                spreadsheet_limits.check_area(len(rows), width)
        return rows
    except csv.Error as error:
        raise InvalidRequest(f"The CSV file could not be read: {error}", field="file")


# the table


def _is_empty_row(row: list) -> bool:
    empties = row.count("")
    if empties == len(row):
        return True
    if not empties and type(row[0]) is not str:
        # The common case, decided without a Python step per cell.
        return False
    # Cells holding only spaces are empty too (rarer: only checked when needed).
    return all(type(cell) is str and not cell.strip() for cell in row)


def header_text(cell) -> str:
    if isinstance(cell, str):
        return cell.strip()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, date | datetime):
        return cell.isoformat()
    return str(cell)


def _looks_like_data(cell) -> bool:
    if isinstance(cell, bool | int | float | date | datetime | time | timedelta):
        return True
    return bool(_DATA_LIKE.fullmatch(cell.strip()))


def _table(file_format: str, rows: list[list], sheet: str, names: tuple[str, ...]) -> Table:
    start = next((i for i, row in enumerate(rows) if row and not _is_empty_row(row)), None)
    if start is None:
        raise InvalidRequest(NO_HEADER_ROW, field="file")
    header = rows[start]
    header_row = start + 1
    if any(_looks_like_data(cell) for cell in header if cell != ""):
        example = next(
            header_text(cell) for cell in header if cell != "" and _looks_like_data(cell)
        )
        raise InvalidRequest(
            f"{NO_HEADER_ROW}, but row {header_row} holds data such as {example}", field="file"
        )
    body = []
    numbers = []
    width = len(header)
    for index in range(start + 1, len(rows)):
        row = rows[index]
        if len(row) < width:
            # CSV rows may be short; workbooks' rows are all as wide as the sheet.
            row = row + [""] * (width - len(row))
        if _is_empty_row(row):
            continue
        body.append(row)
        numbers.append(index + 1)
    width = max(width, max((len(row) for row in body), default=0))
    headers: list[str] = []
    columns: list[int] = []
    seen: dict[str, int] = {}
    for column in range(width):
        text = header_text(header[column]) if column < len(header) else ""
        if not text:
            if any(column < len(row) and _has_value(row[column]) for row in body):
                raise InvalidRequest(
                    f"Column {column_letter(column)} has data but no header in row "
                    f"{header_row}: give it a header, or delete the column",
                    field="file",
                )
            continue
        key = " ".join(text.casefold().split())
        if key in seen:
            raise InvalidRequest(
                f"Columns {column_letter(seen[key])} and {column_letter(column)} both have the "
                f'header "{text}": give each column a different header',
                field="file",
            )
        seen[key] = column
        headers.append(text)
        columns.append(column)
    if not body:
        raise InvalidRequest(
            f"The file has a header row (row {header_row}) but no rows of data below it",
            field="file",
        )
    return Table(
        format=file_format,
        headers=tuple(headers),
        columns=tuple(columns),
        header_row=header_row,
        rows=body,
        row_numbers=numbers,
        sheet=sheet,
        sheet_names=names,
    )


def _has_value(cell) -> bool:
    return cell != "" and not (type(cell) is str and not cell.strip())
