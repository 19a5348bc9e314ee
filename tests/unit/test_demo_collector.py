"""The demo collector: `perfplat demo` gives "Tax your vehicle" a collector and a 3-minute
max age, and `perfplat demo-source` serves the CSV it pulls: the same numbers the demo wrote."""

import threading
import time
from http.server import ThreadingHTTPServer

import pytest

from perfplat.collectors import demo, services
from perfplat.collectors.models import Collector
from perfplat.datasets.models import DataSet, Record, WriteBatch
from perfplat.datasets.periods import format_timestamp
from perfplat.demo import load_demo


@pytest.fixture
def demo_source():
    server = ThreadingHTTPServer(("127.0.0.1", 0), demo.DemoSourceHandler)
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_demo_source_serves_this_weeks_figures_so_far():
    from perfplat.datasets.periods import parse_datetime

    wednesday_noon = parse_datetime("2026-11-25T12:00:00Z")
    lines = demo.demo_csv(wednesday_noon).decode().splitlines()
    monday = demo.demo_csv(parse_datetime("2026-11-23T00:00:00Z")).decode().splitlines()
    assert lines[0] == "Week starting,Period,Channel,Transactions"
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["2026-11-23", "week", channel] for channel in ("digital", "phone", "paper")
    ]
    # Two and a half days of seven have passed; at the week's start, none.
    assert [int(line.split(",")[3]) > 0 for line in lines[1:]] == [True] * 3
    assert [line.split(",")[3] for line in monday[1:]] == ["0"] * 3


def test_the_demo_collector_adds_this_week_to_what_the_demo_wrote(db, demo_source, settings):
    settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE = True
    for _ in load_demo():
        pass
    data_set = DataSet.objects.get(data_group="vehicle-tax", data_type="transactions-by-channel")
    collector = Collector.objects.get(data_set=data_set)
    assert (collector.url, collector.interval, collector.mapping, data_set.max_age_expected) == (
        "http://127.0.0.1:8001/vehicle-tax/transactions-by-channel.csv",
        60,
        {"Transactions": "count"},
        180,
    )
    weeks = Record.objects.filter(data_set=data_set).values("timestamp").distinct().count()
    assert Record.objects.filter(data_set=data_set).count() == weeks * 3
    collector.url = demo.demo_url(demo_source)
    collector.save()
    for _ in range(2):
        run = services.run_now(None, collector)
        assert (run.outcome, run.error, run.records) == ("succeeded", "", 3)
    assert Record.objects.filter(data_set=data_set).count() == (weeks + 1) * 3
    assert WriteBatch.objects.filter(data_set=data_set, kind="collector").count() == 2


def test_a_collected_week_and_the_loaders_week_are_one_record(db, settings):
    """The collector sends 2024-01-01T00:00:00Z where the loader sends +00:00: the same
    moment, so the same _id, and loading the demo again replaces the collected copy."""
    from perfplat.datasets.periods import WEEK, period_start
    from perfplat.datasets.writes import WriteSource, write_records

    for _ in load_demo():
        pass
    data_set = DataSet.objects.get(data_group="vehicle-tax", data_type="transactions-by-channel")
    last_monday = period_start("week", int(time.time())) - WEEK
    copy = {
        "_timestamp": format_timestamp(last_monday).replace("+00:00", "Z"),
        "period": "week",
        "channel": "digital",
        "count": 5,
    }
    total = Record.objects.filter(data_set=data_set).count()
    write_records(data_set, [copy], WriteSource(WriteBatch.COLLECTOR))
    assert Record.objects.filter(data_set=data_set).count() == total
    for _ in load_demo():
        pass
    assert Record.objects.filter(data_set=data_set).count() == total
    record = Record.objects.get(data_set=data_set, timestamp=last_monday, data__channel="digital")
    assert record.data["count"] != 5


def test_the_demo_source_answers_404_elsewhere(demo_source):
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"http://127.0.0.1:{demo_source}/other.csv", timeout=5)  # noqa: S310
    assert raised.value.code == 404
