"""The read API, `GET /data/<group>/<type>` (SPEC section 5): shapes, parameters, rules, errors.

Records are written through the write API with the data set's token, as a client would.
"""

import csv
import io
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest

from helpers import body, content
from perfplat.datasets.models import DataSet
from perfplat.datasets.services import rotate_token

URL = "/data/test-service/events"
PRIVATE_URL = "/data/test-service/private"
WARNING = "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."


def utc(text: str) -> str:
    """A date-time as the API returns it: `2024-01-01T00:00:00+00:00`."""
    return text.replace("Z", "+00:00")


def period(start: str, end: str, count: int, **collected) -> dict:
    return {"_start_at": utc(start), "_end_at": utc(end), "_count": count, **collected}


@pytest.fixture
def write(api, data_set):
    """Write records to the published, raw-queryable data set at URL."""
    _, token = data_set

    def write(*records):
        response = api.post(URL, list(records), token)
        assert response.status_code == 200, response.content

    return write


@pytest.fixture
def read(api, data_set):
    """The `data` of a successful read of URL."""

    def read(params=None, **headers):
        response = api.get(URL, params, **headers)
        assert response.status_code == 200, response.content
        return body(response)["data"]

    return read


@pytest.fixture
def refused(api, data_set):
    """The message of a read of URL answered with 400."""

    def refused(params):
        response = api.get(URL, params)
        assert response.status_code == 400, response.content
        payload = body(response)
        assert payload["status"] == "error"
        return payload["message"]

    return refused


@pytest.fixture
def private(make_data_set, api):
    """An unpublished data set (raw queries allowed) holding one record; returns its token."""
    _, token = make_data_set("test-service", "private", raw_queries_allowed=True)
    record = {"_id": "r1", "_timestamp": "2024-01-01T00:00:00Z", "n": 1}
    assert api.post(PRIVATE_URL, record, token).status_code == 200
    return token


@pytest.fixture
def strict(make_data_set, api):
    """A published data set that does not allow raw queries (the default); returns a reader
    that gives (status, body)."""
    make_data_set("test-service", "strict", published=True)

    def get(params):
        response = api.get("/data/test-service/strict", params)
        return response.status_code, body(response)

    return get


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def strip_updated_at(records: list[dict], before: int, after: int) -> list[dict]:
    """The records without `_updated_at`, after checking it is a time of the write."""
    allowed = {iso(datetime.fromtimestamp(moment, UTC)) for moment in range(before, after + 1)}
    for record in records:
        assert record.pop("_updated_at") in allowed
    return records


# raw reads


def test_raw_read_returns_each_record_with_its_derived_period_starts(write, read):
    before = int(time.time())
    write({"_id": "r1", "_timestamp": "2024-02-14T15:30:45Z", "channel": "web", "count": 3})
    after = int(time.time())
    assert strip_updated_at(read(), before, after) == [
        {
            "_id": "r1",
            "_timestamp": "2024-02-14T15:30:45+00:00",
            "channel": "web",
            "count": 3,
            "_hour_start_at": "2024-02-14T15:00:00+00:00",
            "_day_start_at": "2024-02-14T00:00:00+00:00",
            "_week_start_at": "2024-02-12T00:00:00+00:00",
            "_month_start_at": "2024-02-01T00:00:00+00:00",
            "_quarter_start_at": "2024-01-01T00:00:00+00:00",
            "_year_start_at": "2024-01-01T00:00:00+00:00",
        }
    ]


def test_raw_read_returns_timestamps_sent_with_an_offset_in_utc(write, read):
    write({"_id": "r1", "_timestamp": "2024-01-01T01:30:00+02:00"})
    [record] = read()
    assert (record["_timestamp"], record["_day_start_at"], record["_week_start_at"]) == (
        "2023-12-31T23:30:00+00:00",
        "2023-12-31T00:00:00+00:00",
        "2023-12-25T00:00:00+00:00",
    )


def test_raw_read_keeps_the_json_type_and_case_of_every_value(write, read):
    values = {"licenceUrlSlug": "abc", "n": 7, "x": 1.5, "yes": True, "no": False, "gap": None}
    write({"_id": "r1", **values})
    [record] = read()
    assert {key: record[key] for key in values} == values
    assert type(record["n"]) is int


def test_raw_records_are_in_timestamp_order_then_id_order(write, read):
    write(
        {"_id": "late", "_timestamp": "2024-01-03T00:00:00Z"},
        {"_id": "b", "_timestamp": "2024-01-02T00:00:00Z"},
        {"_id": "a", "_timestamp": "2024-01-02T00:00:00Z"},
        {"_id": "early", "_timestamp": "2024-01-01T00:00:00Z"},
    )
    assert [record["_id"] for record in read()] == ["early", "a", "b", "late"]


def test_raw_records_without_timestamp_come_first_without_period_starts(write, read):
    before = int(time.time())
    write(
        {"_id": "timed", "_timestamp": "2024-01-01T00:00:00Z"},
        {"_id": "z-untimed", "n": 1},
        {"_id": "untimed", "n": 2},
    )
    after = int(time.time())
    records = strip_updated_at(read(), before, after)
    assert records[:2] == [{"_id": "untimed", "n": 2}, {"_id": "z-untimed", "n": 1}]
    assert records[2]["_id"] == "timed"


def test_raw_read_of_an_empty_data_set_is_an_empty_list(read):
    assert read() == []


def test_raw_read_shows_a_record_replaced_by_a_write_with_the_same_id(write, read):
    write({"_id": "r1", "_timestamp": "2024-01-01T00:00:00Z", "n": 1})
    write({"_id": "r1", "_timestamp": "2024-01-02T00:00:00Z", "m": 2})
    [record] = read()
    assert (record["_timestamp"], record.get("n"), record["m"]) == (
        "2024-01-02T00:00:00+00:00",
        None,
        2,
    )


# who may read


def test_published_data_set_is_readable_without_credentials_and_without_warning(api, write):
    write({"_id": "r1", "n": 1})
    response = api.get(URL)
    assert response.status_code == 200
    assert list(body(response)) == ["data"]


def test_unpublished_data_set_is_not_found_without_credentials(api, private):
    response = api.get(PRIVATE_URL)
    assert response.status_code == 404
    assert body(response) == {
        "status": "error",
        "message": "Data set test-service/private not found",
    }


def test_unpublished_data_set_is_not_found_with_another_data_sets_token(api, private, data_set):
    _, other_token = data_set
    assert api.get(PRIVATE_URL, token=other_token).status_code == 404


def test_unpublished_data_set_is_not_found_with_a_revoked_token(api, private):
    rotate_token(DataSet.objects.get(data_type="private"))
    assert api.get(PRIVATE_URL, token=private).status_code == 404


def test_unpublished_data_set_is_readable_with_its_token_and_carries_a_warning(api, private):
    response = api.get(PRIVATE_URL, {"group_by": "n"}, token=private)
    assert response.status_code == 200
    assert body(response) == {"data": [{"n": 1, "_count": 1}], "warning": WARNING}


def test_unpublished_data_set_is_readable_by_a_signed_in_platform_admin(
    api, client, private, django_user_model
):
    admin = django_user_model.objects.create_superuser("admin@example.org", "pw")
    client.force_login(admin)
    response = api.get(PRIVATE_URL, {"group_by": "n"})
    assert response.status_code == 200
    assert body(response) == {"data": [{"n": 1, "_count": 1}], "warning": WARNING}


