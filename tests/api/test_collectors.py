"""Collectors against a real HTTP server on this machine: good CSV, JSON and XLSX data is
written through the write path (provenance "collector"); bad data, malformed bodies, slow,
failing and oversized responses are recorded failures that write nothing; private addresses
are refused; a dry run writes nothing and shows what would be written."""

import io
import re

import orjson
import pytest

from collector_fixtures import GOOD_CSV
from perfplat.collectors import services
from perfplat.collectors.models import Collector, CollectorRun
from perfplat.datasets.models import DataSet, Record, WriteBatch
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.errors import InvalidRequest

pytestmark = pytest.mark.usefixtures("collecting")


def create_data_set_token(data_set) -> str:
    from perfplat.datasets.services import rotate_token

    return rotate_token(data_set)


def collector_for(data_set, url, **settings):
    settings.setdefault("name", "Weekly export")
    settings.setdefault("mapping", {"Transactions": "count"})
    return services.create_collector(None, data_set, url=url, **settings)


def stored(data_set) -> list[dict]:
    rows = Record.objects.filter(data_set=data_set).order_by("timestamp", "record_id")
    return [row.data for row in rows]


def nothing_written(data_set) -> bool:
    data_set.refresh_from_db()
    return (
        not Record.objects.filter(data_set=data_set).exists()
        and not WriteBatch.objects.filter(data_set=data_set).exists()
        and data_set.last_write_at is None
    )


# good data


def test_a_csv_is_written_through_the_write_path_as_a_collector(typed, source):
    collector = collector_for(typed, source.answer(body=GOOD_CSV))
    run = services.run_now(None, collector)
    assert (run.outcome, run.error, run.http_status, run.rows, run.records) == (
        "succeeded",
        "",
        200,
        3,
        3,
    )
    assert stored(typed) == [
        {"period": "week", "channel": "digital", "count": 120},
        {"period": "week", "channel": "phone", "count": 30},
        {"period": "week", "channel": "digital", "count": 140},
    ]
    [batch] = WriteBatch.objects.filter(data_set=typed)
    assert (batch.kind, batch.record_count) == (WriteBatch.COLLECTOR, 3)
    typed.refresh_from_db()
    assert typed.last_write_at is not None
    collector.refresh_from_db()
    assert (collector.failure_count, collector.last_success_at) == (0, run.started_at)


def test_collecting_again_replaces_records_by_their_auto_ids(typed, source):
    collector = collector_for(typed, source.answer(body=GOOD_CSV))
    services.run_now(None, collector)
    source.answer(body=GOOD_CSV.replace(b"120", b"125"))
    services.run_now(None, collector)
    assert [record["count"] for record in stored(typed)] == [125, 30, 140]


def test_a_json_list_or_a_read_api_reply_is_collected(typed, source):
    records = [
        {"_timestamp": "2024-01-01T00:00:00Z", "period": "week", "channel": "digital", "count": 7},
        {"_timestamp": "2024-01-08T00:00:00Z", "period": "week", "channel": "digital", "count": 9},
    ]
    collector = collector_for(
        typed, source.answer("/list.json", orjson.dumps(records)), format="json", mapping={}
    )
    assert services.run_now(None, collector).records == 2
    # perfplat's (and backdrop's) read API: {"data": [...]}, with derived fields left out.
    reply = {"data": [{**records[0], "count": 8, "_updated_at": "2024-01-02T00:00:00+00:00"}]}
    collector.url = source.answer("/read.json", orjson.dumps(reply))
    collector.save()
    assert services.run_now(None, collector).outcome == "succeeded"
    assert [record["count"] for record in stored(typed)] == [8, 9]


