"""`make bench`: perfplat's numbers, measured over HTTP against a running server.

  (a) write throughput: batches of 1,000 records POSTed to /data/<group>/<type>, records/s;
      and to a published data set with auto_ids, where replacing writes are looked for
      (corrections): new records, the same sent again, sent again with other values;
  (b) a period=week&group_by=channel&collect=count:sum query over 200,000 records (one year)
      through the read API, against the same query in SQL on a plain table of
      (timestamp, JSON document) rows with an index on the timestamp; both times and the ratio;
  (c) the same on PostgreSQL (a throwaway cluster started by scripts/with-postgres);
  (d) spreadsheet uploads: a generated 100,000-row XLSX and CSV of transactions by channel,
      each uploaded and committed end to end (parse -> convert -> validate -> store, the path
      of the pages, the API and `perfplat upload`), on SQLite and on PostgreSQL;
  (e) the public pages (bench_pages.py): a service dashboard with 8 modules and /services
      listing 500 services, server time cold and warm, in-process, on SQLite and PostgreSQL;
  (f) the journey beacon (bench_beacon.py): sustained events per second over HTTP with 4
      workers and their p99 latency, on SQLite and PostgreSQL, and the counts stored after a
      graceful stop checked against the events sent.
  (g) the topology figures (bench_topology.py): a repeated read API query, /services with
      1,000 services and a dashboard cold, and again with 10x the records; with --big, a
      weekly group-by over 10 million records on PostgreSQL against a plain table.

Every figure is the median of several runs. Run as `python bench/run.py [--quick]`, or
`python bench/run.py --uploads-only` for (d) alone, `--pages-only` for (e) alone,
`--beacon-only` for (f) alone.
"""