def test_unpublished_data_set_is_not_found_for_a_signed_in_user_without_access(
    api, client, private, django_user_model
):
    client.force_login(django_user_model.objects.create_user("s@example.org", "pw"))
    assert api.get(PRIVATE_URL).status_code == 404


def test_unpublished_data_set_answers_an_invalid_query_without_credentials_with_not_found(
    api, private
):
    assert api.get(PRIVATE_URL, {"period": "fortnight"}).status_code == 404


def test_unknown_data_set_is_not_found(api, db):
    response = api.get("/data/nobody/nothing")
    assert response.status_code == 404
    assert body(response) == {"status": "error", "message": "Data set nobody/nothing not found"}


# HTTP: CORS, caching, ETag, HEAD


def test_read_allows_every_origin(api, data_set):
    assert api.get(URL)["Access-Control-Allow-Origin"] == "*"


def test_query_error_allows_every_origin(api, data_set):
    response = api.get(URL, {"period": "fortnight"})
    assert (response.status_code, response["Access-Control-Allow-Origin"]) == (400, "*")


def test_not_found_error_allows_every_origin(api, db):
    response = api.get("/data/nobody/nothing")
    assert (response.status_code, response["Access-Control-Allow-Origin"]) == (404, "*")


def test_preflight_is_answered_with_the_allowed_methods_and_headers(client, data_set):
    response = client.options(
        URL,
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert response.status_code == 204
    assert response.content == b""
    assert {
        name: response[name]
        for name in (
            "Access-Control-Allow-Origin",
            "Access-Control-Allow-Methods",
            "Access-Control-Allow-Headers",
            "Access-Control-Max-Age",
        )
    } == {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS, POST, PUT",
        "Access-Control-Allow-Headers": (
            "Authorization, Content-Type, Content-Encoding, Cache-Control, GOVUK-Request-Id, "
            "Request-Id"
        ),
        "Access-Control-Max-Age": "86400",
    }


def test_published_read_may_be_cached_publicly_for_60_seconds_by_default(api, data_set):
    assert api.get(URL)["Cache-Control"] == "public, max-age=60"


def test_published_read_may_be_cached_for_the_data_sets_cache_max_age(api, make_data_set):
    make_data_set("test-service", "slow", published=True, cache_max_age=1800)
    response = api.get("/data/test-service/slow", {"group_by": "n"})
    assert (response.status_code, response["Cache-Control"]) == (200, "public, max-age=1800")


def test_unpublished_read_is_private_and_not_cached(api, private):
    assert api.get(PRIVATE_URL, token=private)["Cache-Control"] == "private, no-cache"


def test_etag_is_the_same_for_the_same_data(api, write):
    write({"_id": "r1", "n": 1})
    first, second = api.get(URL), api.get(URL)
    assert first["ETag"].startswith('"') and first["ETag"].endswith('"')
    assert first["ETag"] == second["ETag"]


def test_etag_changes_when_the_data_changes(api, write):
    write({"_id": "r1", "n": 1})
    first = api.get(URL, {"group_by": "n"})["ETag"]
    write({"_id": "r2", "n": 2})
    assert api.get(URL, {"group_by": "n"})["ETag"] != first


def test_if_none_match_with_the_current_etag_gives_not_modified(api, write):
    write({"_id": "r1", "n": 1})
    etag = api.get(URL)["ETag"]
    response = api.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert (response["ETag"], response["Access-Control-Allow-Origin"]) == (etag, "*")
    assert response["Cache-Control"] == "public, max-age=60"


def test_if_none_match_with_an_old_etag_gives_the_data(api, write):
    write({"_id": "r1", "n": 1})
    old = api.get(URL)["ETag"]
    write({"_id": "r2", "n": 2})
    response = api.get(URL, HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200
    assert [record["_id"] for record in body(response)["data"]] == ["r1", "r2"]


def test_head_gives_the_headers_of_a_read_without_a_body(client, api, write):
    write({"_id": "r1", "n": 1})
    response = client.head(URL)
    assert response.status_code == 200
    assert response.content == b""
    assert response["ETag"] == api.get(URL)["ETag"]
    assert response["Content-Type"] == "application/json"


# format=csv


def test_csv_read_has_a_header_row_and_a_row_per_group(api, write):
    write(
        {"_id": "1", "channel": "web", "ok": True, "tag": "a"},
        {"_id": "2", "channel": "web", "ok": False, "tag": "b"},
        {"_id": "3", "channel": "phone", "ok": None},
    )
    response = api.get(
        URL, {"group_by": "channel", "collect": ["tag", "ok:count"], "format": "csv"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="test-service-events.csv"'
    assert content(response).decode() == (
        "channel,_count,tag,tag:set,ok:count\r\n"
        "phone,1,[],[],0\r\n"
        'web,2,"[""a"",""b""]","[""a"",""b""]",2\r\n'
    )


def test_csv_raw_read_has_a_column_per_field_and_empty_cells_for_missing_values(api, write):
    write(
        {"_id": "r1", "_timestamp": "2024-01-01T10:00:00Z", "b": "x", "a": True},
        {"_id": "r2", "_timestamp": "2024-01-02T10:00:00Z", "a": None, "c": 1.5},
    )
    records = body(api.get(URL))["data"]
    lines = content(api.get(URL, {"format": "csv"})).decode().split("\r\n")
    starts = "_hour_start_at,_day_start_at,_week_start_at,_month_start_at,_quarter_start_at"
    # Every field the data set holds, in name order: known before any row is read.
    assert lines[0] == f"_id,_timestamp,a,b,c,{starts},_year_start_at,_updated_at"
    assert lines[1] == (
        "r1,2024-01-01T10:00:00+00:00,true,x,,2024-01-01T10:00:00+00:00,"
        "2024-01-01T00:00:00+00:00,2024-01-01T00:00:00+00:00,2024-01-01T00:00:00+00:00,"
        f"2024-01-01T00:00:00+00:00,2024-01-01T00:00:00+00:00,{records[0]['_updated_at']}"
    )
    assert lines[2] == (
        "r2,2024-01-02T10:00:00+00:00,,,1.5,2024-01-02T10:00:00+00:00,"
        "2024-01-02T00:00:00+00:00,2024-01-01T00:00:00+00:00,2024-01-01T00:00:00+00:00,"
        f"2024-01-01T00:00:00+00:00,2024-01-01T00:00:00+00:00,{records[1]['_updated_at']}"
    )
    assert lines[3:] == [""]


def test_csv_of_a_period_and_group_query_has_a_row_per_group_and_period(api, write):
    write(
        {"_id": "1", "_timestamp": "2024-01-01T10:00:00Z", "channel": "web", "n": 2},
        {"_id": "2", "_timestamp": "2024-01-02T10:00:00Z", "channel": "phone", "n": 5},
    )
    params = {
        "period": "day",
        "group_by": "channel",
        "collect": "n:sum",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2024-01-03T00:00:00Z",
        "format": "csv",
    }
    assert content(api.get(URL, params)).decode() == (
        "channel,_start_at,_end_at,_count,n:sum\r\n"
        "phone,2024-01-01T00:00:00+00:00,2024-01-02T00:00:00+00:00,0,\r\n"
        "phone,2024-01-02T00:00:00+00:00,2024-01-03T00:00:00+00:00,1,5\r\n"
        "web,2024-01-01T00:00:00+00:00,2024-01-02T00:00:00+00:00,1,2\r\n"
        "web,2024-01-02T00:00:00+00:00,2024-01-03T00:00:00+00:00,0,\r\n"
    )


def test_csv_neutralises_text_a_spreadsheet_would_run_and_keeps_numbers(api, write):
    write(
        {"_id": "1", "name": '=HYPERLINK("http://evil","x")', "n": -2},
        {"_id": "2", "name": "@SUM(A1)", "n": -1.5},
        {"_id": "3", "name": "\tplus", "n": 0},
        {"_id": "4", "name": "-1+1", "n": 3},
        {"_id": "5", "name": "-7", "n": 1},
    )
    raw = list(csv.DictReader(io.StringIO(content(api.get(URL, {"format": "csv"})).decode())))
    assert [(row["_id"], row["name"], row["n"]) for row in raw] == [
        ("1", '\'=HYPERLINK("http://evil","x")', "-2"),
        ("2", "'@SUM(A1)", "-1.5"),
        ("3", "'\tplus", "0"),
        ("4", "'-1+1", "3"),
        ("5", "-7", "1"),
    ]
    grouped = content(api.get(URL, {"group_by": "name", "collect": "n:sum", "format": "csv"}))
    assert grouped.decode() == (
        "name,_count,n:sum\r\n"
        "'\tplus,1,0\r\n"
        "'-1+1,1,3\r\n"
        "-7,1,1\r\n"
        '"\'=HYPERLINK(""http://evil"",""x"")",1,-2\r\n'
        "'@SUM(A1),1,-1.5\r\n"
    )


def test_a_raw_csv_read_is_streamed_in_chunks_of_rows(api, write):
    write(*({"_id": f"r{i:04}", "n": i} for i in range(1200)))
    response = api.get(URL, {"format": "csv", "limit": "1200"})
    assert response.streaming
    chunks = list(response.streaming_content)
    # The header and 1,200 records in chunks of 500 rows.
    assert len(chunks) == 3
    assert b"".join(chunks).count(b"\r\n") == 1201


def test_a_csv_read_answers_304_to_its_etag_until_the_next_write(api, write):
    write({"_id": "a", "n": 1})
    first = api.get(URL, {"format": "csv"})
    etag = first["ETag"]
    assert api.get(URL, {"format": "csv"}, HTTP_IF_NONE_MATCH=etag).status_code == 304
    write({"_id": "b", "n": 2})
    assert api.get(URL, {"format": "csv"}, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_csv_of_an_empty_result_is_its_header_row(api, data_set):
    response = api.get(URL, {"group_by": "channel", "format": "csv"})
    assert content(response) == b"channel,_count\r\n"


def test_unknown_format_is_refused(refused):
    assert refused({"format": "xml"}) == "format must be json or csv, not 'xml'"


# start_at and end_at


@pytest.fixture
def days(write):
    """Records at 10:00 UTC on 1 to 5 January 2024, with ids d1 to d5."""
    write(*({"_id": f"d{day}", "_timestamp": f"2024-01-0{day}T10:00:00Z"} for day in range(1, 6)))


def ids(records):
    return [record["_id"] for record in records]


def test_range_includes_start_at_and_excludes_end_at(days, read):
    params = {"start_at": "2024-01-02T10:00:00Z", "end_at": "2024-01-04T10:00:00Z"}
    assert ids(read(params)) == ["d2", "d3"]


def test_range_reads_times_with_an_offset_as_utc(days, read):
    params = {"start_at": "2024-01-02T12:00:00+02:00", "end_at": "2024-01-04T05:00:00-05:00"}
    assert ids(read(params)) == ["d2", "d3"]


def test_range_accepts_an_unencoded_plus_of_an_offset_that_arrives_as_a_space(
    client, days, data_set
):
    response = client.get(
        f"{URL}?start_at=2024-01-02T12:00:00+02:00&end_at=2024-01-04T12:00:00+02:00"
    )
    assert response.status_code == 200, response.content
    assert ids(body(response)["data"]) == ["d2", "d3"]


def test_range_leaves_out_records_without_timestamp(days, write, read):
    write({"_id": "untimed"})
    params = {"start_at": "2024-01-01T00:00:00Z", "end_at": "2024-02-01T00:00:00Z"}
    assert ids(read(params)) == ["d1", "d2", "d3", "d4", "d5"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start_at": "2024-01-01T00:00:00Z"},
            "start_at needs end_at as well (or duration with period for a relative range)",
        ),
        (
            {"end_at": "2024-01-01T00:00:00Z"},
            "end_at needs start_at as well (or duration with period for a relative range)",
        ),
        (
            {"start_at": "2024-01-01", "end_at": "2024-01-02T00:00:00Z"},
            "start_at '2024-01-01' is not an ISO 8601 date-time with a UTC offset, "
            "such as 2024-01-01T00:00:00Z",
        ),
        (
            {"start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-02T00:00:00"},
            "end_at '2024-01-02T00:00:00' is not an ISO 8601 date-time with a UTC offset, "
            "such as 2024-01-01T00:00:00Z",
        ),
        (
            {"start_at": "2024-02-30T00:00:00Z", "end_at": "2024-03-02T00:00:00Z"},
            "start_at '2024-02-30T00:00:00Z' is not an ISO 8601 date-time with a UTC offset, "
            "such as 2024-01-01T00:00:00Z",
        ),
        (
            {"start_at": "2024-01-02T00:00:00Z", "end_at": "2024-01-01T00:00:00Z"},
            "start_at (2024-01-02T00:00:00+00:00) must be before "
            "end_at (2024-01-01T00:00:00+00:00)",
        ),
        (
            {"start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-01T01:00:00+01:00"},
            "start_at (2024-01-01T00:00:00+00:00) must be before "
            "end_at (2024-01-01T00:00:00+00:00)",
        ),
        (
            {"start_at": "0999-12-31T00:00:00Z", "end_at": "2024-01-01T00:00:00Z"},
            "start_at '0999-12-31T00:00:00Z' must be between 1000-01-01T00:00:00Z and "
            "9000-01-01T00:00:00Z",
        ),
        (
            {"start_at": "2024-01-01T00:00:00Z", "end_at": "9999-12-31T00:00:00Z"},
            "end_at '9999-12-31T00:00:00Z' must be between 1000-01-01T00:00:00Z and "
            "9000-01-01T00:00:00Z",
        ),
    ],
    ids=[
        "start-without-end",
        "end-without-start",
        "date-without-time",
        "time-without-offset",
        "impossible-date",
        "start-after-end",
        "start-equal-to-end",
        "before-year-1000",
        "after-year-9000",
    ],
)
def test_range_errors(refused, params, message):
    assert refused(params) == message


# duration


def test_duration_counts_periods_forward_from_the_start_of_start_ats_period(write, read):
    write(
        {"_id": "before", "_timestamp": "2023-12-31T23:59:59Z"},
        {"_id": "in", "_timestamp": "2024-01-01T00:00:00Z"},
        {"_id": "last", "_timestamp": "2024-01-14T23:59:59Z"},
        {"_id": "after", "_timestamp": "2024-01-15T00:00:00Z"},
    )
    # Wednesday 3 January: its week starts on Monday 1 January.
    params = {"start_at": "2024-01-03T12:00:00Z", "duration": "2", "period": "week"}
    assert read(params) == [
        period("2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z", 1),
        period("2024-01-08T00:00:00Z", "2024-01-15T00:00:00Z", 1),
    ]


def test_duration_counts_periods_back_from_the_start_of_end_ats_period(write, read):
    write(
        {"_id": "first", "_timestamp": "2024-01-01T00:00:00Z"},
        {"_id": "left-out", "_timestamp": "2024-03-10T00:00:00Z"},
    )
    params = {"end_at": "2024-03-15T12:00:00Z", "duration": "3", "period": "month"}
    assert read(params) == [
        period("2023-12-01T00:00:00Z", "2024-01-01T00:00:00Z", 0),
        period("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", 1),
        period("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", 0),
    ]


def test_duration_alone_counts_complete_periods_back_from_now(read):
    def expected():
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        days = [today - timedelta(days=n) for n in (3, 2, 1, 0)]
        return [period(iso(start), iso(end), 0) for start, end in itertools.pairwise(days)]

    before = expected()
    result = read({"duration": "3", "period": "day"})
    # Midnight may pass during the request.
    assert result in (before, expected())


def test_duration_range_leaves_out_records_outside_it(days, read):
    params = {"start_at": "2024-01-02T10:00:00Z", "duration": "2", "period": "day"}
    assert read(params) == [
        period("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", 1),
        period("2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z", 1),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"start_at": "2024-01-01T00:00:00Z", "duration": "2"},
            "duration needs a period (hour, day, week, month, quarter, year)",
        ),
        (
            {"duration": "0", "period": "day"},
            "duration must be a positive whole number, not '0'",
        ),
        (
            {"duration": "-1", "period": "day"},
            "duration must be a positive whole number, not '-1'",
        ),
        (
            {"duration": "two", "period": "day"},
            "duration must be a positive whole number, not 'two'",
        ),
        (
            {
                "start_at": "2024-01-01T00:00:00Z",
                "end_at": "2024-02-01T00:00:00Z",
                "duration": "2",
                "period": "day",
            },
            "Absolute and relative time cannot be requested at the same time: give start_at "
            "and end_at, or one of them with duration",
        ),
        (
            {"start_at": "2024-01-01T00:00:00Z", "duration": "8000", "period": "year"},
            "duration is too long: the range must be between 1000-01-01T00:00:00Z and "
            "9000-01-01T00:00:00Z",
        ),
    ],
    ids=["without-period", "zero", "negative", "not-a-number", "with-start-and-end", "too-long"],
)
def test_duration_errors(refused, params, message):
    assert refused(params) == message


