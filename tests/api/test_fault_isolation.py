"""One service's data never takes a shared page down (issue 13, finding 1).

A number stored before numbers were bounded (written here straight into the table, as the
write path now refuses it) made SQLite's sum() fail with "integer overflow" on every page that
adds up the service's data, and PostgreSQL's read and KPI APIs fail with "Integer exceeds 64-bit
range". Now the figure that needs the sum says it cannot be added up, and every other page and
figure is as before. Also: a value at each bound through the write and read API.
"""

import pytest

from helpers import assert_error, body
from perfplat.datasets.models import Record
from perfplat.kpis import services as kpi_services
from perfplat.public import caching
from public_fixtures import NOW, build_public_world

OLD_HUGE = 9223372036854770000
SHARED_PAGES = [
    "/",
    "/index.json",
    "/index.csv",
    "/services",
    "/services.json",
    "/services.csv",
    "/services/renew",
    "/services/renew.json",
    "/services/renew.csv",
    "/services/book",
    "/organisations/transport",
    "/organisations/transport.json",
    "/organisations/transport.csv",
    "/organisations/licensing",
    "/compare?services=renew,book,jab",
    "/compare.json?services=renew,book,jab",
    "/compare.csv?services=renew,book,jab",
    "/api/kpis",
    "/api/kpis?format=csv",
    "/api/services/renew/kpis",
    "/api/organisations/transport/kpis",
]
CANNOT_ADD_UP = (
    "the transactions-by-channel data cannot be added up: Cannot sum field 'count': the "
    "result lies beyond ±9007199254740991 (2^53 - 1), the largest number perfplat adds up "
    "exactly"
)


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(kpi_services, "current_time", lambda: NOW)


@pytest.fixture(autouse=True)
def empty_cache():
    caching.cache().clear()
    yield
    caching.cache().clear()


@pytest.fixture
def world(db):
    world = build_public_world()
    # Values written before the bound, as anyone with the data set's token once could.
    for record in Record.objects.filter(data_set=world.renew_transactions):
        record.data = {**record.data, "count": OLD_HUGE}
        record.save()
    return world


@pytest.mark.parametrize("url", SHARED_PAGES)
def test_no_shared_page_fails_because_of_one_services_numbers(client, world, url):
    response = client.get(url, HTTP_ACCEPT="text/html")
    assert response.status_code == 200, response.content[:3000]


def test_the_figure_that_cannot_be_added_up_says_so_and_the_others_stand(client, world):
    renew = body(client.get("/api/services/renew/kpis"))
    january = renew["periods"][-1]["kpis"]
    assert january["digital_take_up"]["value"] is None
    assert january["digital_take_up"]["not_enough_data"] == CANNOT_ADD_UP
    assert january["user_satisfaction"]["value"] == 0.8
    assert january["completion_rate"]["value"] == 0.8
    # Another service's figures are untouched.
    book = body(client.get("/api/services/book/kpis"))["periods"][-1]["kpis"]
    assert book["digital_take_up"]["value"] == 0.1


def test_the_dashboard_page_says_the_figure_cannot_be_added_up(client, world):
    html = client.get("/services/renew", HTTP_ACCEPT="text/html").content.decode()
    assert "cannot be added up" in html


def test_the_read_api_refuses_a_sum_beyond_the_bound_with_a_message(client, world):
    data_set = world.renew_transactions
    response = client.get(
        f"/data/{data_set.data_group}/{data_set.data_type}",
        {"period": "month", "collect": "count:sum"},
    )
    assert_error(
        response,
        400,
        "Cannot sum field 'count': the result lies beyond ±9007199254740991 (2^53 - 1), the "
        "largest number perfplat adds up exactly",
    )


# a value at each bound, through the API

URL = "/data/test-service/events"
MAX = 2**53 - 1


@pytest.fixture
def write(api, data_set):
    _, token = data_set

    def write(*records):
        return api.post(URL, list(records), token)

    return write


def test_the_largest_number_is_stored_and_read_back_exactly(api, write):
    assert write({"_id": "a", "n": MAX}, {"_id": "b", "n": -MAX}).status_code == 200
    raw = body(api.get(URL))["data"]
    assert [record["n"] for record in raw] == [MAX, -MAX]
    assert b"9007199254740991" in api.get(URL).content


def test_a_sum_at_the_bound_is_exact_and_one_past_it_is_refused(api, write):
    write({"_id": "a", "n": MAX - 1, "g": "x"}, {"_id": "b", "n": 1, "g": "x"})
    summed = body(api.get(URL, {"group_by": "g", "collect": ["n:sum", "n:mean"]}))["data"]
    assert summed == [{"g": "x", "_count": 2, "n:sum": MAX, "n:mean": MAX / 2}]
    write({"_id": "c", "n": 1, "g": "x"})
    assert_error(
        api.get(URL, {"group_by": "g", "collect": "n:sum"}),
        400,
        "Cannot sum field 'n': the result lies beyond ±9007199254740991 (2^53 - 1), the "
        "largest number perfplat adds up exactly",
    )


def test_a_number_past_the_bound_is_refused_naming_the_bound(write):
    assert_error(
        write({"n": MAX + 1}),
        400,
        "record 0: field 'n' is 9007199254740992: numbers must lie between "
        "-9007199254740991 and 9007199254740991 (±(2^53 - 1), the whole numbers every JSON "
        "reader holds exactly)",
    )


def test_sums_of_fractions_that_make_a_whole_number_are_whole_on_both_databases(api, write):
    write({"_id": "a", "n": 1.5, "g": "x"}, {"_id": "b", "n": 1.5, "g": "x"})
    response = api.get(URL, {"group_by": "g", "collect": "n:sum"})
    assert b'"n:sum":3}' in response.content


def test_many_large_numbers_never_overflow_the_database_sum(api, write, data_set):
    # 1,100 records of 2^53 - 1 add up past 2^63: SQLite's sum() failed the statement.
    data_set_row, _ = data_set
    write(*({"_id": f"r{i}", "n": MAX, "g": "x"} for i in range(1100)))
    assert_error(
        api.get(URL, {"group_by": "g", "collect": "n:sum"}),
        400,
        "Cannot sum field 'n': the result lies beyond ±9007199254740991 (2^53 - 1), the "
        "largest number perfplat adds up exactly",
    )
    mean = body(api.get(URL, {"group_by": "g", "collect": "n:mean"}))["data"][0]["n:mean"]
    assert mean == pytest.approx(MAX, abs=2)


def test_a_write_that_would_pass_the_field_limit_is_refused(write):
    assert write({f"f{i}": 1 for i in range(499)}).status_code == 200
    assert write({"f0": 2, "one_more": 1}).status_code == 200
    assert_error(
        write({"another": 1, "and_another": 2}),
        400,
        "Data set test-service/events may hold at most 500 distinct fields: it has 500 and "
        "this write adds 2 more (and_another, another)",
    )


def test_an_unforeseen_database_failure_of_one_data_set_only_takes_down_its_figure(
    client, db, monkeypatch
):
    from django.db import DataError

    world = build_public_world()
    real = kpi_services.source_sums

    def failing(data_set, moment):
        if data_set.pk == world.renew_cost.pk:
            raise DataError("numeric field overflow")
        return real(data_set, moment)

    monkeypatch.setattr(kpi_services, "source_sums", failing)
    assert client.get("/services", HTTP_ACCEPT="text/html").status_code == 200
    page = body(client.get("/services/renew.json"))
    assert "the cost data cannot be added up" in str(page)
    assert client.get("/").status_code == 200