import argparse
import http.client
import itertools
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
from bench_beacon import run_beacon
from bench_pages import run_pages
from bench_topology import run_topology

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
YEAR_START = 1704067200  # 2024-01-01T00:00:00Z, a Monday
CHANNELS = ("digital", "phone", "paper", "face-to-face")
READ_QUERY = (
    "period=week&group_by=channel&collect=count:sum"
    "&start_at=2024-01-01T00:00:00Z&end_at=2024-12-30T00:00:00Z"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`perfplat serve` on a free port, with its own database."""

    def __init__(self, database_url: str, workers: int, serve_options=()):
        self.port = free_port()
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "ERROR",
            # Production settings (DEBUG off), as `perfplat serve` requires.
            "SECRET_KEY": "bench-" + os.urandom(24).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        self.workers = workers
        self.serve_options = list(serve_options)

    def perfplat(self, *args, capture=False):
        return subprocess.run(
            [str(BIN / "perfplat"), *args],
            env=self.env,
            check=True,
            capture_output=capture,
            text=True,
        )

    def __enter__(self):
        self.perfplat("migrate", "--verbosity", "0")
        self.process = subprocess.Popen(
            [
                str(BIN / "perfplat"),
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                *self.serve_options,
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                status, _ = self.request("GET", "/_status")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(10)

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def create_data_set(self, group, data_type, *options) -> str:
        result = self.perfplat("datasets", "create", group, data_type, *options, capture=True)
        return result.stdout.strip().splitlines()[-1]


def make_records(count: int, seed: int, start: int = YEAR_START, span: int = 364 * 86400):
    rng = random.Random(seed)
    step = span / count
    return [
        {
            "_timestamp": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + int(i * step) + rng.randrange(60))
            ),
            "channel": rng.choice(CHANNELS),
            "count": rng.randrange(1, 500),
            "region": rng.choice(("north", "south", "east", "west")),
        }
        for i in range(count)
    ]


def post_batches(server: Server, path: str, token: str, batches: list[bytes], concurrency: int):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def send(batch):
        status, body = server.request("POST", path, batch, headers)
        if status != 200:
            raise RuntimeError(f"write failed: {status} {body[:200]!r}")

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, batches))


def bench_writes(server: Server, runs: int, batches_per_run: int, concurrency: int) -> float:
    rates = []
    for run in range(runs):
        token = server.create_data_set(f"bench-write-{run}", "events")
        bodies = [
            orjson.dumps(make_records(1000, seed=run * 1000 + i)) for i in range(batches_per_run)
        ]
        started = time.perf_counter()
        post_batches(server, f"/data/bench-write-{run}/events", token, bodies, concurrency)
        elapsed = time.perf_counter() - started
        rates.append(batches_per_run * 1000 / elapsed)
    return statistics.median(rates)


def bench_replacing_writes(
    server: Server, runs: int, batches_per_run: int, concurrency: int
) -> tuple[float, float, float]:
    """Writes to a published data set with auto_ids, where a write that replaces a stored
    record may be a correction: records/s for new records, for the same records sent again
    (replaced, unchanged: no correction) and for them sent with changed counts (every record a
    correction)."""
    rates: dict[str, list[float]] = {"new": [], "same": [], "changed": []}
    for run in range(runs):
        group = f"bench-replace-{run}"
        token = server.create_data_set(
            group, "events", "--published", "--auto-ids", "_timestamp,channel,region"
        )
        batches = [make_records(1000, seed=run * 1000 + i) for i in range(batches_per_run)]
        changed = [[{**r, "count": r["count"] + 1} for r in batch] for batch in batches]
        for label, sent in (("new", batches), ("same", batches), ("changed", changed)):
            bodies = [orjson.dumps(batch) for batch in sent]
            started = time.perf_counter()
            post_batches(server, f"/data/{group}/events", token, bodies, concurrency)
            rates[label].append(batches_per_run * 1000 / (time.perf_counter() - started))
    return tuple(statistics.median(rates[label]) for label in ("new", "same", "changed"))


def load_read_data(server: Server, records: list[dict]) -> None:
    token = server.create_data_set("bench-read", "events", "--published")
    bodies = [orjson.dumps(records[i : i + 5000]) for i in range(0, len(records), 5000)]
    post_batches(server, "/data/bench-read/events", token, bodies, 2)


def median_time(action, runs: int) -> float:
    action()  # warm up: the first run pays for cold caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# The read API keeps its answers by data set version and query; (b) measures the query itself, so
# each request asks a new limit, one that cuts nothing (four channels), and misses the cache.
_cache_misses = itertools.count(100)


def read_over_http(server: Server) -> list:
    path = f"/data/bench-read/events?{READ_QUERY}&limit={next(_cache_misses)}"
    status, body = server.request("GET", path)
    if status != 200:
        raise RuntimeError(f"read failed: {status} {body[:300]!r}")
    return orjson.loads(body)["data"]


# The plain baseline: one row per record, (timestamp, JSON document), an index on the timestamp.

SQLITE_BASELINE = """
SELECT date(ts, '-6 days', 'weekday 1') AS week, json_extract(doc, '$.channel') AS channel,
       count(*), sum(json_extract(doc, '$.count'))
FROM plain_records
WHERE ts >= '2024-01-01T00:00:00' AND ts < '2024-12-30T00:00:00'
  AND json_extract(doc, '$.channel') IS NOT NULL
GROUP BY week, channel
"""

POSTGRES_BASELINE = """
SELECT date_trunc('week', ts) AS week, doc ->> 'channel' AS channel,
       count(*), sum((doc ->> 'count')::numeric)
FROM plain_records
WHERE ts >= '2024-01-01T00:00:00Z' AND ts < '2024-12-30T00:00:00Z'
  AND doc ->> 'channel' IS NOT NULL
GROUP BY week, channel
"""


def sqlite_baseline(records: list[dict], runs: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "plain.sqlite3")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE plain_records (ts TEXT NOT NULL, doc TEXT NOT NULL)")
        db.executemany(
            "INSERT INTO plain_records VALUES (?, ?)",
            [(r["_timestamp"].replace("Z", ""), orjson.dumps(r).decode()) for r in records],
        )
        db.execute("CREATE INDEX plain_ts ON plain_records (ts)")
        db.commit()
        rows = db.execute(SQLITE_BASELINE).fetchall()
        seconds = median_time(lambda: db.execute(SQLITE_BASELINE).fetchall(), runs)
        db.close()
    return seconds, len(rows)


def postgres_baseline(database_url: str, records: list[dict], runs: int) -> tuple[float, int]:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS plain_records")
        db.execute("CREATE TABLE plain_records (ts timestamptz NOT NULL, doc jsonb NOT NULL)")
        with db.cursor().copy("COPY plain_records (ts, doc) FROM STDIN") as copy:
            for record in records:
                copy.write_row((record["_timestamp"], orjson.dumps(record).decode()))
        db.execute("CREATE INDEX plain_ts ON plain_records (ts)")
        db.execute("ANALYZE plain_records")
        rows = db.execute(POSTGRES_BASELINE).fetchall()
        seconds = median_time(lambda: db.execute(POSTGRES_BASELINE).fetchall(), runs)
        db.execute("DROP TABLE plain_records")
    return seconds, len(rows)


def analyse(server: Server, database_url: str) -> None:
    if database_url.startswith("postgres"):
        import psycopg

        with psycopg.connect(database_url, autocommit=True) as db:
            db.execute("ANALYZE")


def run_database(label: str, database_url: str, args) -> dict:
    record_count = 20_000 if args.quick else 200_000
    runs = 3 if args.quick else args.runs
    with Server(database_url, args.workers) as server:
        writes = bench_writes(
            server,
            runs=runs,
            batches_per_run=20 if args.quick else 60,
            concurrency=args.concurrency,
        )
        replacing = bench_replacing_writes(
            server,
            runs=runs,
            batches_per_run=10 if args.quick else 30,
            concurrency=args.concurrency,
        )
        records = make_records(record_count, seed=42)
        load_read_data(server, records)
        analyse(server, database_url)
        result = read_over_http(server)
        groups = sum(1 for period in result for _ in period["values"])
        api_seconds = median_time(lambda: read_over_http(server), runs)
    if label == "SQLite":
        base_seconds, base_rows = sqlite_baseline(records, runs)
    else:
        base_seconds, base_rows = postgres_baseline(database_url, records, runs)
    return {
        "database": label,
        "records/s written": writes,
        "replacing writes": replacing,
        "records read": record_count,
        "read API (ms)": api_seconds * 1000,
        "plain SQL (ms)": base_seconds * 1000,
        "ratio": api_seconds / base_seconds,
        "rows": (groups, base_rows),
    }


def print_result(result: dict) -> None:
    print(f"\n== {result['database']}")
    print(
        f"(a) write throughput, batches of 1,000 over HTTP: "
        f"{result['records/s written']:,.0f} records/s (goal >= 30,000)"
    )
    new, same, changed = result["replacing writes"]
    print(
        f"    published data set with auto_ids: new records {new:,.0f}/s, the same sent again "
        f"{same:,.0f}/s, sent again changed (corrections) {changed:,.0f}/s"
    )
    print(
        f"(b) period=week&group_by=channel&collect=count:sum over {result['records read']:,} "
        f"records:"
    )
    print(f"    read API over HTTP   {result['read API (ms)']:8.1f} ms (median)")
    print(f"    plain table in SQL   {result['plain SQL (ms)']:8.1f} ms (median)")
    print(f"    ratio                {result['ratio']:8.2f}   (goal <= 1.2)")
    api_rows, sql_rows = result["rows"]
    print(f"    result rows: {api_rows} (API, weeks x channels) vs {sql_rows} (plain SQL)")
    sys.stdout.flush()


# (d) spreadsheet uploads, in-process through perfplat.uploads.services

UPLOAD_ROWS = 100_000
UPLOAD_GOAL_SECONDS = 5.0
UPLOAD_HEADER = ["Week starting", "Period", "Channel", "Count"]


def upload_rows(count: int) -> list[list]:
    """Weekly transactions by channel, four channels a week, as a team's spreadsheet has them."""
    from datetime import date, timedelta

    rng = random.Random(7)
    first = date(1990, 1, 1)  # a Monday: 100,000 rows are 25,000 weeks
    channels = CHANNELS
    return [
        [first + timedelta(weeks=i // 4), "week", channels[i % 4], rng.randrange(0, 250_000)]
        for i in range(count)
    ]


def upload_xlsx(rows: list[list]) -> bytes:
    import io

    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True})
    sheet = workbook.add_worksheet("Transactions")
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, UPLOAD_HEADER)
    write_datetime, write_string, write_number = (
        sheet.write_datetime,
        sheet.write_string,
        sheet.write_number,
    )
    for r, (day, period, channel, count) in enumerate(rows, start=1):
        write_datetime(r, 0, day, date_format)
        write_string(r, 1, period)
        write_string(r, 2, channel)
        write_number(r, 3, count)
    workbook.close()
    return buffer.getvalue()