# period


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [
        ("hour", "2024-05-15T10:00:00Z", "2024-05-15T11:00:00Z"),
        ("day", "2024-05-15T00:00:00Z", "2024-05-16T00:00:00Z"),
        ("week", "2024-05-13T00:00:00Z", "2024-05-20T00:00:00Z"),
        ("month", "2024-05-01T00:00:00Z", "2024-06-01T00:00:00Z"),
        ("quarter", "2024-04-01T00:00:00Z", "2024-07-01T00:00:00Z"),
        ("year", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ],
)
def test_period_buckets_records_by_the_start_of_their_period(write, read, name, start, end):
    # Wednesday 15 May 2024, and the first moment of each of its periods.
    write({"_id": "a", "_timestamp": "2024-05-15T10:20:30Z"}, {"_id": "b", "_timestamp": start})
    assert read({"period": name}) == [period(start, end, 2)]


def test_period_without_range_lists_only_periods_that_have_records(days, write, read):
    write({"_id": "d9", "_timestamp": "2024-01-09T00:00:00Z"})
    assert read({"period": "week"}) == [
        period("2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z", 5),
        period("2024-01-08T00:00:00Z", "2024-01-15T00:00:00Z", 1),
    ]


def test_period_with_range_lists_every_period_with_zero_count_and_null_collections(write, read):
    write({"_id": "a", "_timestamp": "2024-01-02T10:00:00Z", "n": 3})
    params = {
        "period": "day",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2024-01-04T00:00:00Z",
        "collect": ["n:sum", "n:mean", "n:count", "n:set", "n"],
    }
    empty = {"n:sum": None, "n:mean": None, "n:count": None, "n:set": None, "n": None}
    assert read(params) == [
        period("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 0, **empty),
        period(
            "2024-01-02T00:00:00Z",
            "2024-01-03T00:00:00Z",
            1,
            **{"n:sum": 3, "n:mean": 3.0, "n:count": 1, "n:set": [3], "n": [3]},
        ),
        period("2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z", 0, **empty),
    ]


def test_period_leaves_out_records_without_timestamp(write, read):
    write({"_id": "timed", "_timestamp": "2024-01-01T00:00:00Z"}, {"_id": "untimed"})
    assert read({"period": "year"}) == [period("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 1)]


def test_period_range_not_on_period_starts_covers_the_periods_it_touches(write, read):
    write(
        {"_id": "early", "_timestamp": "2024-01-01T06:00:00Z"},
        {"_id": "in-1", "_timestamp": "2024-01-01T18:00:00Z"},
        {"_id": "in-3", "_timestamp": "2024-01-03T06:00:00Z"},
        {"_id": "late", "_timestamp": "2024-01-03T18:00:00Z"},
    )
    params = {"period": "day", "start_at": "2024-01-01T12:00:00Z", "end_at": "2024-01-03T12:00:00Z"}
    assert read(params) == [
        period("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 1),
        period("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", 0),
        period("2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z", 1),
    ]


def test_week_periods_start_on_monday_across_a_year_end(write, read):
    write(
        {"_id": "sunday", "_timestamp": "2024-12-29T23:59:59Z"},
        {"_id": "monday", "_timestamp": "2024-12-30T00:00:00Z"},
        {"_id": "new-year", "_timestamp": "2025-01-05T23:59:59Z"},
    )
    assert read({"period": "week"}) == [
        period("2024-12-23T00:00:00Z", "2024-12-30T00:00:00Z", 1),
        period("2024-12-30T00:00:00Z", "2025-01-06T00:00:00Z", 2),
    ]


def test_month_periods_follow_the_calendar(write, read):
    write(
        {"_id": "leap-day", "_timestamp": "2024-02-29T23:59:59Z"},
        {"_id": "march", "_timestamp": "2024-03-01T00:00:00Z"},
    )
    params = {
        "period": "month",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2024-04-01T00:00:00Z",
    }
    assert read(params) == [
        period("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", 0),
        period("2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z", 1),
        period("2024-03-01T00:00:00Z", "2024-04-01T00:00:00Z", 1),
    ]


def test_quarter_periods_start_in_january_april_july_and_october(write, read):
    write({"_id": "a", "_timestamp": "2024-09-30T23:59:59Z"})
    params = {
        "period": "quarter",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2025-01-01T00:00:00Z",
    }
    assert read(params) == [
        period("2024-01-01T00:00:00Z", "2024-04-01T00:00:00Z", 0),
        period("2024-04-01T00:00:00Z", "2024-07-01T00:00:00Z", 0),
        period("2024-07-01T00:00:00Z", "2024-10-01T00:00:00Z", 1),
        period("2024-10-01T00:00:00Z", "2025-01-01T00:00:00Z", 0),
    ]


def test_unknown_period_is_refused(refused):
    assert refused({"period": "fortnight"}) == (
        "period must be one of hour, day, week, month, quarter, year, not 'fortnight'"
    )


# group_by


@pytest.fixture
def visits(write):
    write(
        {"_id": "1", "_timestamp": "2024-01-01T10:00:00Z", "channel": "web", "region": "north"},
        {"_id": "2", "_timestamp": "2024-01-02T10:00:00Z", "channel": "web", "region": "south"},
        {"_id": "3", "_timestamp": "2024-01-08T10:00:00Z", "channel": "phone", "region": "north"},
        {"_id": "4", "_timestamp": "2024-01-09T10:00:00Z", "channel": "web", "region": "north"},
        {"_id": "5", "channel": "post"},
        {"_id": "6", "_timestamp": "2024-01-09T10:00:00Z", "channel": None, "region": "north"},
        {"_id": "7", "_timestamp": "2024-01-09T10:00:00Z", "region": "south"},
    )


def test_group_by_counts_the_records_of_each_value_in_ascending_order(visits, read):
    assert read({"group_by": "channel"}) == [
        {"channel": "phone", "_count": 1},
        {"channel": "post", "_count": 1},
        {"channel": "web", "_count": 3},
    ]


def test_group_by_several_fields_gives_a_group_per_combination(visits, read):
    assert read({"group_by": ["channel", "region"]}) == [
        {"channel": "phone", "region": "north", "_count": 1},
        {"channel": "web", "region": "north", "_count": 2},
        {"channel": "web", "region": "south", "_count": 1},
    ]


def test_group_by_leaves_out_records_missing_the_field_or_holding_null(visits, read):
    assert read({"group_by": "region"}) == [
        {"region": "north", "_count": 4},
        {"region": "south", "_count": 2},
    ]


def test_group_by_keeps_value_types_and_orders_booleans_then_numbers_then_strings(write, read):
    values = ["a", "10", 10, 2, True, False, 2.5]
    write(*({"_id": str(i), "v": value} for i, value in enumerate(values)))
    assert read({"group_by": "v"}) == [
        {"v": value, "_count": 1} for value in [False, True, 2, 2.5, 10, "10", "a"]
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"group_by": "_timestamp"}, "group_by: cannot group by internal field '_timestamp'"),
        ({"group_by": "my-field"}, "group_by: 'my-field' is not a valid field name"),
        ({"group_by": ""}, "group_by: '' is not a valid field name"),
        (
            {"group_by": ["channel", "region", "channel"]},
            "group_by: 'channel' is given twice",
        ),
    ],
    ids=["internal-field", "invalid-name", "empty", "given-twice"],
)
def test_group_by_errors(refused, params, message):
    assert refused(params) == message


# filter_by and filter_by_prefix


def test_filter_by_keeps_records_whose_field_is_that_string(visits, read):
    assert ids(read({"filter_by": "channel:web"})) == ["1", "2", "4"]


def test_filter_by_true_matches_boolean_true_and_the_string_true(write, read):
    write(
        {"_id": "bool", "done": True},
        {"_id": "text", "done": "true"},
        {"_id": "false", "done": False},
        {"_id": "number", "done": 1},
    )
    assert ids(read({"filter_by": "done:true"})) == ["bool", "text"]


def test_filter_by_false_matches_boolean_false_and_the_string_false(write, read):
    write(
        {"_id": "bool", "done": False},
        {"_id": "text", "done": "false"},
        {"_id": "true", "done": True},
        {"_id": "zero", "done": 0},
        {"_id": "null", "done": None},
    )
    assert ids(read({"filter_by": "done:false"})) == ["bool", "text"]


def test_filter_by_matches_strings_only_never_numbers(write, read):
    # As in backdrop: the value is a string (or a boolean), so a number never matches.
    write({"_id": "number", "n": 7}, {"_id": "text", "n": "7"})
    assert ids(read({"filter_by": "n:7"})) == ["text"]


def test_filter_by_several_filters_must_all_match(visits, read):
    params = {"filter_by": ["channel:web", "region:north"]}
    assert ids(read(params)) == ["1", "4"]


def test_filter_by_the_same_field_twice_needs_both_values(visits, read):
    assert read({"filter_by": ["channel:web", "channel:phone"]}) == []


def test_filter_by_value_may_contain_colons_and_unicode(write, read):
    write({"_id": "a", "at": "10:30 café"}, {"_id": "b", "at": "10:30"})
    assert ids(read({"filter_by": "at:10:30 café"})) == ["a"]


def test_filter_by_narrows_grouped_queries(visits, read):
    assert read({"filter_by": "region:north", "group_by": "channel"}) == [
        {"channel": "phone", "_count": 1},
        {"channel": "web", "_count": 2},
    ]


def test_filter_by_narrows_period_queries(visits, read):
    assert read({"filter_by": "channel:web", "period": "week"}) == [
        period("2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z", 2),
        period("2024-01-08T00:00:00Z", "2024-01-15T00:00:00Z", 1),
    ]


def test_filter_by_prefix_keeps_strings_that_start_with_it(write, read):
    write(
        {"_id": "1", "channel": "web"},
        {"_id": "2", "channel": "web-chat"},
        {"_id": "3", "channel": "Web"},
        {"_id": "4", "channel": "phone"},
        {"_id": "5"},
    )
    assert ids(read({"filter_by_prefix": "channel:web"})) == ["1", "2"]


def test_filter_by_prefix_never_matches_numbers_or_booleans(write, read):
    write({"_id": "1", "v": 12}, {"_id": "2", "v": True}, {"_id": "3", "v": "12"})
    assert ids(read({"filter_by_prefix": "v:1"})) == ["3"]
    assert read({"filter_by_prefix": "v:tr"}) == []


def test_filter_by_prefix_several_prefixes_must_all_match(write, read):
    write(
        {"_id": "1", "a": "xa", "b": "ya"},
        {"_id": "2", "a": "xb", "b": "zb"},
        {"_id": "3", "a": "wa", "b": "ya"},
    )
    assert ids(read({"filter_by_prefix": ["a:x", "b:y"]})) == ["1"]


def test_filter_by_and_filter_by_prefix_combine(write, read):
    write(
        {"_id": "1", "a": "on", "b": "web-1"},
        {"_id": "2", "a": "off", "b": "web-2"},
        {"_id": "3", "a": "on", "b": "phone"},
    )
    assert ids(read({"filter_by": "a:on", "filter_by_prefix": "b:web"})) == ["1"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"filter_by": "channel"}, "filter_by must be field:value, not 'channel'"),
        ({"filter_by": "_id:1"}, "filter_by: cannot filter by internal field '_id'"),
        ({"filter_by": "my-field:1"}, "filter_by: 'my-field' is not a valid field name"),
        ({"filter_by": ":web"}, "filter_by: '' is not a valid field name"),
        ({"filter_by_prefix": "channel"}, "filter_by_prefix must be field:value, not 'channel'"),
        (
            {"filter_by_prefix": "_timestamp:2024"},
            "filter_by_prefix: cannot filter by internal field '_timestamp'",
        ),
        (
            {"filter_by_prefix": "a.b:web"},
            "filter_by_prefix: 'a.b' is not a valid field name",
        ),
        (
            {"filter_by": "channel:w\x00b"},
            "filter_by must not contain the NUL character (\\u0000)",
        ),
    ],
    ids=[
        "no-colon",
        "internal-field",
        "invalid-name",
        "empty-name",
        "prefix-no-colon",
        "prefix-internal-field",
        "prefix-invalid-name",
        "nul-character",
    ],
)
def test_filter_errors(refused, params, message):
    assert refused(params) == message