def test_an_xlsx_workbook_is_collected(typed, source):
    import xlsxwriter

    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = workbook.add_worksheet("Figures")
    for row, values in enumerate(
        [
            ("Week starting", "Period", "Channel", "Transactions"),
            ("2024-01-01", "week", "paper", 12),
        ]
    ):
        sheet.write_row(row, 0, values)
    workbook.close()
    collector = collector_for(
        typed,
        source.answer("/figures.xlsx", out.getvalue(), content_type="application/octet-stream"),
        format="xlsx",
    )
    run = services.run_now(None, collector)
    assert (run.outcome, run.records) == ("succeeded", 1)
    assert stored(typed) == [{"period": "week", "channel": "paper", "count": 12}]


def test_redirects_are_followed(typed, source):
    source.answer(body=GOOD_CSV)
    url = source.answer("/moved", status=302, headers={"Location": "/data.csv"})
    run = services.run_now(None, collector_for(typed, url))
    assert (run.outcome, run.records, source.requests) == ("succeeded", 3, ["/moved", "/data.csv"])


def test_a_gzipped_response_is_inflated_within_the_cap(typed, source, settings):
    import gzip

    url = source.answer(body=gzip.compress(GOOD_CSV), headers={"Content-Encoding": "gzip"})
    assert services.run_now(None, collector_for(typed, url)).records == 3
    settings.PERFPLAT_COLLECTOR_MAX_BYTES = 5000
    bomb = gzip.compress(b"x" * 1_000_000)  # about 1 KB, inflating to 1 MB
    url = source.answer("/bomb.csv", bomb, headers={"Content-Encoding": "gzip"})
    run = services.run_now(None, collector_for(typed, url, name="Bomb"))
    assert run.error == (
        "The response could not be decompressed: The decompressed body is larger than the "
        "limit of 5000 bytes"
    )


def test_a_redirect_to_another_scheme_is_not_followed(typed, source):
    url = source.answer("/moved", status=301, headers={"Location": "ftp://example.org/x.csv"})
    run = services.run_now(None, collector_for(typed, url))
    assert run.error == (
        "The server redirected to ftp://example.org/x.csv: The URL must start with http:// or "
        "https://"
    )


# bad data: recorded, exact, nothing written


def test_bad_rows_are_each_named_and_nothing_is_written(typed, source):
    body = (
        b"Week starting,Period,Channel,Transactions\r\n"
        b"2024-01-01,week,digital,120\r\n"
        b"31/02/2024,week,phone,30\r\n"
        b"2024-01-08,fortnight,digital,lots\r\n"
    )
    run = services.run_now(None, collector_for(typed, source.answer(body=body)))
    assert run.outcome == "failed"
    assert run.error == (
        "The data has problems, so nothing was written: row 3, column 'Week starting': "
        "'31/02/2024' is not a real date (dates are day/month/year) (and 2 more problems)"
    )
    assert run.errors == [
        {
            "row": 3,
            "column": "Week starting",
            "value": "31/02/2024",
            "problem": "'31/02/2024' is not a real date (dates are day/month/year)",
        },
        {
            "row": 4,
            "column": "Period",
            "value": "fortnight",
            "problem": "field 'period' must be one of day, week, month, quarter, not 'fortnight'",
        },
        {
            "row": 4,
            "column": "Transactions",
            "value": "lots",
            "problem": "'lots' is not a whole number",
        },
    ]
    assert run.error_count == 3
    assert nothing_written(typed)


def test_a_required_field_no_column_fills_is_named(typed, source):
    body = b"Week starting,Channel,Transactions\r\n2024-01-01,digital,120\r\n"
    run = services.run_now(None, collector_for(typed, source.answer(body=body)))
    assert run.error == (
        "The data has problems, so nothing was written: row 1: no column is mapped to period, "
        "which every record needs: add the column, or choose it in the mapping"
    )
    assert nothing_written(typed)


