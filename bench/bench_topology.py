"""(f) of `make bench`: the figures of the production topology issue (issue 18), server time
in-process (Django's test client through the whole middleware stack, as bench_pages.py).

  - the read API, the same query repeated on an unchanged data set (answered from the cache,
    keyed by the data set's version) against the first, cold one;
  - /services listing 1,000 public services, and a service dashboard (the demo's "Tax your
    vehicle", 8 modules), cold (empty cache); then again after every data set of those
    services has 10 times the records: KPI summaries kept on write would make both
    independent of the number of records;
  - with --big, on PostgreSQL only: a weekly group-by over 10 million records through the read
    API (cold) against the same SQL on a plain (timestamp, jsonb) table.

Run alone with `python bench/run.py --topology-only [--big] [--quick]`.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST_SERVICES = 1_000
READ_RECORDS = 50_000
BIG_RECORDS = 10_000_000
YEAR_START = 1704067200  # 2024-01-01T00:00:00Z, a Monday
YEAR_SPAN = 364 * 86400
READ_QUERY = (
    "period=week&group_by=channel&collect=count:sum"
    "&start_at=2024-01-01T00:00:00Z&end_at=2024-12-30T00:00:00Z"
)
GOALS_MS = {"repeat": 5.0, "list": 300.0, "dashboard": 30.0}


def _ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def _verdict(value: float, goal: float) -> str:
    return f"goal < {goal:g} ms: {'met' if value < goal else 'MISSED'}"


def _client_get(client, path: str):
    response = client.get(path, HTTP_ACCEPT="text/html")
    if response.status_code != 200:
        raise RuntimeError(f"{path}: {response.status_code} {response.content[:300]!r}")
    return response


def _timed(action) -> float:
    mark = time.perf_counter()
    action()
    return time.perf_counter() - mark


def bench_read_repeat(client, cache, runs: int, quick: bool) -> None:
    from perfplat.datasets.models import WriteBatch
    from perfplat.datasets.services import DataSetSettings, create_data_set
    from perfplat.datasets.writes import WriteSource, write_records

    count = READ_RECORDS // 10 if quick else READ_RECORDS
    data_set, _ = create_data_set(
        "bench-repeat", "events", settings=DataSetSettings(published=True)
    )
    step = YEAR_SPAN / count
    records = [
        {
            "_timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(YEAR_START + i * step)),
            "channel": ("digital", "phone", "paper", "face-to-face")[i % 4],
            "count": i % 500,
        }
        for i in range(count)
    ]
    for start in range(0, count, 10_000):
        write_records(data_set, records[start : start + 10_000], WriteSource(WriteBatch.API))
    path = f"/data/bench-repeat/events?{READ_QUERY}"
    cold, repeat = [], []
    for _ in range(runs):
        cache.clear()
        cold.append(_timed(lambda: _client_get(client, path)))
        repeat.extend(_timed(lambda: _client_get(client, path)) for _ in range(5))
    print(
        f"   read API over {count:,} records, weekly by channel: first {_ms(cold):7.1f} ms, "
        f"repeated {_ms(repeat):5.2f} ms ({_verdict(_ms(repeat), GOALS_MS['repeat'])})"
    )


def _cold_pages(client, cache, runs: int) -> dict[str, float]:
    from bench_pages import DASHBOARD, LIST

    result = {}
    for name, path in (("list", LIST), ("dashboard", DASHBOARD)):
        _client_get(client, path)
        times = []
        for _ in range(runs):
            cache.clear()
            times.append(_timed(lambda path=path: _client_get(client, path)))
        result[name] = _ms(times)
    return result


def _multiply_records(times: int) -> int:
    """Give every data set of the public services `times` as many records, through the write
    path: copies of each record an hour, two hours, ... later (so within the same month, and
    with ids of their own, as ids are made from the timestamp); returns the records now."""
    from perfplat.datasets.models import DataSet, Record, WriteBatch
    from perfplat.datasets.periods import format_timestamp
    from perfplat.datasets.writes import WriteSource, write_records
    from perfplat.registry.services import public_services

    source = WriteSource(WriteBatch.API)
    for data_set in DataSet.objects.filter(service__in=public_services()):
        rows = Record.objects.filter(data_set=data_set, timestamp__isnull=False)
        copies = [
            {**data, "_timestamp": format_timestamp(stamp + hours * 3600)}
            for stamp, data in rows.values_list("timestamp", "data")
            for hours in range(1, times)
        ]
        for start in range(0, len(copies), 20_000):
            write_records(data_set, copies[start : start + 20_000], source)
    return Record.objects.filter(data_set__service__in=public_services()).count()


def bench_pages_cold(client, cache, runs: int, quick: bool) -> None:
    from bench_pages import _generate_services

    from perfplat.datasets.models import Record
    from perfplat.demo import load_demo
    from perfplat.registry.services import public_services

    now = int(time.time())
    started = time.perf_counter()
    list(load_demo(now))
    services = 100 if quick else LIST_SERVICES
    _generate_services(services - public_services().count(), now)
    records = Record.objects.filter(data_set__service__in=public_services()).count()
    print(
        f"   {public_services().count()} public services, {records:,} records "
        f"(set up in {time.perf_counter() - started:.0f} s)"
    )
    before = _cold_pages(client, cache, runs)
    started = time.perf_counter()
    records_10x = _multiply_records(10)
    seconds = time.perf_counter() - started
    print(f"   then 10x: {records_10x:,} records (written in {seconds:.0f} s)")
    after = _cold_pages(client, cache, runs)
    for name, label in (("list", f"/services ({services})"), ("dashboard", "dashboard")):
        print(
            f"   {label:<17} cold {before[name]:8.1f} ms, with 10x records {after[name]:8.1f} ms"
            f" ({after[name] / before[name]:.2f}x; {_verdict(before[name], GOALS_MS[name])})"
        )


BIG_SQL = """
INSERT INTO {table}
SELECT {columns}
FROM (
    SELECT i, {start} + (i * {span}::bigint / {count}) AS t,
           (ARRAY['digital', 'phone', 'paper', 'face-to-face'])[i % 4 + 1] AS channel,
           (i * 7919) % 500 + 1 AS n
    FROM generate_series(0::bigint, {count} - 1) AS i
) AS g
"""
RECORD_COLUMNS = """
    {data_set}, 'big-' || i, t, t - t % 3600, t - t % 86400,
    t - t % 86400 - ((t / 86400 + 3) % 7) * 86400,
    extract(epoch FROM date_trunc('month', to_timestamp(t) AT TIME ZONE 'UTC'))::bigint,
    extract(epoch FROM date_trunc('quarter', to_timestamp(t) AT TIME ZONE 'UTC'))::bigint,
    extract(epoch FROM date_trunc('year', to_timestamp(t) AT TIME ZONE 'UTC'))::bigint,
    {now}, jsonb_build_object('channel', channel, 'count', n), NULL