# collect


def test_plain_collect_gives_the_sorted_distinct_values_as_field_and_field_set(write, read):
    write(
        {"_id": "1", "g": "a", "tag": "b"},
        {"_id": "2", "g": "a", "tag": "a"},
        {"_id": "3", "g": "a", "tag": "b"},
        {"_id": "4", "g": "a", "tag": None},
        {"_id": "5", "g": "a"},
    )
    assert read({"group_by": "g", "collect": "tag"}) == [
        {"g": "a", "_count": 5, "tag": ["a", "b"], "tag:set": ["a", "b"]}
    ]


def test_collect_set_gives_sorted_distinct_values_of_every_type(write, read):
    values = ["b", 2, True, "a", 2, None, 1.5, False]
    write(*({"_id": str(i), "g": "x", "v": value} for i, value in enumerate(values)))
    assert read({"group_by": "g", "collect": "v:set"}) == [
        {"g": "x", "_count": 8, "v:set": [False, True, 1.5, 2, "a", "b"]}
    ]


@pytest.fixture
def amounts(write):
    write(
        {"_id": "1", "g": "a", "value": 10},
        {"_id": "2", "g": "a", "value": 17},
        {"_id": "3", "g": "a", "value": None},
        {"_id": "4", "g": "b", "other": 1},
        {"_id": "5", "g": "c", "value": 1.5},
        {"_id": "6", "g": "c", "value": 2.25},
    )


