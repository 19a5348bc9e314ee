"""(f) The journey beacon: sustained events per second over HTTP and their latency.

A service with a beacon is set up through the management API of a running `perfplat serve`
(4 workers by default); then client processes send events as browsers do (70% sendBeacon
POSTs of text/plain, 30% GETs of the pixel) for a fixed time after a warm-up, in two ways:

- gunicorn's default sync workers, which close every connection: a new connection per event;
- `--threads 2` (gthread workers), with each client keeping its connection open, as a proxy in
  front of the platform (nginx, a load balancer) reuses its connections to the app servers.

The clients run on the same machine and take their share of its cores, so the server's own CPU
time per event is measured too (from /proc): what 2 cores given to the server alone could do.
Last, the server is stopped gracefully and the counts it stored are compared with the events
sent, which must be equal.
"""

import json
import multiprocessing
import os
import signal
import socket
import sqlite3
import statistics
import time
from pathlib import Path

SITE = "https://www.example.gov.uk"
SERVICE = "bench-beacon"
STEPS = ("start", "details", "done")
AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
GOAL_EVENTS = 5000
GOAL_P99_MS = 50
MODES = (
    ("sync workers, a connection per event", (), False),
    ("gthread workers (--threads 2), connections kept open", ("--threads", "2"), True),
)


def set_up(server) -> None:
    server.perfplat(
        "users", "create", "bench@example.gov.uk", "--role", "platform-admin", capture=True
    )
    token = server.perfplat("users", "token", "bench@example.gov.uk", capture=True)
    token = token.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def api(method, path, payload):
        status, answer = server.request(method, path, json.dumps(payload).encode(), headers)
        if status not in (200, 201):
            raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")

    api("POST", "/api/organisations", {"slug": "bench", "name": "Benchmarks"})
    api("POST", "/api/services", {"slug": SERVICE, "name": "Bench", "organisation": "bench"})
    api("PUT", f"/api/services/{SERVICE}/beacon", {"steps": list(STEPS), "origins": [SITE]})


def _requests(keep_open: bool) -> list[bytes]:
    """The raw requests the clients cycle through: 7 POSTs then 3 pixels, over the steps."""
    connection = "" if keep_open else "Connection: close\r\n"
    found = []
    for index in range(10):
        step = STEPS[index % 3]
        if index < 7:
            body = json.dumps({"step": step}).encode()
            head = (
                f"POST /beacon/{SERVICE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Origin: {SITE}\r\nUser-Agent: {AGENT}\r\n"
                f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n"
                f"{connection}\r\n"
            )
            found.append(head.encode() + body)
        else:
            found.append(
                (
                    f"GET /beacon/{SERVICE}/{step}.gif HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Referer: {SITE}/\r\nUser-Agent: {AGENT}\r\n{connection}\r\n"
                ).encode()
            )
    return found