"""
PLAIN_COLUMNS = """
    to_timestamp(t),
    jsonb_build_object('_timestamp', to_char(to_timestamp(t) AT TIME ZONE 'UTC',
                       'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'channel', channel, 'count', n)
"""


def bench_big(client, cache, runs: int) -> None:
    """10 million records made in SQL (the same rows the write path would store: period
    starts, JSON fields) in datasets_record and in a plain table; one query timed on each."""
    from django.db import connection
    from run import POSTGRES_BASELINE

    from perfplat.datasets.models import DataSet
    from perfplat.datasets.services import DataSetSettings, create_data_set

    data_set, _ = create_data_set("bench-big", "events", settings=DataSetSettings(published=True))
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            BIG_SQL.format(
                table="datasets_record (data_set_id, record_id, timestamp, hour_start, "
                "day_start, week_start, month_start, quarter_start, year_start, updated_at, "
                "data, batch_id)",
                columns=RECORD_COLUMNS.format(data_set=data_set.pk, now=int(time.time())),
                start=YEAR_START,
                span=YEAR_SPAN,
                count=BIG_RECORDS,
            )
        )
        cursor.execute("CREATE TABLE plain_records (ts timestamptz NOT NULL, doc jsonb NOT NULL)")
        cursor.execute(
            BIG_SQL.format(
                table="plain_records",
                columns=PLAIN_COLUMNS,
                start=YEAR_START,
                span=YEAR_SPAN,
                count=BIG_RECORDS,
            )
        )
        cursor.execute("CREATE INDEX plain_ts ON plain_records (ts)")
        cursor.execute("ANALYZE datasets_record")
        cursor.execute("ANALYZE plain_records")
    # What the write path would have recorded of the fields' types.
    DataSet.objects.filter(pk=data_set.pk).update(
        field_types={"channel": ["string"], "count": ["number"]}, version=1
    )
    print(f"   {BIG_RECORDS:,} records made in SQL in {time.perf_counter() - started:.0f} s")
    path = f"/data/bench-big/events?{READ_QUERY}"
    api, plain = [], []
    for _ in range(runs):
        cache.clear()
        api.append(_timed(lambda: _client_get(client, path)))
        with connection.cursor() as cursor:
            plain.append(_timed(lambda: cursor.execute(POSTGRES_BASELINE) or cursor.fetchall()))
    print(
        f"   weekly group-by over {BIG_RECORDS:,} records: read API (cold) {_ms(api):8.0f} ms, "
        f"plain table {_ms(plain):8.0f} ms, ratio {_ms(api) / _ms(plain):.2f} (goal <= 1.0)"
    )


def bench_topology(label: str, runs: int, quick: bool, big: bool) -> None:
    """Runs in a process of its own, whose DATABASE_URL is the (empty) database to measure."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from perfplat.public import caching

    call_command("migrate", verbosity=0)
    client, cache = Client(), caching.cache()
    print(f"\n== Topology figures on {label}: in-process server time, median of {runs} runs")
    bench_read_repeat(client, cache, runs, quick)
    if big:
        bench_big(client, cache, min(runs, 3))
        return
    bench_pages_cold(client, cache, runs, quick)
    sys.stdout.flush()


def run_topology(runs: int, quick: bool, big: bool) -> None:
    """(f) on SQLite, then PostgreSQL (--big: PostgreSQL only), each in a process of its own."""
    child = [sys.executable, __file__, "--runs", str(runs)] + (["--quick"] if quick else [])
    if big:
        child.append("--big")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/topology.sqlite3"}
            status = subprocess.run([*child, "--label", "SQLite"], env=env).returncode
            if status:
                sys.exit(status)
    command = [str(ROOT / "scripts" / "with-postgres"), *child, "--label", "PostgreSQL"]
    status = subprocess.run(command).returncode
    if status == 97:
        print("\n== Topology figures on PostgreSQL: not installed, skipped")
    elif status:
        sys.exit(status)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="(internal) the topology benchmark")
    parser.add_argument("--label", default="SQLite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--big", action="store_true")
    arguments = parser.parse_args()
    bench_topology(arguments.label, arguments.runs, arguments.quick, arguments.big)
