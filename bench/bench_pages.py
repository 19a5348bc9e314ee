"""(e) of `make bench`: the server time of the public pages, cold (empty cache) and warm.

Measured in-process: each request goes through Django's whole stack (middleware, URL routing,
the view, the cache, the database, template rendering) with Django's test client, but not
through gunicorn or a socket, so the figures are the server's own time. Two pages:

  - a service dashboard with 8 modules (the demo's "Tax your vehicle": a year of weekly data);
  - /services listing 500 public services (the 12 demo services and 488 generated ones, each
    with 13 months of data for all four KPIs and a published dashboard).

Cold: the cache is emptied before the request, so every query of the read pipeline runs.
Warm: the same request again, served from cached query results (data set versions unchanged).
Each figure is the median of several runs; the goal is under 50 ms warm.

Run on its own with `python bench/run.py --pages-only`, or as part of `make bench` (SQLite, then
a throwaway PostgreSQL cluster, each in a process of its own).
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVICES = 500
GOAL_MS = 50.0
DASHBOARD = "/services/vehicle-tax"
LIST = "/services"


def _generate_services(count: int, now: int) -> None:
    """`count` more public services, spread over 20 new departments, each with 13 months of
    data for the four KPIs, written through the write path, and a published dashboard."""
    import random

    from perfplat.dashboards.services import publish_directly
    from perfplat.datasets.models import WriteBatch
    from perfplat.datasets.periods import add_periods, format_timestamp, period_start
    from perfplat.datasets.services import DataSetSettings, create_data_set
    from perfplat.datasets.writes import WriteSource, write_records
    from perfplat.registry.services import create_organisation, create_service

    rng = random.Random(500)
    last = add_periods("month", period_start("month", now), -1)
    months = [format_timestamp(add_periods("month", last, -i)) for i in range(12, -1, -1)]
    departments = [
        create_organisation(None, slug=f"bench-department-{n}", name=f"Bench department {n}")
        for n in range(20)
    ]
    phases = ["alpha", "beta", "live", "live", "retired"]
    source = WriteSource(WriteBatch.API)
    for n in range(count):
        service = create_service(
            None,
            slug=f"bench-service-{n}",
            name=f"Bench service {n:03d}",
            organisation=departments[n % len(departments)],
            phase=phases[n % len(phases)],
            audience="People who use bench services",
        )
        volume = rng.randrange(1_000, 200_000)
        digital = rng.uniform(0.3, 0.98)

        def make(data_type, records, service=service):
            data_set, _ = create_data_set(
                None,
                data_type,
                service=service,
                settings=DataSetSettings(standard_type=data_type, published=True),
            )
            write_records(data_set, records, source)

        make(
            "transactions-by-channel",
            [
                {"_timestamp": m, "period": "month", "channel": c, "count": round(volume * s)}
                for m in months
                for c, s in (("digital", digital), ("phone", 1 - digital))
            ],
        )
        make(
            "cost",
            [
                {"_timestamp": m, "period": "month", "channel": "all", "amount": volume * 2.5}
                for m in months
            ],
        )
        make(
            "user-satisfaction",
            [
                {"_timestamp": m, "period": "month"}
                | {f"rating_{r}": rng.randrange(5, 200) for r in range(1, 6)}
                for m in months
            ],
        )
        make(
            "completion",
            [
                {"_timestamp": m, "period": "month", "started": volume, "completed": volume // 2}
                for m in months
            ],
        )
        publish_directly(service)


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def bench_pages(label: str, runs: int, quick: bool) -> None:
    """Runs in a process of its own, whose DATABASE_URL is the (empty) database to measure."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "perfplat.settings")
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from perfplat.demo import load_demo
    from perfplat.public import caching
    from perfplat.registry.services import public_services

    call_command("migrate", verbosity=0)
    now = int(time.time())
    started = time.perf_counter()
    list(load_demo(now))
    services = 100 if quick else SERVICES
    _generate_services(services - public_services().count(), now)
    setup = time.perf_counter() - started
    client = Client()
    cache = caching.cache()

    def get(path):
        response = client.get(path, HTTP_ACCEPT="text/html")
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code}")
        return response

    modules = get(DASHBOARD).content.decode().count('class="app-module"')
    listed = get(LIST).content.decode().count('<tr class="govuk-table__row">') - 1
    print(
        f"\n== Public pages on {label}: in-process (Django test client, whole middleware "
        f"stack, no HTTP), median of {runs} runs"
    )
    print(
        f"   data: {public_services().count()} public services (set up in {setup:.0f} s); "
        f"the dashboard shows {modules} modules after its KPI tiles, /services lists {listed}"
    )
    for name, path in (("service dashboard", DASHBOARD), (f"/services ({listed})", LIST)):
        cold, warm = [], []
        for _ in range(runs):
            cache.clear()
            mark = time.perf_counter()
            get(path)
            cold.append(time.perf_counter() - mark)
            for _ in range(3):
                mark = time.perf_counter()
                get(path)
                warm.append(time.perf_counter() - mark)
        verdict = "met" if _median_ms(warm) < GOAL_MS else "MISSED"
        print(
            f"   {name:<20} cold {_median_ms(cold):7.1f} ms   warm {_median_ms(warm):6.1f} ms"
            f"   (goal < {GOAL_MS:g} ms warm: {verdict})"
        )
    sys.stdout.flush()


def run_pages(runs: int, quick: bool) -> None:
    """(e) on SQLite, then on PostgreSQL, each in a process of its own with a fresh database."""
    child = [sys.executable, __file__, "--runs", str(runs)] + (["--quick"] if quick else [])
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp}/pages.sqlite3"}
        status = subprocess.run([*child, "--label", "SQLite"], env=env).returncode
        if status:
            sys.exit(status)
    command = [str(ROOT / "scripts" / "with-postgres"), *child, "--label", "PostgreSQL"]
    status = subprocess.run(command).returncode
    if status == 97:
        print("\n== Public pages on PostgreSQL: not installed, skipped")
    elif status:
        sys.exit(status)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="(internal) the public pages benchmark")
    parser.add_argument("--label", default="SQLite")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    bench_pages(arguments.label, arguments.runs, arguments.quick)
