"""Bounds on reading a spreadsheet, checked before any grid of cells is built.

A workbook says little about its size in bytes: a 1.6 KB XLSX whose one cell is at XFD1048576
makes python-calamine allocate a grid of 17 billion cells (549 GB), and the process dies. So:

- every sheet's area (rows x columns from A1 to its farthest cell) is at most MAX_CELLS. For XLSX
  it is read from the sheet's `<dimension>` and from every cell reference in the sheet's XML,
  scanned as bytes (the dimension may lie either way); for ODS from the rows and cells of
  content.xml, repeats included; for XLS (whose format caps a sheet at 65,536 x 256 cells)
  from the reader's grid before any Python cell is made; for CSV row by row as it is read;
- a workbook's members unpack to at most MAX_UNPACKED_BYTES;
- the workbook is read in a child process limited to `memory_bytes` more memory than it starts
  with (setrlimit) and `seconds` of time, so that whatever these checks miss costs the child,
  never the web or background worker: a file over a bound is refused with a message naming it.

Self-contained: plain functions over bytes; the caller (ingest.parsing) passes the limits.
"""

import io
import multiprocessing
import os
import re
import resource
import zipfile

from perfplat.errors import PayloadTooLarge, PerfplatError

# Rows x columns of one sheet, from A1 to its farthest cell.
MAX_CELLS = 5_000_000
# What a workbook's zip members may unpack to, together.
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
DEFAULT_MEMORY_BYTES = 2 * 1024 * 1024 * 1024
DEFAULT_SECONDS = 60

_CHUNK = 1024 * 1024
# Tags cut in two by a chunk boundary are found whole in the next chunk's overlap.
_OVERLAP = 4096


def column_letter(index: int) -> str:
    """The spreadsheet name of a column: 0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_number(letters: bytes) -> int:
    """A -> 1, Z -> 26, AA -> 27."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def check_area(rows: int, columns: int, sheet: str = "") -> None:
    """Refuse a sheet whose area passes MAX_CELLS, naming its farthest cell and the bound."""
    if rows * columns <= MAX_CELLS:
        return
    named = f'The sheet "{sheet}"' if sheet else "The spreadsheet"
    raise PayloadTooLarge(
        f"{named} reaches column {column_letter(columns - 1)} and row {rows}: "
        f"{rows * columns:,} cells, more than the {MAX_CELLS:,} a sheet may span (rows times "
        "columns from A1 to its farthest cell). Delete any cells beyond your data, or split "
        "the data into smaller files",
        field="file",
    )


def _too_unpacked() -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The spreadsheet unpacks to more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MB, "
        "the most perfplat reads: split the data into smaller files",
        field="file",
    )


def _unpacked_chunks(archive: zipfile.ZipFile, name: str, budget: list[int], overlap=_OVERLAP):
    """A member's bytes in chunks, each after the last `overlap` bytes of the one before;
    `budget` (a one-item list) counts down the bytes every member may still unpack to."""
    tail = b""
    with archive.open(name) as member:
        while chunk := member.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _too_unpacked()
            yield tail + chunk
            tail = chunk[-overlap:] if overlap else b""


def _open_zip(data: bytes) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(data))
    if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED_BYTES:
        raise _too_unpacked()
    return archive


# XLSX

_XLSX_SHEET = re.compile(r"xl/worksheets/[^/]+\.xml")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*?\bref=\"([^\"]*)\"")
# A cell's reference, the attribute r="B12" (only cells have one with letters and digits).
_CELL_COLUMN = re.compile(rb" r=\"([A-Z]{1,4})[0-9]")
_CELL_ROW = re.compile(rb" r=\"[A-Z]{1,4}([0-9]{1,9})\"")
_PREFIXED_CELL = re.compile(rb"<\w+:c[\s/>]")
_REF = re.compile(rb"([A-Z]{1,4})([0-9]{1,9})")


def check_xlsx(data: bytes) -> None:
    """Check every worksheet of an XLSX file against MAX_CELLS without building any grid: its
    <dimension>, and the farthest row and column any cell names (a few regular expressions
    over the XML as bytes: about 0.15 s for 100,000 rows of 4 cells)."""
    archive = _open_zip(data)
    budget = [MAX_UNPACKED_BYTES]
    for name in archive.namelist():
        if not _XLSX_SHEET.fullmatch(name):
            continue
        rows = columns = cells = 0
        for number, chunk in enumerate(_unpacked_chunks(archive, name, budget)):
            # The schema puts <dimension> before the sheet's data: in the first chunk.
            dimension = _DIMENSION.search(chunk, 0, 65536) if number == 0 else None
            if dimension:
                for letters, digits in _REF.findall(dimension.group(1)):
                    columns = max(columns, column_number(letters))
                    rows = max(rows, int(digits))
            for letters in set(_CELL_COLUMN.findall(chunk)):
                columns = max(columns, column_number(letters))
            rows = max(rows, max(map(int, _CELL_ROW.findall(chunk)), default=0))
            # Cells without references count too (overlaps count twice: a bound, not a tally).
            cells += chunk.count(b"<c ") + chunk.count(b"<c>") + chunk.count(b"<c/>")
            if b":c" in chunk:
                cells += len(_PREFIXED_CELL.findall(chunk))
            if cells > MAX_CELLS:
                check_area(cells, 1)
        check_area(rows, columns)


