"""The demo collector, and the small local source it pulls from.

`perfplat demo` gives the demo service "Tax your vehicle" a collector that pulls this week's
transactions by channel so far every minute from `perfplat demo-source`
(http://127.0.0.1:8001), and makes its data set expect data every 3 minutes. Stop the source
and the data set goes stale (one email to its team); start it again and data resumes (one more
email).
"""

import csv
import io
import random
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEMO_SERVICE = "vehicle-tax"
DEMO_DATA_TYPE = "transactions-by-channel"
DEMO_PORT = 8001
DEMO_PATH = f"/{DEMO_SERVICE}/{DEMO_DATA_TYPE}.csv"
DEMO_INTERVAL = 60
DEMO_MAX_AGE = 180
DEMO_NAME = "Weekly figures from the licensing system (demo)"
# The source's column of counts is called "Transactions": the mapping sends it to `count`.
DEMO_MAPPING = {"Transactions": "count"}


def demo_url(port: int = DEMO_PORT) -> str:
    return f"http://127.0.0.1:{port}{DEMO_PATH}"


def demo_csv(now: int | None = None) -> bytes:
    """This week's transactions by channel so far, as CSV: the demo service's last complete
    week (the numbers `perfplat demo` wrote) scaled by how much of this week has passed, so
    every pull brings a little more."""
    from perfplat.datasets.periods import WEEK, format_timestamp, period_start
    from perfplat.demo import SERVICES, transactions

    now = now or int(time.time())
    service = next(demo for demo in SERVICES if demo.slug == DEMO_SERVICE)
    # The same seed as the demo loader, for which transactions are built first.
    last_week = transactions(service, random.Random(service.slug), now)[-3:]
    monday = period_start("week", now)
    elapsed = (now - monday) / WEEK
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Week starting", "Period", "Channel", "Transactions"])
    for record in last_week:
        writer.writerow(
            [
                format_timestamp(monday)[:10],
                "week",
                record["channel"],
                round(record["count"] * elapsed),
            ]
        )
    return out.getvalue().encode()


class DemoSourceHandler(BaseHTTPRequestHandler):
    server_version = "perfplat-demo-source/1"

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path.split("?", 1)[0] != DEMO_PATH:
            self.send_error(404, f"Not found: the demo data is at {DEMO_PATH}")
            return
        body = demo_csv()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - http.server's signature
        print(f"demo-source: {self.address_string()} {format % args}", flush=True)


def serve_demo_source(host: str = "127.0.0.1", port: int = DEMO_PORT) -> None:
    """Serve the demo CSV until interrupted."""
    server = ThreadingHTTPServer((host, port), DemoSourceHandler)
    print(f"perfplat demo source serving http://{host}:{port}{DEMO_PATH}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def load_demo_collector(port: int = DEMO_PORT):
    """Give the demo service's data set its collector and a 3-minute max age (safe to
    repeat); yields what it did."""
    from perfplat.datasets.models import DataSet
    from perfplat.datasets.services import update_data_set

    from . import services
    from .models import Collector

    data_set = (
        DataSet.objects.select_related("service__organisation")
        .filter(data_group=DEMO_SERVICE, data_type=DEMO_DATA_TYPE)
        .first()
    )
    if data_set is None:
        return
    if data_set.max_age_expected != DEMO_MAX_AGE:
        update_data_set(None, data_set, max_age_expected=DEMO_MAX_AGE)
    if not Collector.objects.filter(data_set=data_set, name=DEMO_NAME).exists():
        services.create_collector(
            None,
            data_set,
            allow_private=True,
            name=DEMO_NAME,
            url=demo_url(port),
            format=Collector.CSV,
            mapping=DEMO_MAPPING,
            interval=DEMO_INTERVAL,
        )
    yield (
        f"Collector: {data_set} pulls {demo_url(port)} every minute and expects data every "
        f"{DEMO_MAX_AGE // 60} minutes (`perfplat demo-source` serves it)."
    )