def test_collect_sum_adds_the_values_and_keeps_whole_sums_of_integers_whole(amounts, read):
    result = read({"group_by": "g", "collect": "value:sum"})
    assert result == [
        {"g": "a", "_count": 3, "value:sum": 27},
        {"g": "b", "_count": 1, "value:sum": 0},
        {"g": "c", "_count": 2, "value:sum": 3.75},
    ]
    assert [type(item["value:sum"]) for item in result] == [int, int, float]


def test_collect_mean_averages_the_values_that_are_not_null(amounts, read):
    assert read({"group_by": "g", "collect": "value:mean"}) == [
        {"g": "a", "_count": 3, "value:mean": 13.5},
        {"g": "b", "_count": 1, "value:mean": None},
        {"g": "c", "_count": 2, "value:mean": 1.875},
    ]


def test_collect_count_counts_the_values_that_are_not_null(write, read):
    values = [0, False, "", None]
    write(*({"_id": str(i), "g": "x", "v": value} for i, value in enumerate(values)))
    write({"_id": "missing", "g": "x"})
    assert read({"group_by": "g", "collect": "v:count"}) == [{"g": "x", "_count": 5, "v:count": 3}]


def test_collect_several_fields_and_methods_at_once(amounts, read):
    params = {"group_by": "g", "collect": ["value:sum", "value:count", "other", "value:set"]}
    assert read(params) == [
        {
            "g": "a",
            "_count": 3,
            "value:sum": 27,
            "value:count": 2,
            "other": [],
            "other:set": [],
            "value:set": [10, 17],
        },
        {
            "g": "b",
            "_count": 1,
            "value:sum": 0,
            "value:count": 0,
            "other": [1],
            "other:set": [1],
            "value:set": [],
        },
        {
            "g": "c",
            "_count": 2,
            "value:sum": 3.75,
            "value:count": 2,
            "other": [],
            "other:set": [],
            "value:set": [1.5, 2.25],
        },
    ]


