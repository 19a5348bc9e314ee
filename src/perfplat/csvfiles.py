"""CSV as every download of the platform writes it (the read API's format=csv, the public pages'
.csv twins, the KPI API): one writer, so every cell is neutralised the same way.

A spreadsheet opening a CSV runs a cell that begins with `=`, `+`, `-` or `@` as a formula
(and some also after a leading tab or carriage return), so a service named
`=HYPERLINK(...)` would become a link, or worse, on the reader's machine. As OWASP advises,
such text gets a leading `'`, which spreadsheets show as text. Numbers stay numbers: a number
value, or text that is only a number (`-12.5`, as pages format figures), is written as it is,
since a number cannot run anything.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def safe_cell(value):
    """The cell as it may be written to a CSV file: text that a spreadsheet would take for a
    formula gets a leading `'`; anything else is unchanged."""
    if (
        type(value) is str
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class _Writer:
    def __init__(self, out):
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable) -> None:
        self._writer.writerow([safe_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out) -> _Writer:
    """A csv.writer (CRLF line ends) whose cells pass through `safe_cell`."""
    return _Writer(out)


def csv_text(rows: Iterable[Iterable]) -> str:
    """Rows as CSV text; None is an empty cell."""
    out = io.StringIO()
    writer(out).writerows(["" if cell is None else cell for cell in row] for row in rows)
    return out.getvalue()


def stream(rows: Iterable[Iterable], rows_per_chunk: int = 500) -> Iterator[bytes]:
    """Rows as CSV in UTF-8 chunks of a few hundred rows: memory for one chunk, whatever the
    number of rows."""
    out = io.StringIO()
    write = writer(out).writerow
    count = 0
    for row in rows:
        write(row)
        count += 1
        if count == rows_per_chunk:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
            count = 0
    if out.tell():
        yield out.getvalue().encode()