@pytest.mark.parametrize(
    ("file_format", "body", "error"),
    [
        (
            "json",
            b'[{"count": 1',
            "The response is not valid JSON: unexpected end of data: line 1 column 13 (char 12)",
        ),
        (
            "json",
            b"[1, 2]",
            "Item 1 of the JSON is not an object: each record must be a JSON object",
        ),
        (
            "json",
            b'"text"',
            'The JSON must be a list of objects, or an object with a "data" list of them',
        ),
        ("json", b"[]", "The response has no records"),
        ("json", b"", "The response is empty"),
        ("csv", b"", "The response could not be read as CSV: The file is empty"),
        (
            "csv",
            b"\x89PNG\r\n\x1a\n\x00\x00",
            "The response could not be read as CSV: The file is not a spreadsheet: upload a CSV, "
            "XLSX, XLS or ODS file",
        ),
        (
            "xlsx",
            GOOD_CSV,
            "The response is CSV, not XLSX: change the collector's format, or its URL",
        ),
    ],
)
def test_a_malformed_body_is_a_readable_failure(typed, source, file_format, body, error):
    collector = collector_for(typed, source.answer(body=body), format=file_format, mapping={})
    run = services.run_now(None, collector)
    assert (run.outcome, run.error) == ("failed", error)
    assert nothing_written(typed)


def test_a_json_object_without_the_types_fields_is_bad_data(typed, source):
    collector = collector_for(typed, source.answer(body=b'{"rows": 3}'), format="json")
    run = services.run_now(None, collector)
    assert run.error == (
        "The data has problems, so nothing was written: item 1: _timestamp is required "
        "(and 3 more problems)"
    )
    assert [error["problem"] for error in run.errors] == [
        "_timestamp is required",
        "field 'period' is required",
        "field 'channel' is required",
        "field 'count' is required",
    ]
    assert nothing_written(typed)


def test_json_values_are_kept_as_the_write_api_would_keep_them(typed, source, api):
    """A JSON collector and the write API make the same record (and _id) of the same data;
    only a _timestamp that is a plain date is converted."""
    sent = {"_timestamp": "2024-01-01T00:00:00+00:00", "period": "week", "channel": "web"}
    token = create_data_set_token(typed)
    api.post("/data/road-tax/transactions-by-channel", {**sent, "count": 1}, token=token)
    items = [{**sent, "count": 2}, {**sent, "_timestamp": "2024-01-08", "count": 3}]
    collector = collector_for(
        typed, source.answer("/items.json", orjson.dumps(items)), format="json", mapping={}
    )
    assert services.run_now(None, collector).outcome == "succeeded"
    rows = Record.objects.filter(data_set=typed).order_by("timestamp")
    assert [(row.data["count"], row.timestamp) for row in rows] == [
        (2, 1704067200),
        (3, 1704672000),
    ]


def test_a_json_date_that_is_not_a_date_is_named(typed, source):
    items = [{"_timestamp": "soon", "period": "week", "channel": "web", "count": 1}]
    collector = collector_for(
        typed, source.answer("/items.json", orjson.dumps(items)), format="json", mapping={}
    )
    run = services.run_now(None, collector)
    assert run.errors == [
        {
            "row": 1,
            "column": "_timestamp",
            "value": "soon",
            "problem": "'soon' is not a date: write dates like 2024-01-31 or 31/01/2024 (with a "
            "time if needed, like 2024-01-31T09:30:00Z or 31/01/2024 09:30), or make the cell a "
            "date",
        }
    ]


def test_a_data_set_without_record_identity_is_not_collected_into(world, source):
    data_set = world.data_set  # free-form, no auto_ids: each pull would add copies
    run = services.run_now(None, collector_for(data_set, source.answer(body=GOOD_CSV)))
    assert run.error == (
        "Each pull would add the same records again: give the data set fields that identify "
        "a record (auto_ids), or map a column to _id"
    )
    assert nothing_written(data_set)


# failing, slow and oversized responses