def test_collect_with_period_collects_per_period(write, read):
    write(
        {"_id": "1", "_timestamp": "2024-01-01T10:00:00Z", "n": 2},
        {"_id": "2", "_timestamp": "2024-01-01T11:00:00Z", "n": 3},
        {"_id": "3", "_timestamp": "2024-01-02T10:00:00Z", "n": 7},
    )
    assert read({"period": "day", "collect": ["n:sum", "n:mean"]}) == [
        period("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 2, **{"n:sum": 5, "n:mean": 2.5}),
        period("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", 1, **{"n:sum": 7, "n:mean": 7.0}),
    ]


@pytest.mark.parametrize("method", ["sum", "mean"])
def test_collect_sum_and_mean_refuse_strings_naming_the_field(write, refused, method):
    write({"_id": "1", "g": "a", "value": 3}, {"_id": "2", "g": "a", "value": "lots"})
    assert refused({"group_by": "g", "collect": f"value:{method}"}) == (
        f"Cannot {method} field 'value': it holds values that are not numbers (such as \"lots\")"
    )


def test_collect_mean_refuses_booleans_naming_the_field(write, refused):
    write(
        {"_id": "1", "_timestamp": "2024-01-01T00:00:00Z", "value": 3},
        {"_id": "2", "_timestamp": "2024-01-01T00:00:00Z", "value": True},
    )
    assert refused({"period": "year", "collect": "value:mean"}) == (
        "Cannot mean field 'value': it holds values that are not numbers (such as true)"
    )


def test_collect_sum_ignores_non_numbers_in_records_the_filters_leave_out(write, read):
    write(
        {"_id": "1", "_timestamp": "2024-01-01T00:00:00Z", "kind": "ok", "value": 2},
        {"_id": "2", "_timestamp": "2024-01-01T00:00:00Z", "kind": "bad", "value": "lots"},
        {"_id": "3", "_timestamp": "2024-02-01T00:00:00Z", "kind": "ok", "value": "late"},
        {"_id": "4", "_timestamp": "2024-01-01T00:00:00Z", "kind": "ok", "value": 5},
    )
    params = {
        "group_by": "kind",
        "collect": "value:sum",
        "filter_by": "kind:ok",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2024-01-02T00:00:00Z",
    }
    assert read(params) == [{"kind": "ok", "_count": 2, "value:sum": 7}]


def test_collect_count_and_set_accept_any_values(write, read):
    write({"_id": "1", "g": "a", "value": 3}, {"_id": "2", "g": "a", "value": "lots"})
    assert read({"group_by": "g", "collect": ["value:count", "value:set"]}) == [
        {"g": "a", "_count": 2, "value:count": 2, "value:set": [3, "lots"]}
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"collect": "value:sum"}, "collect needs group_by or period"),
        (
            {"group_by": ["g", "channel"], "collect": "channel"},
            "collect: cannot collect the group_by field 'channel'",
        ),
        (
            {"group_by": "g", "collect": "_timestamp"},
            "collect: cannot collect internal field '_timestamp'",
        ),
        (
            {"group_by": "g", "collect": "value:median"},
            "collect: unknown method 'median' in 'value:median'; use one of sum, mean, count, set",
        ),
        (
            {"group_by": "g", "collect": "value:"},
            "collect: unknown method '' in 'value:'; use one of sum, mean, count, set",
        ),
        ({"group_by": "g", "collect": "my-field"}, "collect: 'my-field' is not a valid field name"),
    ],
    ids=["without-group-or-period", "group-by-field", "internal", "unknown", "empty", "invalid"],
)
def test_collect_errors(refused, params, message):
    assert refused(params) == message


# sort_by


@pytest.fixture
def ranked(write):
    write(
        {"_id": "r1", "_timestamp": "2024-01-03T00:00:00Z", "n": 2},
        {"_id": "r2", "_timestamp": "2024-01-01T00:00:00Z", "n": 1},
        {"_id": "r3", "_timestamp": "2024-01-02T00:00:00Z", "n": 2},
        {"_id": "r0", "_timestamp": "2024-01-02T00:00:00Z", "n": 2},
        {"_id": "r5", "_timestamp": "2024-01-05T00:00:00Z"},
        {"_id": "r4", "n": 2},
    )


def test_sort_by_ascending_orders_raw_records_by_the_field_then_timestamp_then_id(ranked, read):
    assert ids(read({"sort_by": "n:ascending"})) == ["r5", "r2", "r4", "r0", "r3", "r1"]


def test_sort_by_descending_orders_raw_records_by_the_field_then_timestamp_then_id(ranked, read):
    assert ids(read({"sort_by": "n:descending"})) == ["r4", "r0", "r3", "r1", "r2", "r5"]


def test_sort_by_orders_strings_by_code_point(write, read):
    write({"_id": "1", "s": "é"}, {"_id": "2", "s": "a"}, {"_id": "3", "s": "B"})
    assert ids(read({"sort_by": "s:ascending"})) == ["3", "2", "1"]


