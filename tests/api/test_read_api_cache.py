"""The read API's result cache: a repeated query on an unchanged data set is answered from the
cache (keyed by the data set's version, which every write bumps)."""

import pytest

from helpers import body
from perfplat.datasets import views
from perfplat.datasets.models import DataSet
from perfplat.public import caching

URL = "/data/test-service/events"
QUERY = {"group_by": "channel", "collect": "count:sum"}
WARNING = "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."


@pytest.fixture
def queries_run(monkeypatch):
    """How many times the read pipeline ran a query (the cache missed)."""
    runs = []
    real = views.run_query

    def counting(data_set, query):
        runs.append(query)
        return real(data_set, query)

    monkeypatch.setattr(views, "run_query", counting)
    return runs


@pytest.fixture
def written(api, data_set):
    _, token = data_set

    def write(*records):
        response = api.post(URL, list(records), token)
        assert response.status_code == 200, response.content

    write({"channel": "digital", "count": 3}, {"channel": "phone", "count": 4})
    return write


def test_a_repeated_query_is_answered_from_the_cache(api, written, queries_run):
    first = api.get(URL, QUERY)
    second = api.get(URL, QUERY)
    assert (
        body(second)
        == body(first)
        == {
            "data": [
                {"channel": "digital", "_count": 1, "count:sum": 3},
                {"channel": "phone", "_count": 1, "count:sum": 4},
            ]
        }
    )
    assert second["ETag"] == first["ETag"]
    assert len(queries_run) == 1


def test_a_write_makes_the_next_read_run_the_query_again(api, written, queries_run):
    api.get(URL, QUERY)
    written({"channel": "digital", "count": 10})
    assert body(api.get(URL, QUERY))["data"][0] == {
        "channel": "digital",
        "_count": 2,
        "count:sum": 13,
    }
    assert len(queries_run) == 2


def test_each_query_has_its_own_entry(api, written, queries_run):
    for _ in range(2):
        api.get(URL, QUERY)
        api.get(URL, {"group_by": "channel"})
    assert len(queries_run) == 2


def test_csv_is_streamed_not_kept(api, written, queries_run):
    # Streamed a few hundred rows at a time (bounded memory, whatever its size): a repeat is
    # answered 304 by its ETag instead.
    csv = api.get(URL, {**QUERY, "format": "csv"})
    assert b"".join(csv.streaming_content).decode() == (
        "channel,_count,count:sum\r\ndigital,1,3\r\nphone,1,4\r\n"
    )
    assert queries_run == []


def test_publishing_without_a_write_drops_the_unpublished_warning(api, written, data_set):
    data_set_row, token = data_set
    DataSet.objects.filter(pk=data_set_row.pk).update(published=False)
    assert body(api.get(URL, QUERY, token))["warning"] == WARNING
    DataSet.objects.filter(pk=data_set_row.pk).update(published=True)
    assert "warning" not in body(api.get(URL, QUERY))


def test_large_answers_are_not_kept(api, written, queries_run, monkeypatch):
    monkeypatch.setattr(views, "CACHED_ANSWER_BYTES", 10)
    api.get(URL, QUERY)
    api.get(URL, QUERY)
    assert len(queries_run) == 2


def test_a_failing_cache_is_left_alone_and_reads_still_answer(
    api, written, queries_run, settings, monkeypatch, caplog
):
    # A Redis nobody listens on: every cache call fails.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    monkeypatch.setattr(caching, "_rest_until", 0.0)
    first = api.get(URL, QUERY)
    second = api.get(URL, QUERY)
    assert first.status_code == second.status_code == 200
    assert body(second)["data"][1] == {"channel": "phone", "_count": 1, "count:sum": 4}
    assert len(queries_run) == 2
    # One failure, then the cache rests: it is not tried (and logged) on every call.
    failures = [r for r in caplog.records if r.getMessage().startswith("The cache failed")]
    assert len(failures) == 1
    assert caching._cache_resting()