# ODS

_ODS_TOKEN = re.compile(
    rb"(?P<table><table:table(?=[\s>])[^>]*>)"
    rb"|<table:table-row\b(?P<row>[^>]*?)(?P<empty_row>/?)>"
    rb"|(?P<row_end></table:table-row>)"
    rb"|<table:(?:covered-)?table-cell\b(?P<cell>[^>]*?)(?P<empty_cell>/?)>"
)
_ROWS_REPEATED = re.compile(rb"number-rows-repeated=\"([0-9]+)\"")
_COLUMNS_REPEATED = re.compile(rb"number-columns-repeated=\"([0-9]+)\"")


def check_ods(data: bytes) -> None:
    """Check every table of an ODS file against MAX_CELLS, counting repeated rows and cells as
    the reader expands them, without building any grid."""
    archive = _open_zip(data)
    if "content.xml" not in archive.namelist():
        return
    # Read whole, as the reader reads it anyway; the budget still bounds it.
    content = b"".join(_unpacked_chunks(archive, "content.xml", [MAX_UNPACKED_BYTES], 0))
    rows = columns = 0  # the current table's extent
    row = 0  # rows so far in the current table
    repeat = 1  # how many times the current row repeats
    column = 0  # cells so far in the current row
    row_end = 0  # the column after the current row's last cell with something in it
    for match in _ODS_TOKEN.finditer(content):
        if match["table"]:
            check_area(rows, columns)
            rows = columns = row = 0
        elif match["row"] is not None:
            found = _ROWS_REPEATED.search(match["row"])
            repeat = int(found.group(1)) if found else 1
            column = row_end = 0
            if match["empty_row"]:
                row += repeat
        elif match["row_end"]:
            row += repeat
            if row_end:
                rows, columns = row, max(columns, row_end)
        else:
            found = _COLUMNS_REPEATED.search(match["cell"])
            column += int(found.group(1)) if found else 1
            if b"value-type" in match["cell"] or not match["empty_cell"]:
                row_end = column
                # A repeated row of repeated cells is refused before it ends.
                check_area(row + repeat, max(columns, row_end))
    check_area(rows, columns)


# the child process


def limits() -> tuple[int, float]:
    """The memory (bytes) and time (seconds) a workbook may take to read: the settings
    PERFPLAT_SPREADSHEET_MEMORY_BYTES and PERFPLAT_SPREADSHEET_SECONDS, when Django is set up."""
    from django.conf import settings

    if not settings.configured:
        return DEFAULT_MEMORY_BYTES, DEFAULT_SECONDS
    return (
        getattr(settings, "PERFPLAT_SPREADSHEET_MEMORY_BYTES", DEFAULT_MEMORY_BYTES),
        getattr(settings, "PERFPLAT_SPREADSHEET_SECONDS", DEFAULT_SECONDS),
    )


def run_bounded(function, *args, memory_bytes: int, seconds: float):
    """function(*args) in a child process limited to `memory_bytes` more memory than it starts
    with and `seconds` of time; returns its result or raises its PerfplatError. A child that
    dies (out of memory: the reader aborts rather than failing) or runs out of time is a
    PayloadTooLarge naming the limits."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return function(*args)
    context = multiprocessing.get_context("fork")
    receiving, sending = context.Pipe(duplex=False)
    child = context.Process(
        target=_child, args=(sending, function, args, memory_bytes, seconds), daemon=True
    )
    child.start()
    sending.close()
    try:
        if not receiving.poll(seconds):
            raise PayloadTooLarge(
                f"The spreadsheet could not be read within {seconds:g} seconds, the most "
                "perfplat spends on one: split the data into smaller files",
                field="file",
            )
        try:
            outcome, value = receiving.recv()
        except (EOFError, OSError):
            raise PayloadTooLarge(
                f"The spreadsheet could not be read within {memory_bytes // (1024 * 1024)} MB "
                "of memory, the most perfplat gives to one: delete any cells beyond your data, "
                "or split the data into smaller files",
                field="file",
            )
    finally:
        receiving.close()
        if child.is_alive():
            child.kill()
        child.join()
    if outcome == "ok":
        return value
    error_type, message, field = value
    raise error_type(message, field=field)


def _child(sending, function, args, memory_bytes: int, seconds: float) -> None:
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    limit = in_use + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    cpu = int(seconds) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    try:
        result = ("ok", function(*args))
    except PerfplatError as error:
        result = ("error", (type(error), error.message, error.field))
    except MemoryError:
        # Python ran out of its allotment: as if the reader had.
        sending.close()
        return
    sending.send(result)
    sending.close()
