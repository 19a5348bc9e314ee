"""`perfplat upload FILE --data-set GROUP/TYPE`: the command line's spreadsheet upload, through
the same services as the pages and the API. Uploads from here have no user in the history."""

import sys
from pathlib import Path

from perfplat.errors import InvalidRequest
from perfplat.ingest.mapping import row_error_text

from . import services
from .models import Upload

SHOWN_RECORDS = 5


class ProgressBar:
    """A plain-text progress bar redrawn in place on a stream (stderr)."""

    WIDTH = 30

    def __init__(self, stream):
        self.stream = stream
        self.drawn = False

    def update(self, percent: int, label: str) -> None:
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "." * (self.WIDTH - filled)
        self.stream.write(f"\r{label:<22} [{bar}] {percent:3d}%")
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def _read(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            # One byte past the limit is enough to say the file is too large.
            return file.read(services.max_upload_bytes() + 1)
    except FileNotFoundError:
        raise InvalidRequest(f"There is no file {path}")
    except IsADirectoryError:
        raise InvalidRequest(f"{path} is a folder, not a file")
    except PermissionError:
        raise InvalidRequest(f"{path} cannot be read: permission denied")


def upload_command(args) -> None:
    from perfplat.datasets.access import find_data_set

    group, _, data_type = args.data_set.partition("/")
    if not group or not data_type or "/" in data_type:
        raise InvalidRequest(f"--data-set must be GROUP/TYPE, not {args.data_set!r}")
    data_set = find_data_set(group, data_type)
    path = Path(args.file)
    content = _read(path)
    bar = ProgressBar(sys.stderr)
    try:
        upload = services.receive(
            data_set,
            content,
            path.name,
            sheet=args.sheet or "",
            mode=Upload.REPLACE if args.replace else Upload.APPEND,
            reason=args.reason,
            commit=not args.dry_run,
            background=False,
            on_progress=bar.update,
            size=path.stat().st_size,
        )
    finally:
        bar.finish()
    sheet = f" (sheet {upload.sheet})" if upload.sheet else ""
    rows = f"{upload.row_count} row{'s' if upload.row_count != 1 else ''}"
    if upload.error_count:
        for error in upload.errors:
            print(row_error_text(error))
        more = upload.error_count - len(upload.errors)
        if more:
            print(f"... and {more} more problems")
        problems = f"{upload.error_count} problem{'s' if upload.error_count != 1 else ''}"
        raise InvalidRequest(
            f"{problems} in {path.name}{sheet}: nothing was stored. Correct the file and "
            "upload it again."
        )
    if args.dry_run:
        print(f"Checked {rows} of {path.name}{sheet}: no problems found.")
        print(f"First records as they will be stored in {data_set}:")
        import orjson

        for row in upload.preview[:SHOWN_RECORDS]:
            print(f"  row {row['row']}: {orjson.dumps(row['record']).decode()}")
        print("Dry run: nothing was stored.")
        return
    verb = "Replaced the records of" if upload.mode == Upload.REPLACE else "Added to"
    print(
        f"{verb} {data_set}: {upload.stored_count} record"
        f"{'s' if upload.stored_count != 1 else ''} stored from {rows} of {path.name}{sheet} "
        f"(upload {upload.pk})."
    )