def _read_answer(connection) -> tuple[bool, bool]:
    """Read one answer: (it is a 204 or 200, the server closes the connection after it)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = connection.recv(4096)
        if not chunk:
            raise OSError("connection closed")
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    lower = head.lower()
    length = 0
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(rest) < length:
        chunk = connection.recv(4096)
        if not chunk:
            raise OSError("connection closed")
        rest += chunk
    return head.startswith((b"HTTP/1.1 204", b"HTTP/1.1 200")), b"connection: close" in lower


def _client(port: int, keep_open: bool, warm_up: float, seconds: float, results) -> None:
    """Send events one after another until the time is up; report the latencies (seconds) of
    those sent after the warm-up, and how many events were sent and failed in all."""
    requests = _requests(keep_open)
    started = time.perf_counter()
    measure_from, stop_at = started + warm_up, started + warm_up + seconds
    latencies, sent, failed, index, connection = [], 0, 0, 0, None
    while True:
        begin = time.perf_counter()
        if begin >= stop_at:
            break
        try:
            if connection is None:
                connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            connection.sendall(requests[index % len(requests)])
            ok, closed = _read_answer(connection)
            if closed or not keep_open:
                connection.close()
                connection = None
        except OSError:
            ok = False
            if connection is not None:
                connection.close()
            connection = None
        index += 1
        sent += 1
        failed += not ok
        if begin >= measure_from:
            latencies.append(time.perf_counter() - begin)
    if connection is not None:
        connection.close()
    results.put((latencies, sent, failed))


def _cpu_seconds(master: int) -> float:
    """CPU time used so far by gunicorn's master and its workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, parent = int(stat.parent.name), int(fields[1])
        if pid == master or parent == master:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def load(port: int, master: int, keep_open: bool, clients: int, warm_up, seconds) -> dict:
    results = multiprocessing.Queue()
    processes = [
        multiprocessing.Process(target=_client, args=(port, keep_open, warm_up, seconds, results))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    time.sleep(warm_up)
    cpu_before = _cpu_seconds(master)
    gathered = [results.get() for _ in processes]
    server_cpu = _cpu_seconds(master) - cpu_before
    for process in processes:
        process.join()
    latencies = sorted(t for found, _, _ in gathered for t in found)
    return {
        "events/s": len(latencies) / seconds,
        "p50 ms": statistics.median(latencies) * 1000,
        "p99 ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "server µs/event": server_cpu / len(latencies) * 1e6,
        "sent": sum(sent for _, sent, _ in gathered),
        "failed": sum(failed for _, _, failed in gathered),
    }


def stored_events(database_url: str) -> int:
    sql = "SELECT COALESCE(SUM(count), 0) FROM beacon_beaconcount WHERE kind = 'counted'"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            return db.execute(sql).fetchone()[0]
    import psycopg

    with psycopg.connect(database_url) as db:
        return db.execute(sql).fetchone()[0]


def _empty(database_url: str) -> None:
    sql = "DELETE FROM beacon_beaconcount"
    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            db.execute(sql)
        return
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as db:
        db.execute(sql)


def run_beacon(server_class, label: str, database_url: str, args) -> None:
    """(f) on one database: `server_class` is run.py's Server."""
    seconds, warm_up = (3, 1) if args.quick else (10, 2)
    clients, workers = args.beacon_clients, args.beacon_workers
    print(
        f"\n== Journey beacon on {label}: {workers} workers, {clients} client processes on "
        f"the same {os.cpu_count()} cores"
    )
    for number, (mode, options, keep_open) in enumerate(MODES):
        load_before = os.getloadavg()[0]
        server = server_class(database_url, workers, options).__enter__()
        try:
            if number == 0:
                set_up(server)
            else:
                _empty(database_url)
            result = load(server.port, server.process.pid, keep_open, clients, warm_up, seconds)
        finally:
            server.process.send_signal(signal.SIGTERM)
            server.process.wait(60)
        stored = stored_events(database_url)
        verdict = (
            "met"
            if result["events/s"] >= GOAL_EVENTS and result["p99 ms"] < GOAL_P99_MS
            else "MISSED"
        )
        print(f"(f) {mode} (load average {load_before:.1f} before):")
        print(
            f"    {result['events/s']:,.0f} events/s over {seconds} s, latency p50 "
            f"{result['p50 ms']:.1f} ms, p99 {result['p99 ms']:.1f} ms "
            f"(goal >= {GOAL_EVENTS:,}/s with p99 < {GOAL_P99_MS} ms: {verdict})"
        )
        print(
            f"    server CPU {result['server µs/event']:.0f} µs per event: "
            f"{2e6 / result['server µs/event']:,.0f} events/s on 2 cores of its own"
        )
        print(
            f"    {result['sent']:,} events sent, {result['failed']} failed; "
            f"{stored:,} counted after the graceful stop"
            + ("" if stored == result["sent"] - result["failed"] else "  << MISMATCH")
        )