def test_sort_by_timestamp_descending_gives_the_newest_raw_records_first(ranked, read):
    assert ids(read({"sort_by": "_timestamp:descending", "limit": "3"})) == ["r5", "r1", "r0"]


def test_sort_by_id_orders_raw_records_by_id(ranked, read):
    assert ids(read({"sort_by": "_id:descending"})) == ["r5", "r4", "r3", "r2", "r1", "r0"]


def test_sort_by_group_field_descending(visits, read):
    assert [
        g["channel"] for g in read({"group_by": "channel", "sort_by": "channel:descending"})
    ] == [
        "web",
        "post",
        "phone",
    ]


def test_sort_by_count_ascending(visits, read):
    assert read({"group_by": "region", "sort_by": "_count:ascending"}) == [
        {"region": "south", "_count": 2},
        {"region": "north", "_count": 4},
    ]


def test_sort_by_count_descending_keeps_ties_in_group_order(visits, read):
    assert read({"group_by": "channel", "sort_by": "_count:descending"}) == [
        {"channel": "web", "_count": 3},
        {"channel": "phone", "_count": 1},
        {"channel": "post", "_count": 1},
    ]


def test_sort_by_a_collected_key(amounts, read):
    result = read({"group_by": "g", "collect": "value:sum", "sort_by": "value:sum:descending"})
    assert [(g["g"], g["value:sum"]) for g in result] == [("a", 27), ("c", 3.75), ("b", 0)]


def test_sort_by_count_of_period_and_group_results(visits, read):
    result = read({"group_by": "channel", "period": "week", "sort_by": "_count:descending"})
    assert [(g["channel"], g["_count"], g["_group_count"]) for g in result] == [
        ("web", 3, 2),
        ("phone", 1, 1),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"period": "day", "sort_by": "_count:descending"},
            "sort_by is not allowed for period queries without group_by: "
            "they are always in time order",
        ),
        (
            {"sort_by": "n:upwards"},
            "sort_by must be field:ascending or field:descending, not 'n:upwards'",
        ),
        ({"sort_by": "n"}, "sort_by must be field:ascending or field:descending, not 'n'"),
        ({"sort_by": "my-field:ascending"}, "sort_by: 'my-field' is not a valid field name"),
        ({"sort_by": "n:sum:ascending"}, "'n:sum' is not a valid field name"),
        (
            {"group_by": "channel", "sort_by": "n:ascending"},
            "Cannot sort by 'n': sort by one of _count, channel",
        ),
        (
            {"group_by": "channel", "sort_by": "n:sum:ascending"},
            "Cannot sort by 'n:sum': sort by one of _count, channel",
        ),
        (
            {
                "group_by": "channel",
                "period": "day",
                "collect": "n:sum",
                "sort_by": "n:sum:ascending",
            },
            "Cannot sort by 'n:sum': sort by one of _count, _group_count, channel",
        ),
    ],
    ids=[
        "period-without-group",
        "bad-direction",
        "no-direction",
        "invalid-name",
        "collected-key-of-raw-records",
        "unknown-group-key",
        "not-collected",
        "collected-key-of-nested-periods",
    ],
)
def test_sort_by_errors(visits, refused, params, message):
    assert refused(params) == message


# limit


def test_limit_keeps_the_first_raw_records(ranked, read):
    assert ids(read({"limit": "2"})) == ["r4", "r2"]


def test_limit_applies_after_sorting_groups(visits, read):
    assert read({"group_by": "channel", "sort_by": "_count:descending", "limit": "1"}) == [
        {"channel": "web", "_count": 3}
    ]


def test_limit_keeps_the_first_periods(days, read):
    params = {"period": "day", "limit": "2"}
    assert read(params) == [
        period("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 1),
        period("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", 1),
    ]


def test_limit_keeps_the_first_groups_of_a_period_query(visits, read):
    result = read({"period": "week", "group_by": "channel", "limit": "1"})
    assert [g["channel"] for g in result] == ["phone"]


def test_limit_zero_gives_nothing(ranked, read):
    assert read({"limit": "0"}) == []


def test_limit_larger_than_any_database_integer_gives_every_group(ranked, read):
    assert len(read({"group_by": "n", "limit": "9" * 40})) == 2


def test_a_raw_read_gives_the_first_thousand_records_unless_limit_says_otherwise(api, write):
    write(*({"_id": f"r{i:04}", "n": i} for i in range(1001)))
    assert len(body(api.get(URL))["data"]) == 1000
    assert len(body(api.get(URL, {"limit": "1001"}))["data"]) == 1001
    assert body(api.get(URL, {"limit": "10000"}))["data"][-1]["_id"] == "r1000"


@pytest.mark.parametrize("value", ["-1", "ten", "1.5", "", "²", "٣"])
def test_limit_that_is_not_a_whole_number_is_refused(refused, value):
    assert refused({"limit": value}) == f"limit must be a non-negative whole number, not {value!r}"


# period and group_by together; flatten


def test_period_with_group_by_nests_each_groups_periods_and_fills_the_range(visits, read):
    params = {
        "period": "week",
        "group_by": "channel",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2024-01-22T00:00:00Z",
    }
    weeks = [
        ("2024-01-01T00:00:00Z", "2024-01-08T00:00:00Z"),
        ("2024-01-08T00:00:00Z", "2024-01-15T00:00:00Z"),
        ("2024-01-15T00:00:00Z", "2024-01-22T00:00:00Z"),
    ]
    assert read(params) == [
        {
            "channel": "phone",
            "_count": 1,
            "_group_count": 1,
            "values": [period(*weeks[0], 0), period(*weeks[1], 1), period(*weeks[2], 0)],
        },
        {
            "channel": "web",
            "_count": 3,
            "_group_count": 2,
            "values": [period(*weeks[0], 2), period(*weeks[1], 1), period(*weeks[2], 0)],
        },
    ]


def test_period_with_group_by_without_range_lists_only_each_groups_periods(visits, read):
    params = {"period": "week", "group_by": "channel", "collect": "region"}
    assert read(params) == [
        {
            "channel": "phone",
            "_count": 1,
            "_group_count": 1,
            "values": [
                period(
                    "2024-01-08T00:00:00Z",
                    "2024-01-15T00:00:00Z",
                    1,
                    **{"region": ["north"], "region:set": ["north"]},
                )
            ],
        },
        {
            "channel": "web",
            "_count": 3,
            "_group_count": 2,
            "values": [
                period(
                    "2024-01-01T00:00:00Z",
                    "2024-01-08T00:00:00Z",
                    2,
                    **{"region": ["north", "south"], "region:set": ["north", "south"]},
                ),
                period(
                    "2024-01-08T00:00:00Z",
                    "2024-01-15T00:00:00Z",
                    1,
                    **{"region": ["north"], "region:set": ["north"]},
                ),
            ],
        },
    ]


def test_flatten_gives_one_row_per_group_and_period(visits, read):
    params = {
        "period": "week",
        "group_by": "channel",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2024-01-15T00:00:00Z",
        "collect": "region:count",
        "flatten": "true",
    }
    first = {"_start_at": "2024-01-01T00:00:00+00:00", "_end_at": "2024-01-08T00:00:00+00:00"}
    second = {"_start_at": "2024-01-08T00:00:00+00:00", "_end_at": "2024-01-15T00:00:00+00:00"}
    assert read(params) == [
        {"channel": "phone", **first, "_count": 0, "region:count": None},
        {"channel": "phone", **second, "_count": 1, "region:count": 1},
        {"channel": "web", **first, "_count": 2, "region:count": 2},
        {"channel": "web", **second, "_count": 1, "region:count": 1},
    ]


def test_flatten_rows_may_be_sorted_and_limited(visits, read):
    params = {
        "period": "week",
        "group_by": "channel",
        "flatten": "true",
        "sort_by": "_count:descending",
        "limit": "2",
    }
    assert [(row["channel"], row["_start_at"], row["_count"]) for row in read(params)] == [
        ("web", "2024-01-01T00:00:00+00:00", 2),
        ("phone", "2024-01-08T00:00:00+00:00", 1),
    ]


def test_flatten_false_keeps_periods_nested(visits, read):
    params = {"period": "week", "group_by": "channel"}
    assert read({**params, "flatten": "false"}) == read(params)
    assert "values" in read(params)[0]


def test_flatten_must_be_true_or_false(refused):
    assert refused({"flatten": "yes"}) == "flatten must be true or false, not 'yes'"


# inclusive


def test_inclusive_with_period_extends_end_at_to_the_end_of_its_period(days, read):
    params = {"period": "day", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-03T00:00:00Z"}
    assert len(read(params)) == 2
    assert read({**params, "inclusive": "true"}) == [
        period("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 1),
        period("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", 1),
        period("2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z", 1),
    ]


def test_inclusive_with_period_includes_the_rest_of_end_ats_period(days, read):
    params = {
        "period": "day",
        "start_at": "2024-01-01T00:00:00Z",
        "end_at": "2024-01-03T05:00:00Z",
        "inclusive": "true",
    }
    assert [p["_count"] for p in read(params)] == [1, 1, 1]


def test_inclusive_without_period_includes_a_record_at_end_at(days, read):
    params = {"start_at": "2024-01-01T10:00:00Z", "end_at": "2024-01-03T10:00:00Z"}
    assert ids(read(params)) == ["d1", "d2"]
    assert ids(read({**params, "inclusive": "true"})) == ["d1", "d2", "d3"]


def test_inclusive_false_changes_nothing(days, read):
    params = {"start_at": "2024-01-01T10:00:00Z", "end_at": "2024-01-03T10:00:00Z"}
    assert ids(read({**params, "inclusive": "false"})) == ["d1", "d2"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"inclusive": "true"}, "inclusive needs end_at (or duration)"),
        (
            {
                "inclusive": "1",
                "start_at": "2024-01-01T00:00:00Z",
                "end_at": "2024-01-02T00:00:00Z",
            },
            "inclusive must be true or false, not '1'",
        ),
    ],
    ids=["without-end-at", "not-a-boolean"],
)
def test_inclusive_errors(refused, params, message):
    assert refused(params) == message