def test_an_http_error_is_a_readable_failure(typed, source):
    run = services.run_now(None, collector_for(typed, source.answer(body=b"oops", status=500)))
    assert (run.outcome, run.error, run.http_status) == (
        "failed",
        "The server answered 500 Internal Server Error",
        None,
    )
    assert nothing_written(typed)


def test_a_missing_file_is_a_readable_failure(typed, source):
    run = services.run_now(None, collector_for(typed, source.url("/nothing-here.csv")))
    assert run.error == "The server answered 404 Not Found"


def test_a_slow_response_times_out(typed, source, settings):
    settings.PERFPLAT_COLLECTOR_TIMEOUT = 0.3
    run = services.run_now(None, collector_for(typed, source.answer(body=GOOD_CSV, delay=1.5)))
    assert run.error == (
        "The server at 127.0.0.1 did not send a complete response within 0.3 seconds"
    )
    assert (run.finished_at - run.started_at).total_seconds() < 1.2
    assert nothing_written(typed)


def test_a_response_that_drips_in_times_out_as_a_whole(typed, source, settings):
    # Each byte comes well within the time limit; the whole never does.
    settings.PERFPLAT_COLLECTOR_TIMEOUT = 0.4
    run = services.run_now(None, collector_for(typed, source.answer(body=GOOD_CSV, drip=0.05)))
    assert run.error == (
        "The server at 127.0.0.1 did not send a complete response within 0.4 seconds"
    )
    assert (run.finished_at - run.started_at).total_seconds() < 1.2
    assert nothing_written(typed)


def test_a_declared_oversized_response_is_refused_before_reading(typed, source, settings):
    settings.PERFPLAT_COLLECTOR_MAX_BYTES = 100
    run = services.run_now(None, collector_for(typed, source.answer(body=GOOD_CSV * 2)))
    assert run.error == (
        "The response is larger than the limit of 100 bytes: nothing was read past it"
    )
    assert nothing_written(typed)


def test_reading_stops_at_the_cap_of_an_endless_response(typed, source, settings):
    settings.PERFPLAT_COLLECTOR_MAX_BYTES = 1000
    run = services.run_now(None, collector_for(typed, source.answer(stream=200 * 1024 * 1024)))
    assert run.error == (
        "The response is larger than the limit of 1000 bytes: nothing was read past it"
    )
    # The connection was dropped long before the 200 MB were sent.
    assert source.sent < 50 * 1024 * 1024
    assert nothing_written(typed)


def test_a_refused_connection_is_a_readable_failure(typed, source):
    url = source.url()
    source.server.shutdown()
    source.server.server_close()
    run = services.run_now(None, collector_for(typed, url))
    assert run.error == f"Could not get {url}: Connection refused"


# server-side request forgery


def test_private_addresses_are_refused_when_a_collector_is_made(typed, settings):
    settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE = False
    for url, address in [
        ("http://127.0.0.1:8001/data.csv", "127.0.0.1"),
        ("http://localhost/data.csv", "localhost (127.0.0.1)"),
        ("http://[::1]/data.csv", "::1"),
        ("http://10.1.2.3/data.csv", "10.1.2.3"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ]:
        with pytest.raises(InvalidRequest) as raised:
            collector_for(typed, url)
        assert raised.value.field == "url"
        assert raised.value.message == (
            f"{address} is a private or local address: collectors only fetch from addresses "
            "on the public internet"
        )
    assert not Collector.objects.exists()


def test_a_host_name_resolving_to_a_private_address_is_refused_without_connecting(
    typed, source, settings
):
    collector = collector_for(typed, source.answer(body=GOOD_CSV))
    collector.url = collector.url.replace("127.0.0.1", "localhost")
    collector.save()
    settings.PERFPLAT_COLLECTORS_ALLOW_PRIVATE = False
    run = services.run_now(None, collector)
    assert re.fullmatch(
        r"localhost \((127\.0\.0\.1|::1)\) is a private or local address: collectors only "
        r"fetch from addresses on the public internet",
        run.error,
    )
    assert source.requests == []
    assert nothing_written(typed)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/data.csv", "The URL must start with http:// or https://"),
        ("file:///etc/passwd", "The URL must start with http:// or https://"),
        ("https:///data.csv", "The URL must name a host, like https://example.org/data.csv"),
        ("https://user:secret@example.org/", "The URL must not contain a user name or password"),
        ("https://example.org:99999/", "The URL's port must be a number from 1 to 65535"),
        ("", "Enter the url"),
    ],
)
def test_only_http_and_https_urls_are_accepted(typed, url, message):
    with pytest.raises(InvalidRequest) as raised:
        collector_for(typed, url)
    assert (raised.value.field, raised.value.message) == ("url", message)


