"""`make loadtest`: readers of every public kind and writers of batches, against the cluster.

Run by loadtest/run.py, which passes the seed data in PERFPLAT_LOADTEST_SEED (a JSON file).
Readers open the pages people open (the home page, /services, dashboards, organisations),
download CSV, and call the read API and the KPI API; each waits 1 to 3 s between requests, as a
person would. Writers (a fixed number) each send a batch of BATCH records every second.
"""

import itertools
import os
import random
import statistics
import time

import orjson
from locust import FastHttpUser, between, constant_throughput, events, task

SEED = orjson.loads(open(os.environ["PERFPLAT_LOADTEST_SEED"], "rb").read())  # noqa: SIM115
BATCH = int(os.environ.get("PERFPLAT_LOADTEST_BATCH", "1000"))
WRITERS = int(os.environ.get("PERFPLAT_LOADTEST_WRITERS", "5"))
READ_QUERY = "?period=month&group_by=channel&collect=count:sum"
CHANNELS = ("digital", "phone", "paper", "face-to-face")
PAGES = ("/", "/services", "/services/<slug>", "/organisations/<slug>")
# Response times (ms) of the pages people open, for their percentiles together.
page_times: list[float] = []


@events.request.add_listener
def on_request(name, response_time, exception, **kwargs):
    if name in PAGES and exception is None:
        page_times.append(response_time)


@events.quitting.add_listener
def on_quitting(environment, **kwargs):
    """Writes the pages' percentiles (all page kinds together) for loadtest/run.py."""
    results = os.environ.get("PERFPLAT_LOADTEST_RESULTS")
    if not results or not page_times:
        return
    cuts = statistics.quantiles(page_times, n=100)
    with open(results, "wb") as out:
        out.write(
            orjson.dumps(
                {"pages": len(page_times), "p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}
            )
        )


class Reader(FastHttpUser):
    # The cluster's certificate is self-signed, and everything is on loopback.
    insecure = True
    wait_time = between(1, 3)

    @task(3)
    def services(self):
        self.client.get("/services", name="/services")

    @task(4)
    def dashboard(self):
        slug = random.choice(SEED["services"])
        self.client.get(f"/services/{slug}", name="/services/<slug>")

    @task(1)
    def home(self):
        self.client.get("/", name="/")

    @task(1)
    def organisation(self):
        slug = random.choice(SEED["organisations"])
        self.client.get(f"/organisations/{slug}", name="/organisations/<slug>")

    @task(3)
    def read_api(self):
        path = random.choice(SEED["read_paths"])
        self.client.get(path + READ_QUERY, name="read API")

    @task(2)
    def kpi_api(self):
        slug = random.choice(SEED["services"])
        self.client.get(f"/api/services/{slug}/kpis", name="KPI API")

    @task(1)
    def csv(self):
        if random.random() < 0.5:
            self.client.get("/services.csv", name="CSV download")
        else:
            path = random.choice(SEED["read_paths"])
            self.client.get(path + READ_QUERY + "&format=csv", name="CSV download")


class Writer(FastHttpUser):
    insecure = True
    fixed_count = WRITERS
    wait_time = constant_throughput(1)
    numbers = itertools.count()

    def on_start(self):
        writer = SEED["writers"][next(self.numbers) % len(SEED["writers"])]
        self.path, self.token = writer["path"], writer["token"]

    @task
    def write_batch(self):
        stamp = int(time.time())
        records = [
            {
                "_timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp - i)),
                "channel": CHANNELS[i % 4],
                "count": i,
            }
            for i in range(BATCH)
        ]
        self.client.post(
            self.path,
            data=orjson.dumps(records),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
            name=f"write API ({BATCH} records)",
        )