def upload_csv(rows: list[list]) -> bytes:
    # UK dates and thousands separators, as a spreadsheet saves them.
    lines = [",".join(UPLOAD_HEADER)]
    lines.extend(
        f'{day:%d/%m/%Y},{period},{channel},"{count:,}"' for day, period, channel, count in rows
    )
    return ("\r\n".join(lines) + "\r\n").encode()


def bench_uploads(label: str, args) -> None:
    """Runs in a process of its own, whose DATABASE_URL is the database to measure."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    from django.core.management import call_command

    from perfplat.datasets import writes
    from perfplat.datasets.services import DataSetSettings, create_data_set
    from perfplat.ingest import parsing, pipeline
    from perfplat.uploads import mappings, services

    call_command("migrate", verbosity=0)
    count = 10_000 if args.quick else UPLOAD_ROWS
    runs = 1 if args.quick else min(args.runs, 3)
    rows = upload_rows(count)
    csv_data = upload_csv(rows)
    typed = DataSetSettings(standard_type="transactions-by-channel")
    # A free-form data set: its fields are proposed from the file (count: whole number).
    free_form = DataSetSettings(auto_ids=("_timestamp", "period", "channel"))
    files = [
        ("XLSX", upload_xlsx(rows), typed),
        ("CSV", csv_data, typed),
        ("CSV into a free-form data set", csv_data, free_form),
    ]
    made = 0

    def fresh_data_set(settings):
        nonlocal made
        made += 1
        return create_data_set("bench-upload", f"transactions-{made}", settings=settings)[0]

    print(f"\n== Spreadsheet uploads on {label}: {count:,} rows of transactions by channel")
    for kind, data, settings in files:
        name = f"transactions.{kind.split()[0].lower()}"
        times = []
        for _ in range(runs + 1):  # the first run warms up
            data_set = fresh_data_set(settings)
            started = time.perf_counter()
            upload = services.receive(data_set, data, name, commit=True, background=False)
            times.append(time.perf_counter() - started)
            if upload.status != "committed" or upload.stored_count != count:
                raise RuntimeError(f"{kind} upload failed: {upload.status} {upload.errors[:3]}")
            data_set.refresh_from_db()
            if data_set.field_types.get("count") != ["number"]:
                raise RuntimeError(f"{kind} upload stored counts as {data_set.field_types}")
        seconds = statistics.median(times[1:])
        # Where the time goes, stage by stage, in one more run.
        data_set = fresh_data_set(settings)
        stages = []
        mark = time.perf_counter()
        table = parsing.read_table(data)
        stages.append(("parse", time.perf_counter() - mark))
        mark = time.perf_counter()
        mapping = mappings.mapping_for(data_set, table.headers)
        converted, proposals = pipeline.read_records(data_set, table, mapping)
        stages.append(("convert", time.perf_counter() - mark))
        mark = time.perf_counter()
        checked = pipeline.check_records(data_set, table, mapping, converted, proposals)
        stages.append(("validate", time.perf_counter() - mark))
        mark = time.perf_counter()
        checked.store(data_set, writes.WriteSource(kind="upload"))
        stages.append(("store", time.perf_counter() - mark))
        verdict = "met" if seconds < UPLOAD_GOAL_SECONDS else "MISSED"
        print(
            f"    {kind:<5} {len(data) / 1024 / 1024:5.1f} MB  upload and commit "
            f"{seconds:6.2f} s (median of {runs}; goal < {UPLOAD_GOAL_SECONDS:g} s: {verdict})"
        )
        print("          " + ", ".join(f"{stage} {t:.2f} s" for stage, t in stages))
    sys.stdout.flush()


def run_uploads(args) -> None:
    """(d) on SQLite, then on PostgreSQL, each in a process of its own."""
    child = [sys.executable, __file__, "--uploads-child"]
    if args.quick:
        child.append("--quick")
    child += ["--runs", str(args.runs)]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/uploads.sqlite3"}
        status = subprocess.run([*child, "--uploads-label", "SQLite"], env=env).returncode
        if status:
            sys.exit(status)
    command = [str(ROOT / "scripts" / "with-postgres"), *child, "--uploads-label", "PostgreSQL"]
    status = subprocess.run(command).returncode
    if status == 97:
        print("\n== Spreadsheet uploads on PostgreSQL: not installed, skipped")
    elif status:
        sys.exit(status)


def run_beacons(args) -> None:
    """(f) on SQLite, then on PostgreSQL (a throwaway cluster, in a process of its own)."""
    with tempfile.TemporaryDirectory() as tmp:
        run_beacon(Server, "SQLite", f"sqlite:///{tmp}/beacon.sqlite3", args)
    child = [sys.executable, __file__, "--beacon-child", "--beacon-workers"]
    child += [str(args.beacon_workers), "--beacon-clients", str(args.beacon_clients)]
    if args.quick:
        child.append("--quick")
    status = subprocess.run([str(ROOT / "scripts" / "with-postgres"), *child]).returncode
    if status == 97:
        print("\n== Journey beacon on PostgreSQL: not installed, skipped")
    elif status:
        sys.exit(status)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, for a smoke run")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--postgres-only", action="store_true", help="(internal) run the PostgreSQL part"
    )
    parser.add_argument(
        "--uploads-only", action="store_true", help="only (d): the spreadsheet uploads"
    )
    parser.add_argument("--pages-only", action="store_true", help="only (e): the public pages")
    parser.add_argument("--beacon-only", action="store_true", help="only (f): the journey beacon")
    parser.add_argument("--beacon-workers", type=int, default=4)
    parser.add_argument(
        "--beacon-clients", type=int, default=6, help="client processes sending events"
    )
    parser.add_argument("--beacon-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--topology-only", action="store_true", help="only (g): topology")
    parser.add_argument("--big", action="store_true", help="(g) over 10 million records")
    parser.add_argument("--uploads-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--uploads-label", default="SQLite", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.uploads_child:
        bench_uploads(args.uploads_label, args)
        return
    print(f"perfplat benchmark on {os.cpu_count()} cores, {args.workers} server workers")
    if args.uploads_only:
        run_uploads(args)
        return
    if args.pages_only:
        run_pages(args.runs, args.quick)
        return
    if args.beacon_child:
        run_beacon(Server, "PostgreSQL", os.environ["DATABASE_URL"], args)
        return
    if args.beacon_only:
        run_beacons(args)
        return
    if args.topology_only:
        run_topology(args.runs, args.quick, args.big)
        return
    if not args.postgres_only:
        with tempfile.TemporaryDirectory() as tmp:
            print_result(run_database("SQLite", f"sqlite:///{tmp}/bench.sqlite3", args))
        command = [
            str(ROOT / "scripts" / "with-postgres"),
            sys.executable,
            __file__,
            "--postgres-only",
            *sys.argv[1:],
        ]
        status = subprocess.run(command).returncode
        if status == 97:
            print("\n== PostgreSQL: not installed, skipped (apt-get install -y postgresql)")
        elif status:
            sys.exit(status)
        # (d), its own section after the others.
        run_uploads(args)
        # (e), the public pages.
        run_pages(args.runs, args.quick)
        # (f), the journey beacon.
        run_beacons(args)
        # (g), the topology figures.
        run_topology(args.runs, args.quick, args.big)
        return
    print_result(run_database("PostgreSQL", os.environ["DATABASE_URL"], args))


if __name__ == "__main__":
    main()