def test_public_addresses_are_told_apart_from_private_ones():
    from perfplat.collectors.fetching import is_public

    assert [
        is_public(a)
        for a in ("8.8.8.8", "2001:4860:4860::8888", "127.0.0.1", "10.0.0.1", "172.16.0.1")
    ] == [True, True, False, False, False]
    assert [
        is_public(a)
        for a in (
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        )
    ] == [False] * 6
    unspecified = "0.0.0.0"  # noqa: S104 - an address checked, not bound
    assert [is_public(a) for a in (unspecified, "224.0.0.1", "ff02::1")] == [False] * 3


@pytest.mark.parametrize(
    ("address", "public"),
    [
        # NAT64 (64:ff9b::/96): the IPv4 address in its last 32 bits.
        ("64:ff9b::a00:1", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::808:808", True),
        # the local-use NAT64 prefix (RFC 8215): never public.
        ("64:ff9b:1::808:808", False),
        # 6to4 (2002::/16): the IPv4 address in bits 16-47.
        ("2002:a00:1::1", False),
        ("2002:c0a8:101::", False),
        ("2002:7f00:1::", False),
        ("2002:808:808::1", True),
        # IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d).
        ("::10.0.0.1", False),
        ("::127.0.0.1", False),
        ("::169.254.169.254", False),
        ("::8.8.8.8", True),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_ipv6_transition_addresses_are_as_public_as_the_ipv4_address_they_reach(address, public):
    from perfplat.collectors.fetching import is_public

    assert is_public(address) is public


# dry runs


def test_a_dry_run_shows_what_would_be_written_and_writes_nothing(typed, source):
    collector = collector_for(typed, source.answer(body=GOOD_CSV))
    run = services.dry_run(None, collector)
    assert (run.trigger, run.outcome, run.rows, run.records) == ("dry-run", "succeeded", 3, 3)
    assert [
        {key: value for key, value in record.items() if key != "_id"} for record in run.preview
    ] == [
        {
            "_timestamp": "2024-01-01T00:00:00+00:00",
            "period": "week",
            "channel": "digital",
            "count": 120,
        },
        {
            "_timestamp": "2024-01-01T00:00:00+00:00",
            "period": "week",
            "channel": "phone",
            "count": 30,
        },
        {
            "_timestamp": "2024-01-08T00:00:00+00:00",
            "period": "week",
            "channel": "digital",
            "count": 140,
        },
    ]
    assert nothing_written(typed)
    collector.refresh_from_db()
    assert (collector.last_run_at, collector.failure_count) == (None, 0)


def test_a_failing_dry_run_does_not_start_a_failing_streak(typed, source):
    collector = collector_for(typed, source.answer(body=b"nope", status=503))
    run = services.dry_run(None, collector)
    assert run.error == "The server answered 503 Service Unavailable"
    collector.refresh_from_db()
    assert collector.failure_count == 0


# the failing streak and the history


def test_a_failing_streak_is_counted_until_a_run_succeeds(typed, source):
    collector = collector_for(typed, source.answer(body=b"", status=500))
    first = services.run_now(None, collector)
    services.run_now(None, collector)
    collector.refresh_from_db()
    assert (collector.failure_count, collector.failing_since) == (2, first.started_at)
    source.answer(body=GOOD_CSV)
    services.run_now(None, collector)
    collector.refresh_from_db()
    assert (collector.failure_count, collector.failing_since) == (0, None)
    assert list(collector.runs.values_list("outcome", flat=True)) == [
        "succeeded",
        "failed",
        "failed",
    ]


def test_the_history_keeps_the_latest_runs(typed, source, monkeypatch):
    monkeypatch.setattr(CollectorRun, "KEPT", 3)
    collector = collector_for(typed, source.answer(body=GOOD_CSV))
    runs = [services.dry_run(None, collector).pk for _ in range(5)]
    assert list(collector.runs.values_list("pk", flat=True)) == runs[:-4:-1]


def test_a_collector_is_created_paused_or_scheduled_now(typed, source):
    collector = collector_for(typed, source.answer(body=GOOD_CSV))
    assert (collector.job.enabled, collector.job.interval) == (True, 3600)
    paused = collector_for(typed, source.url("/other.csv"), name="Other", paused=True)
    assert paused.job.enabled is False


@pytest.mark.parametrize(
    ("settings_", "field", "message"),
    [
        (
            {"interval": 30},
            "interval",
            "The interval must be a whole number of seconds from 60 (every minute) to 2678400 "
            "(every 31 days)",
        ),
        ({"format": "pdf"}, "format", "The format must be csv, json or xlsx"),
        ({"name": " "}, "name", "Enter a name"),
        (
            {"mapping": {"Count": "_count"}},
            "mapping",
            "The field for 'Count': key '_count' is reserved: only _id and _timestamp may "
            "begin with _",
        ),
        (
            {"mapping": {"Count": "2count"}},
            "mapping",
            "The field for 'Count': key '2count' is not a valid identifier (letters, digits "
            "and _, not starting with a digit)",
        ),
    ],
)
def test_bad_settings_are_refused_on_their_field(typed, source, settings_, field, message):
    with pytest.raises(InvalidRequest) as raised:
        collector_for(typed, source.url(), **settings_)
    assert (raised.value.field, raised.value.message) == (field, message)


def test_changes_are_audited(typed, source, world):
    from perfplat.audit.models import AuditEntry

    collector = services.create_collector(
        world.editor, typed, name="Export", url=source.url(), mapping={"Transactions": "count"}
    )
    services.update_collector(world.editor, collector, paused=True)
    services.update_collector(world.editor, collector, paused=False, interval=60)
    services.delete_collector(world.org_admin, collector)
    entries = AuditEntry.objects.filter(object_type="collector").order_by("id")
    assert [(e.action, e.actor) for e in entries] == [
        ("collector.create", world.editor),
        ("collector.pause", world.editor),
        ("collector.update", world.editor),
        ("collector.delete", world.org_admin),
    ]
    assert entries[0].after["url"] == source.url()
    assert entries[0].service == world.service
    assert not DataSet.objects.get(pk=typed.pk).collectors.exists()


def test_another_organisation_cannot_add_a_collector(typed, source, world):
    from perfplat.errors import Forbidden

    with pytest.raises(Forbidden):
        services.create_collector(world.other_editor, typed, name="X", url=source.url())


def test_a_data_set_without_a_service_can_be_collected_into(source, db):
    data_set, _ = create_data_set(
        "cli", "events", settings=DataSetSettings(auto_ids=("_timestamp", "channel"))
    )
    body = b"Date,Channel,Count\r\n2024-01-01,web,3\r\n"
    run = services.run_now(None, collector_for(data_set, source.answer(body=body), mapping={}))
    # As for a spreadsheet upload: a new free-form data set's fields are proposed from the
    # response, and its cells read by the proposed types.
    assert (run.outcome, stored(data_set)) == ("succeeded", [{"channel": "web", "count": 3}])
