"""Status endpoints (`/_status`, `/_status/data-sets`) and the JSON answers to unknown URLs and
wrong methods."""

from datetime import UTC, datetime, timedelta

import pytest

from helpers import body
from perfplat.datasets.models import DataSet

API_METHODS = "GET, HEAD, OPTIONS"


def test_status_says_the_database_is_up(client, db):
    response = client.get("/_status")
    assert response.status_code == 200
    assert body(response) == {"status": "ok", "message": "database is up"}
    assert (response["Cache-Control"], response["Access-Control-Allow-Origin"]) == ("no-cache", "*")


@pytest.fixture
def wrote(make_data_set):
    """Make a data set that expects a write every `max_age` seconds and last had one `ago`
    seconds ago."""

    def wrote(data_type, max_age, ago):
        data_set, _ = make_data_set("test-service", data_type, max_age_expected=max_age)
        last = None if ago is None else datetime.now(UTC) - timedelta(seconds=ago)
        DataSet.objects.filter(pk=data_set.pk).update(last_write_at=last)
        return data_set

    return wrote


def test_data_sets_status_is_ok_when_every_data_set_is_in_date(client, wrote):
    wrote("fresh", max_age=3600, ago=60)
    response = client.get("/_status/data-sets")
    assert response.status_code == 200
    assert body(response) == {
        "status": "ok",
        "message": "All data_sets are in date",
        "data_sets": [],
    }


def test_data_sets_status_lists_a_data_set_whose_last_write_is_too_old(client, wrote):
    wrote("fresh", max_age=3600, ago=60)
    stale = wrote("stale", max_age=3600, ago=3600 + 500)
    response = client.get("/_status/data-sets")
    assert response.status_code == 200
    payload = body(response)
    [entry] = payload["data_sets"]
    assert 500 <= entry.pop("seconds-out-of-date") <= 510
    last = DataSet.objects.get(pk=stale.pk).last_write_at.astimezone(UTC)
    assert payload == {
        "status": "not okay",
        "message": "1 data-set is out of date",
        "data_sets": [
            {
                "name": "test_service_stale",
                "data_group": "test-service",
                "data_type": "stale",
                "last-updated": last.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "max-age-expected": 3600,
            }
        ],
    }


def test_data_sets_status_counts_every_stale_data_set(client, wrote):
    wrote("one", max_age=60, ago=120)
    wrote("two", max_age=60, ago=120)
    payload = body(client.get("/_status/data-sets"))
    assert (payload["status"], payload["message"]) == ("not okay", "2 data-sets are out of date")
    assert sorted(entry["data_type"] for entry in payload["data_sets"]) == ["one", "two"]


def test_data_sets_status_ignores_data_sets_never_written_or_without_a_max_age(client, wrote):
    wrote("never-written", max_age=60, ago=None)
    wrote("no-expectation", max_age=None, ago=10**6)
    assert body(client.get("/_status/data-sets"))["status"] == "ok"


def test_data_sets_status_follows_a_real_write(client, api, make_data_set):
    _, token = make_data_set("test-service", "events", max_age_expected=3600)
    assert api.post("/data/test-service/events", {"n": 1}, token).status_code == 200
    assert body(client.get("/_status/data-sets"))["status"] == "ok"
    DataSet.objects.update(last_write_at=datetime.now(UTC) - timedelta(hours=2))
    assert body(client.get("/_status/data-sets"))["status"] == "not okay"


@pytest.mark.parametrize("path", ["/nothing-here", "/data/only-a-group", "/_status/unknown"])
def test_unknown_urls_answer_a_json_not_found(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert body(response) == {"status": "error", "message": f"Nothing here: {path}"}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/_status", API_METHODS),
        ("DELETE", "/_status/data-sets", API_METHODS),
        ("PATCH", "/data/test-service/events", "GET, HEAD, OPTIONS, POST, PUT"),
        ("DELETE", "/data/test-service/events", "GET, HEAD, OPTIONS, POST, PUT"),
        ("GET", "/data/test-service/events/some-id", "OPTIONS, PATCH, DELETE"),
    ],
)
def test_wrong_methods_answer_a_json_method_not_allowed(client, data_set, method, path, allowed):
    response = client.generic(method, path)
    assert response.status_code == 405
    assert response["Allow"] == allowed
    assert response["Access-Control-Allow-Origin"] == "*"
    assert body(response) == {
        "status": "error",
        "message": f"Method {method} is not allowed here; use {allowed}",
    }
