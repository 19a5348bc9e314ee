"""`make loadtest`: locust, headless and bounded in time, against the cluster on loopback.

    python loadtest/run.py [--users 200] [--seconds 60] [--writers 5] [--batch 1000]
                           [--services 200]

Uses the running cluster (`make cluster`) or starts one for the run (and stops it after). The
first run on a cluster seeds it (loadtest/seed.py: the demo and more public services, and data
sets for the writers), then the pages are opened once, so the figures are those of a platform
that is already running. Prints, per endpoint, the requests, failures, throughput and
p50/p95/p99; the pages' percentiles together; the records written per second; and the CPU each
part of the topology used (cores busy on average), which says what saturates first.
"""

import argparse
import csv
import os
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "deploy"))
from cluster import POINTER, Cluster  # noqa: E402 - deploy/ is not a package

TICKS = os.sysconf("SC_CLK_TCK")


def processes() -> dict[int, tuple[int, int, float]]:
    """Every process: pid -> (parent pid, session id, CPU seconds used)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, session, ..., utime (12th), stime (13th).
        found[int(entry.name)] = (
            int(fields[1]),
            int(fields[3]),
            (int(fields[11]) + int(fields[12])) / TICKS,
        )
    return found


def component_of(cluster: Cluster, locust_pid: int, table: dict) -> dict[int, str]:
    """Which part of the topology each process is: by session for what the cluster started,
    by descent from the postmaster for PostgreSQL (its backends come and go) and from locust."""
    sessions = {}
    for name, pid in cluster.state["pids"].items():
        kind = name.split("_")[0]
        sessions[pid] = {"app": "app servers (gunicorn)", "worker": "workers"}.get(kind, name)
    roots = {locust_pid: "locust (load generator)"}
    for data, label in (("pg-primary", "PostgreSQL primary"), ("pg-replica", "PostgreSQL replica")):
        pid_file = cluster.dir / data / "postmaster.pid"
        if pid_file.exists():
            roots[int(pid_file.read_text().split()[0])] = label
    found = {}
    for pid, (parent, session, _) in table.items():
        if session in sessions:
            found[pid] = sessions[session]
        elif pid in roots or parent in roots:
            found[pid] = roots.get(pid) or roots[parent]
    return found


class CpuSampler:
    """CPU seconds each part of the topology uses while it runs, sampled every second (so
    processes that start or end meanwhile, such as PostgreSQL backends, count too)."""

    def __init__(self, cluster: Cluster, locust_pid: int):
        self.cluster, self.locust_pid = cluster, locust_pid
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.sample(first=True)

    def sample(self, first: bool = False) -> None:
        table = processes()
        for pid, part in component_of(self.cluster, self.locust_pid, table).items():
            used = table[pid][2]
            if first:
                self.first[pid] = used
            self.last[pid] = (part, used)

    def used(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for pid, (part, used) in self.last.items():
            totals[part] = totals.get(part, 0.0) + used - self.first.get(pid, 0.0)
        return totals


def seed(cluster: Cluster, services: int, writers: int) -> Path:
    seed_file = cluster.dir / "loadtest-seed.json"
    if not seed_file.exists():
        started = time.monotonic()
        output = cluster.run(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                str(ROOT / "loadtest" / "seed.py"),
                str(services),
                str(writers),
            ],
            env=cluster.env,
        )
        seed_file.write_text(output.strip().splitlines()[-1])
        print(f"seeded in {time.monotonic() - started:.0f} s")
    return seed_file


def warm_up(cluster: Cluster, seed_data: dict) -> None:
    """Open every page once, as visitors before the test would have."""
    context = ssl.create_default_context(cafile=str(cluster.dir / "tls" / "certificate.pem"))
    paths = ["/", "/services", "/services.csv"]
    paths += [f"/services/{slug}" for slug in seed_data["services"]]
    paths += [f"/organisations/{slug}" for slug in seed_data["organisations"]]
    for path in paths:
        with urllib.request.urlopen(cluster.origin + path, timeout=120, context=context):  # noqa: S310
            pass


def report(prefix: Path, results: Path, seconds: float, batch: int, cpu: dict) -> None:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv")))  # noqa: SIM115
    print(
        f"\n{'endpoint':<28} {'requests':>9} {'errors':>7} {'req/s':>7} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    written = 0
    for row in rows:
        name = row["Name"]
        requests, failures = int(row["Request Count"]), int(row["Failure Count"])
        if name.startswith("write API"):
            written = (requests - failures) * batch
        print(
            f"{name:<28} {requests:>9} {failures:>7} {float(row['Requests/s']):>7.1f} "
            f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
    print(f"\nrecords written: {written:,} in {seconds:.0f} s = {written / seconds:,.0f} records/s")
    if results.exists():
        pages = orjson.loads(results.read_bytes())
        print(
            f"pages (/, /services, dashboards, organisations) together: {pages['pages']} "
            f"requests, p50 {pages['p50']:.0f} ms, p95 {pages['p95']:.0f} ms, "
            f"p99 {pages['p99']:.0f} ms"
        )
    print(f"\nCPU used during the run, in cores busy on average ({os.cpu_count()} cores):")
    for name, used in sorted(cpu.items(), key=lambda item: -item[1]):
        print(f"  {name:<28} {used / seconds:5.2f}")
    failures = list(csv.DictReader(open(f"{prefix}_failures.csv")))  # noqa: SIM115
    for failure in failures[:10]:
        print(
            f"  failure: {failure['Method']} {failure['Name']}: {failure['Error']} "
            f"({failure['Occurrences']}x)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--writers", type=int, default=5, help="each sends a batch a second")
    parser.add_argument("--batch", type=int, default=1000, help="records per batch")
    parser.add_argument("--services", type=int, default=200, help="public services seeded")
    args = parser.parse_args()
    if not 1 <= args.seconds <= 600 or not 1 <= args.users <= 2000:
        parser.error("--seconds must be 1 to 600 and --users 1 to 2000")
    own = not (POINTER.exists() and Path(POINTER.read_text().strip(), "cluster.json").exists())
    if own:
        cluster = Cluster(Path(tempfile.mkdtemp(prefix="perfplat-loadtest.")))
        print("starting a cluster for the load test ...")
        cluster.start()
    else:
        cluster = Cluster(Path(POINTER.read_text().strip()))
    try:
        # A load test only ever targets this machine.
        assert cluster.origin.startswith("https://127.0.0.1:"), cluster.origin
        seed_file = seed(cluster, args.services, args.writers)
        warm_up(cluster, orjson.loads(seed_file.read_bytes()))
        prefix, results = cluster.dir / "loadtest", cluster.dir / "loadtest-pages.json"
        results.unlink(missing_ok=True)
        env = {
            **os.environ,
            "PERFPLAT_LOADTEST_SEED": str(seed_file),
            "PERFPLAT_LOADTEST_RESULTS": str(results),
            "PERFPLAT_LOADTEST_WRITERS": str(args.writers),
            "PERFPLAT_LOADTEST_BATCH": str(args.batch),
        }
        print(
            f"locust: {args.users} users ({args.writers} writing {args.batch} records a "
            f"second each) for {args.seconds} s against {cluster.origin}"
        )
        locust = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "locust"),
                *("-f", str(ROOT / "loadtest" / "locustfile.py"), "--headless"),
                *("--users", str(args.users), "--spawn-rate", str(max(1, args.users // 5))),
                *("--run-time", f"{args.seconds}s", "--stop-timeout", "10"),
                *("--host", cluster.origin, "--csv", str(prefix), "--only-summary"),
                "--loglevel",
                "WARNING",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        sampler, started = CpuSampler(cluster, locust.pid), time.monotonic()
        while locust.poll() is None and time.monotonic() - started < args.seconds:
            time.sleep(1)
            sampler.sample()
        seconds = time.monotonic() - started
        locust.wait(timeout=60)
        report(prefix, results, seconds, args.batch, sampler.used())
        return 0 if locust.returncode in (0, 1) else locust.returncode
    finally:
        if own:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
