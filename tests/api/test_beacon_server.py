"""The journey beacon through the real server: `perfplat serve` with 4 gunicorn workers in a
subprocess, on a database of its own (a SQLite file, or a new database on the suite's
PostgreSQL cluster when the suite runs on PostgreSQL).

A known mix of events goes to the workers at once over HTTP; after a graceful stop (SIGTERM)
the stored counts, the completion data set and the KPI API hold exactly those counts. After a
kill -9 the events older than the flush interval (1 s) are all stored.
"""

import http.client
import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings

from helpers import SERVER_ENV

BIN = Path(sys.executable).parent
TESTS = Path(__file__).resolve().parent.parent
SITE = "https://www.example.gov.uk"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SERVICE = "apply-for-a-permit"
WORKERS = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url(tmp_path):
    """A database for the server alone: on the suite's PostgreSQL cluster when the suite runs
    on PostgreSQL, else a SQLite file."""
    config = settings.DATABASES["default"]
    if config["ENGINE"] != "django.db.backends.postgresql":
        yield f"sqlite:///{tmp_path / 'beacon.sqlite3'}"
        return
    import psycopg

    name = f"beacon_{secrets.token_hex(4)}"
    user, host, port = config["USER"], config["HOST"], config["PORT"]
    admin = f"postgres://{user}@{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{user}@{host}:{port}/{name}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Server:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "LOG_LEVEL": "ERROR",
            **SERVER_ENV,
            # Only the first write of each process and the final flush write the data set, so
            # its counts come from the graceful stop.
            "PERFPLAT_BEACON_DATA_SET_SECONDS": "3600",
        }
        self.port = free_port()

    def perfplat(self, *args, stdin=None) -> str:
        done = subprocess.run(
            [str(BIN / "perfplat"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self):
        self.perfplat("migrate", "--verbosity", "0")
        self.process = subprocess.Popen(
            [str(BIN / "perfplat"), "serve", "--port", str(self.port), "--workers", str(WORKERS)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()[1]
            try:
                if self.request("GET", "/_status")[0] == 200:
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError("the server did not start")

    def stop(self, sig=signal.SIGTERM) -> None:
        if sig == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)
        else:
            self.process.send_signal(sig)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            raise
        finally:
            self.process.stderr.close()

    def request(self, method, path, body=b"", headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def api(self, method, path, token, payload=None):
        status, answer = self.request(
            method,
            path,
            json.dumps(payload or {}).encode(),
            {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert status in (200, 201), (method, path, status, answer)
        return json.loads(answer)

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows from the server's database, read directly."""
        if self.database_url.startswith("sqlite"):
            with sqlite3.connect(self.database_url.removeprefix("sqlite:///")) as db:
                return db.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.database_url) as db:
            return db.execute(sql.replace("?", "%s"), params).fetchall()


def set_up_service(server: Server) -> None:
    """A public service with a beacon, made through the management API over HTTP."""
    server.perfplat(
        "users",
        "create",
        "admin@example.gov.uk",
        "--role",
        "platform-admin",
        "--password-stdin",
        stdin="a-long-test-password-42\n",
    )
    token = server.perfplat("users", "token", "admin@example.gov.uk").strip().splitlines()[-1]
    server.api("POST", "/api/organisations", token, {"slug": "permits", "name": "Permits Office"})
    server.api(
        "POST",
        "/api/services",
        token,
        {"slug": SERVICE, "name": "Apply for a permit", "organisation": "permits"},
    )
    server.api(
        "PUT",
        f"/api/services/{SERVICE}/dashboard/draft",
        token,
        {"modules": [{"kind": "kpis", "title": "Key performance indicators"}]},
    )
    server.api("POST", f"/api/services/{SERVICE}/dashboard/submit", token)
    server.api("POST", f"/api/services/{SERVICE}/dashboard/publish", token)
    answer = server.api(
        "PUT",
        f"/api/services/{SERVICE}/beacon",
        token,
        {"steps": ["start", "details", "done"], "origins": [SITE]},
    )
    assert answer["data_set"] == f"{SERVICE}/completion"


def event(step, how="json", service=SERVICE, **headers):
    """(method, path, body, headers) of one event as a browser sends it."""
    base = {"User-Agent": CHROME, "Origin": SITE}
    if how == "pixel":
        base = {"User-Agent": CHROME, "Referer": f"{SITE}/"}
        return ("GET", f"/beacon/{service}/{step}.gif", b"", base | headers)
    body, content_type = {
        "json": (json.dumps({"step": step}).encode(), "application/json"),
        "text": (json.dumps({"step": step}).encode(), "text/plain;charset=UTF-8"),
        "form": (f"step={step}".encode(), "application/x-www-form-urlencoded"),
    }[how]
    return ("POST", f"/beacon/{service}", body, base | {"Content-Type": content_type} | headers)


# The known mix: 120 journeys started, 90 reached "details", 75 done; and events counted apart.
MIX = (
    [event("start", "json")] * 40
    + [event("start", "text")] * 40
    + [event("start", "pixel")] * 40
    + [event("details", "form")] * 45
    + [event("details", "pixel")] * 45
    + [event("done", "text")] * 40
    + [event("done", "json")] * 35
    + [event("start", "json", **{"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"})] * 10
    + [event("details", "pixel", **{"Sec-Purpose": "prefetch"})] * 7
    + [event("review", "json")] * 5
    + [event("start", "text", Origin="https://copy.example.org")] * 6
    + [event("start", "json", service="no-such-service")] * 4
)
EXPECTED_COUNTS = {
    ("start", "counted"): 120,
    ("details", "counted"): 90,
    ("done", "counted"): 75,
    ("start", "bot"): 10,
    ("details", "prefetch"): 7,
    ("", "unknown-step"): 5,
    ("", "unlisted-origin"): 6,
    ("", "unknown-service"): 4,
}


def send_all(server: Server, requests: list) -> None:
    def send(request):
        status, answer = server.request(*request)
        expected = 200 if request[0] == "GET" else 204
        assert status == expected, (request, status, answer)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, requests))


def stored_counts(server: Server) -> dict:
    rows = server.query("SELECT step, kind, SUM(count) FROM beacon_beaconcount GROUP BY step, kind")
    return {(step, kind): int(total) for step, kind, total in rows}


def test_a_known_mix_of_events_reaches_the_data_set_and_the_kpi_api_after_a_graceful_stop(
    database_url,
):
    server = Server(database_url).start()
    try:
        set_up_service(server)
        started_at = datetime.now(UTC)
        send_all(server, MIX)
    finally:
        server.stop(signal.SIGTERM)
    assert server.process.returncode == 0

    assert stored_counts(server) == EXPECTED_COUNTS
    records = server.query(
        "SELECT r.data FROM datasets_record r JOIN datasets_dataset d ON d.id = r.data_set_id "
        "WHERE d.data_group = ? AND d.data_type = 'completion' ORDER BY r.timestamp",
        SERVICE,
    )
    days = [json.loads(data) if isinstance(data, str) else data for (data,) in records]
    assert {day["period"] for day in days} == {"day"}
    # One record a day (two if the events straddled midnight UTC).
    assert (sum(d["started"] for d in days), sum(d["completed"] for d in days)) == (120, 75)
    kinds = server.query(
        "SELECT DISTINCT b.kind FROM datasets_writebatch b "
        "JOIN datasets_dataset d ON d.id = b.data_set_id "
        "WHERE d.data_group = ? AND d.data_type = 'completion'",
        SERVICE,
    )
    assert kinds == [("beacon",)]

    # The KPI API per day, two days on, when the events' days are complete: the completion
    # rate of each day, from exactly those counts.
    two_days_on = int(started_at.timestamp()) // 86400 * 86400 + 2 * 86400
    answer = subprocess.run(
        [sys.executable, str(TESTS / "kpi_api_at.py"), SERVICE, str(two_days_on), "day"],
        env=server.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr
    rates = [period["kpis"]["completion_rate"] for period in json.loads(answer.stdout)["periods"]]
    known = [rate for rate in rates if rate["value"] is not None]
    assert (sum(r["numerator"] for r in known), sum(r["denominator"] for r in known)) == (75, 120)
    assert len(known) == len(days)


def test_a_kill_9_loses_at_most_the_last_second(database_url):
    server = Server(database_url).start()
    try:
        set_up_service(server)
        send_all(server, [event("start", "text")] * 50 + [event("done", "pixel")] * 30)
        # Every worker flushes at least once a second.
        time.sleep(2.5)
    finally:
        server.stop(signal.SIGKILL)
    assert stored_counts(server) == {("start", "counted"): 50, ("done", "counted"): 30}