# parameters


def test_unknown_parameters_are_refused_naming_them(refused):
    assert refused({"size": "1", "colour": "red", "group_by": "g"}) == (
        "Unknown parameter(s): colour, size. The read API accepts: start_at, end_at, duration, "
        "period, sort_by, limit, flatten, inclusive, format, group_by, filter_by, "
        "filter_by_prefix, collect"
    )


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("start_at", ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"]),
        ("end_at", ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"]),
        ("duration", ["1", "2"]),
        ("period", ["day", "day"]),
        ("sort_by", ["n:ascending", "n:descending"]),
        ("limit", ["1", "2"]),
        ("flatten", ["true", "true"]),
        ("inclusive", ["true", "false"]),
        ("format", ["csv", "json"]),
    ],
)
def test_single_valued_parameter_given_twice_is_refused(refused, name, values):
    assert refused({name: values}) == f"{name} may be given only once"


# data sets that do not allow raw queries


def test_data_set_without_raw_queries_refuses_a_query_without_group_by_or_period(strict):
    params = {"start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-08T00:00:00Z"}
    assert strict(params) == (
        400,
        {
            "status": "error",
            "message": "This data set does not allow raw queries: add group_by or period",
        },
    )


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "channel"},
        {"period": "day"},
        {"period": "week", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-08T00:00:00Z"},
        {"period": "month", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-03-01T00:00:00Z"},
        {
            "group_by": "channel",
            "start_at": "2024-01-03T00:00:00Z",
            "end_at": "2024-01-10T00:00:00Z",
        },
        {"period": "hour", "start_at": "2024-01-01T10:00:00Z", "end_at": "2024-01-01T12:00:00Z"},
        {"period": "week", "duration": "2"},
        {"period": "month", "start_at": "2024-01-01T00:00:00Z", "duration": "1"},
    ],
    ids=[
        "group-by",
        "period",
        "whole-week",
        "whole-months",
        "seven-days",
        "hours-need-no-midnight-nor-seven-days",
        "relative-range",
        "month-from-its-first-day",
    ],
)
def test_data_set_without_raw_queries_answers_aggregated_queries(strict, params):
    status, payload = strict(params)
    assert status == 200, payload
    assert list(payload) == ["data"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"group_by": "g", "start_at": "2024-01-01T00:00:01Z", "end_at": "2024-01-08T00:00:00Z"},
            "start_at must be midnight UTC for this data set",
        ),
        (
            {"group_by": "g", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-08T12:00:00Z"},
            "end_at must be midnight UTC for this data set",
        ),
        (
            {
                "period": "day",
                "start_at": "2024-01-01T00:00:00+01:00",
                "end_at": "2024-01-09T00:00:00Z",
            },
            "start_at must be midnight UTC for this data set",
        ),
        (
            {"period": "day", "start_at": "2024-01-01T00:00:00Z", "end_at": "2024-01-07T00:00:00Z"},
            "start_at and end_at must be at least 7 days apart for this data set",
        ),
        (
            {
                "period": "week",
                "start_at": "2024-01-02T00:00:00Z",
                "end_at": "2024-01-15T00:00:00Z",
            },
            "start_at must be a Monday for period=week",
        ),
        (
            {
                "period": "week",
                "start_at": "2024-01-01T00:00:00Z",
                "end_at": "2024-01-14T00:00:00Z",
            },
            "end_at must be a Monday for period=week",
        ),
        (
            {
                "period": "month",
                "start_at": "2024-01-02T00:00:00Z",
                "end_at": "2024-03-01T00:00:00Z",
            },
            "start_at must be the first day of a month for period=month",
        ),
        (
            {
                "period": "month",
                "start_at": "2024-01-01T00:00:00Z",
                "end_at": "2024-02-29T00:00:00Z",
            },
            "end_at must be the first day of a month for period=month",
        ),
        (
            {
                "period": "quarter",
                "start_at": "2024-02-01T00:00:00Z",
                "end_at": "2024-07-01T00:00:00Z",
            },
            "start_at must be the first day of a quarter (January, April, July or October) "
            "for period=quarter",
        ),
        (
            {
                "period": "year",
                "start_at": "2024-01-01T00:00:00Z",
                "end_at": "2024-12-01T00:00:00Z",
            },
            "end_at must be the first day of a year for period=year",
        ),
        (
            {"period": "week", "start_at": "2024-01-03T00:00:00Z", "duration": "2"},
            "start_at must be a Monday for period=week",
        ),
    ],
    ids=[
        "start-not-midnight",
        "end-not-midnight",
        "midnight-in-another-offset",
        "six-days",
        "week-start-not-monday",
        "week-end-not-monday",
        "month-start-not-first",
        "month-end-not-first",
        "quarter-start",
        "year-end",
        "relative-week-from-wednesday",
    ],
)
def test_data_set_without_raw_queries_refuses_ranges_not_on_whole_periods(strict, params, message):
    assert strict(params) == (400, {"status": "error", "message": message})
