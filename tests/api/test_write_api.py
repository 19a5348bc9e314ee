"""The write API (SPEC section 4): POST, PATCH, DELETE and PUT on /data/<group>/<type>."""

import gzip
import re
import time
from datetime import UTC, datetime

import orjson
import pytest
from django.test import override_settings

from helpers import assert_error, body
from perfplat.datasets.models import Correction, DataSet, DataSetToken, Record, WriteBatch
from perfplat.datasets.services import rotate_token

URL = "/data/test-service/events"
NOT_ISO = "is not an ISO 8601 date-time with a UTC offset such as 2024-01-01T00:00:00Z"
MISSING_TOKEN = "Expected header of form: Authorization: Bearer <token>"
WRONG_TOKEN = "Unauthorized: invalid bearer token for data set test-service/events"
NOT_IDENTIFIER = "is not a valid identifier (letters, digits and _, not starting with a digit)"
UTC_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")


def read_all(api, path=URL):
    response = api.get(path)
    assert response.status_code == 200, response.content
    return body(response)["data"]


def stored(data_set) -> dict:
    """The data set's records as {_id: fields}."""
    return {row.record_id: row.data for row in Record.objects.filter(data_set=data_set)}


def refresh(data_set) -> DataSet:
    return DataSet.objects.get(pk=data_set.pk)


@pytest.fixture
def with_auto_ids(make_data_set):
    return make_data_set(
        "auto-service", "events", auto_ids=("foo", "bar"), published=True, raw_queries_allowed=True
    )


@pytest.fixture
def written(api, data_set):
    """The data set with one record, r1, written through the API."""
    ds, token = data_set
    response = api.post(URL, {"_id": "r1", "_timestamp": "2024-03-14T15:09:26Z", "n": 1}, token)
    assert response.status_code == 200, response.content
    return ds, token


# success


def test_a_single_record_object_is_written(api, data_set):
    ds, token = data_set
    response = api.post(URL, {"_id": "a", "n": 1}, token)
    assert response.status_code == 200
    assert body(response) == {"status": "ok", "count": 1}
    assert stored(ds) == {"a": {"n": 1}}


def test_a_list_of_records_is_written(api, data_set):
    ds, token = data_set
    response = api.post(URL, [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "c"}], token)
    assert body(response) == {"status": "ok", "count": 3}
    assert stored(ds) == {"a": {"n": 1}, "b": {"n": 2}, "c": {}}


def test_an_empty_list_writes_nothing_and_succeeds(api, data_set):
    ds, token = data_set
    response = api.post(URL, [], token)
    assert body(response) == {"status": "ok", "count": 0}
    assert stored(ds) == {}


def test_a_json_content_type_with_a_charset_is_accepted(api, data_set):
    ds, token = data_set
    response = api.post(URL, {"n": 1}, token, content_type="application/json; charset=utf-8")
    assert body(response) == {"status": "ok", "count": 1}


def test_success_replies_allow_any_origin(api, data_set):
    _, token = data_set
    assert api.post(URL, {"n": 1}, token)["Access-Control-Allow-Origin"] == "*"


# tokens


def test_missing_token_is_401_asking_for_a_bearer_token(api, data_set):
    response = api.post(URL, {"n": 1})
    assert_error(response, 401, MISSING_TOKEN)
    assert response["WWW-Authenticate"] == "bearer"


def test_authorization_that_is_not_bearer_is_401(api, data_set):
    response = api.post(URL, {"n": 1}, HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    assert_error(response, 401, MISSING_TOKEN)
    assert response["WWW-Authenticate"] == "bearer"


def test_bearer_with_no_token_is_401(api, data_set):
    response = api.post(URL, {"n": 1}, HTTP_AUTHORIZATION="Bearer   ")
    assert_error(response, 401, MISSING_TOKEN)


def test_wrong_token_is_401(api, data_set):
    response = api.post(URL, {"n": 1}, "not-the-token")
    assert_error(response, 401, WRONG_TOKEN)
    assert response["WWW-Authenticate"] == "bearer"


def test_unauthorized_write_stores_nothing(api, data_set):
    ds, _ = data_set
    api.post(URL, {"n": 1}, "not-the-token")
    assert stored(ds) == {}
    assert refresh(ds).version == 0


def test_token_of_another_data_set_is_401(api, data_set, make_data_set):
    _, other_token = make_data_set("other-service", "events")
    assert_error(api.post(URL, {"n": 1}, other_token), 401, WRONG_TOKEN)


def test_bearer_scheme_is_case_insensitive(api, data_set):
    _, token = data_set
    response = api.post(URL, {"n": 1}, HTTP_AUTHORIZATION=f"bearer {token}")
    assert body(response) == {"status": "ok", "count": 1}


def test_token_revoked_by_rotation_stops_working(api, data_set):
    ds, old_token = data_set
    rotate_token(ds)
    assert_error(api.post(URL, {"n": 1}, old_token), 401, WRONG_TOKEN)


def test_token_issued_by_rotation_works(api, data_set):
    ds, _ = data_set
    new_token = rotate_token(ds)
    assert body(api.post(URL, {"n": 1}, new_token)) == {"status": "ok", "count": 1}


def test_unauthorized_replies_allow_any_origin(api, data_set):
    assert api.post(URL, {"n": 1})["Access-Control-Allow-Origin"] == "*"


# unknown data sets and methods


def test_unknown_data_set_is_404(api, data_set):
    _, token = data_set
    response = api.post("/data/test-service/nope", {"n": 1}, token)
    assert_error(response, 404, "Data set test-service/nope not found")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_data_set_address_holding_nul_is_404(api, data_set):
    _, token = data_set
    response = api.post("/data/test%00service/events", {"n": 1}, token)
    assert response.status_code == 404


@pytest.mark.parametrize("method", ["DELETE", "PATCH"])
def test_data_set_url_refuses_other_methods_with_405(api, data_set, method):
    _, token = data_set
    response = api.send(method, URL, {"n": 1}, token)
    assert_error(
        response, 405, f"Method {method} is not allowed here; use GET, HEAD, OPTIONS, POST, PUT"
    )
    assert response["Allow"] == "GET, HEAD, OPTIONS, POST, PUT"
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
def test_record_url_refuses_other_methods_with_405(api, written, method):
    _, token = written
    response = api.send(method, f"{URL}/r1", {"n": 1}, token)
    assert_error(response, 405, f"Method {method} is not allowed here; use OPTIONS, PATCH, DELETE")
    assert response["Allow"] == "OPTIONS, PATCH, DELETE"


def test_preflight_allows_writes_from_any_origin(api, data_set):
    response = api.send("OPTIONS", URL)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS, POST, PUT"
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "Content-Encoding" in response["Access-Control-Allow-Headers"]


# bodies


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/jsonp"]
)
def test_wrong_content_type_is_400(api, data_set, content_type):
    _, token = data_set
    response = api.post(URL, {"n": 1}, token, content_type=content_type)
    assert_error(response, 400, "Expected header: Content-Type: application/json")


def test_unparseable_json_is_400(api, data_set):
    ds, token = data_set
    response = api.post(URL, b'[{"n": 1}, {"n": ', token)
    assert response.status_code == 400
    assert body(response)["message"].startswith("The body is not valid JSON: ")
    assert stored(ds) == {}


def test_empty_body_is_400(api, data_set):
    _, token = data_set
    # Django's test client drops the content type of an empty body unless told.
    response = api.post(URL, b"", token, CONTENT_TYPE="application/json")
    assert_error(response, 400, "Expected JSON request body but received zero bytes.")


def test_blank_body_is_400(api, data_set):
    _, token = data_set
    response = api.post(URL, b"  \n", token)
    assert_error(response, 400, "The body is empty: send a JSON object or a list of them")


@pytest.mark.parametrize(
    ("sent", "described"),
    [
        (b'"text"', 'string "text"'),
        (b"42", "number 42"),
        (b"true", "boolean true"),
        (b"null", "null"),
    ],
)
def test_scalar_body_is_400(api, data_set, sent, described):
    _, token = data_set
    response = api.post(URL, sent, token)
    assert_error(
        response, 400, f"The body must be a JSON object or a list of objects, not {described}"
    )


def test_list_item_that_is_not_an_object_is_400(api, data_set):
    _, token = data_set
    response = api.post(URL, [{"n": 1}, [1, 2]], token)
    assert_error(response, 400, "record 1: must be a JSON object, not a list")
    assert body(response)["messages"] == ["record 1: must be a JSON object, not a list"]


def test_errors_reply_with_messages_only_for_record_problems(api, data_set):
    _, token = data_set
    assert "messages" not in body(api.post(URL, b"{", token))


# gzip and sizes


def test_gzip_body_is_accepted(api, data_set):
    ds, token = data_set
    response = api.post(URL, [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}], token, gzipped=True)
    assert body(response) == {"status": "ok", "count": 2}
    assert stored(ds) == {"a": {"n": 1}, "b": {"n": 2}}


def test_gzip_body_of_several_members_is_accepted(api, data_set):
    ds, token = data_set
    data = gzip.compress(b'[{"_id": "a"},') + gzip.compress(b'{"_id": "b"}]')
    response = api.post(URL, data, token, HTTP_CONTENT_ENCODING="gzip")
    assert body(response) == {"status": "ok", "count": 2}


def test_gzip_bomb_is_413_and_writes_nothing(api, data_set):
    ds, token = data_set
    payload = orjson.dumps([{"n": 0}] * 200_000)
    bomb = gzip.compress(payload)
    assert len(bomb) < 10_000 < len(payload)
    with override_settings(PERFPLAT_MAX_BODY_BYTES=10_000):
        response = api.post(URL, bomb, token, HTTP_CONTENT_ENCODING="gzip")
    assert_error(response, 413, "The decompressed body is larger than the limit of 10000 bytes")
    assert stored(ds) == {}
    assert WriteBatch.objects.count() == 0


def test_invalid_gzip_is_400(api, data_set):
    _, token = data_set
    response = api.post(URL, b'{"n": 1}', token, HTTP_CONTENT_ENCODING="gzip")
    assert_error(
        response,
        400,
        "The body is not valid gzip data: "
        "Error -3 while decompressing data: incorrect header check",
    )


def test_truncated_gzip_is_400(api, data_set):
    _, token = data_set
    data = gzip.compress(orjson.dumps([{"n": i} for i in range(100)]))[:-10]
    response = api.post(URL, data, token, HTTP_CONTENT_ENCODING="gzip")
    assert_error(response, 400, "The body is not valid gzip data: it ends too early")


@pytest.mark.parametrize("encoding", ["br", "deflate", "compress"])
def test_unsupported_content_encoding_is_415(api, data_set, encoding):
    _, token = data_set
    response = api.post(URL, {"n": 1}, token, HTTP_CONTENT_ENCODING=encoding)
    assert_error(
        response,
        415,
        f"Content-Encoding '{encoding}' is not supported: send gzip or no encoding",
    )


def test_identity_content_encoding_is_accepted(api, data_set):
    _, token = data_set
    response = api.post(URL, {"n": 1}, token, HTTP_CONTENT_ENCODING="identity")
    assert body(response) == {"status": "ok", "count": 1}


@override_settings(PERFPLAT_MAX_BODY_BYTES=100)
def test_raw_body_over_the_limit_is_413_and_writes_nothing(api, data_set):
    ds, token = data_set
    data = orjson.dumps([{"_id": f"r{i}"} for i in range(20)])
    assert len(data) > 100
    response = api.post(URL, data, token)
    assert_error(response, 413, "The body is larger than the limit of 100 bytes")
    assert stored(ds) == {}


@override_settings(PERFPLAT_MAX_BODY_BYTES=100)
def test_raw_body_at_the_limit_is_accepted(api, data_set):
    _, token = data_set
    data = b'{"s": "' + b"x" * 91 + b'"}'
    assert len(data) == 100
    assert body(api.post(URL, data, token)) == {"status": "ok", "count": 1}


@override_settings(PERFPLAT_MAX_BODY_BYTES=100)
def test_compressed_body_over_the_limit_is_413(api, data_set):
    _, token = data_set
    data = gzip.compress(bytes(range(256)) * 2)
    assert len(data) > 100
    response = api.post(URL, data, token, HTTP_CONTENT_ENCODING="gzip")
    assert_error(response, 413, "The body is larger than the limit of 100 bytes")


# keys


def test_keys_keep_their_case(api, data_set):
    _, token = data_set
    api.post(URL, {"_id": "a", "licenceUrlSlug": "fishing", "CamelCase": 1}, token)
    [record] = read_all(api)
    assert (record["licenceUrlSlug"], record["CamelCase"]) == ("fishing", 1)


@pytest.mark.parametrize("key", ["1st", "my field", "a-b", "é", ""])
def test_keys_that_are_not_identifiers_are_400(api, data_set, key):
    ds, token = data_set
    response = api.post(URL, {"ok": 1, key: 1}, token)
    message = f"record 0: key {key!r} {NOT_IDENTIFIER}"
    assert_error(response, 400, message)
    assert body(response)["messages"] == [message]
    assert stored(ds) == {}


@pytest.mark.parametrize("key", ["_foo", "_updated_at", "_week_start_at"])
def test_keys_beginning_with_underscore_are_reserved(api, data_set, key):
    _, token = data_set
    response = api.post(URL, {key: 1}, token)
    assert_error(
        response,
        400,
        f"record 0: key {key!r} is reserved: only _id and _timestamp may begin with _",
    )


def test_id_and_timestamp_are_accepted(api, data_set):
    ds, token = data_set
    response = api.post(URL, {"_id": "a", "_timestamp": "2024-01-01T00:00:00Z"}, token)
    assert body(response) == {"status": "ok", "count": 1}
    assert Record.objects.get(data_set=ds).timestamp == 1704067200


# values


@pytest.mark.parametrize(("value", "described"), [({"x": 1}, "an object"), ([1], "a list")])
def test_nested_values_are_400(api, data_set, value, described):
    _, token = data_set
    response = api.post(URL, {"v": value}, token)
    assert_error(
        response,
        400,
        f"record 0: field 'v' is {described}: values must be strings, numbers, booleans or null",
    )


def test_scalar_values_are_stored_and_read_back_as_sent(api, data_set):
    _, token = data_set
    values = {"s": "text", "i": 3, "f": 2.5, "t": True, "b": False, "z": None, "e": ""}
    api.post(URL, {"_id": "a", **values}, token)
    [record] = read_all(api)
    assert {key: record[key] for key in values} == values
    assert [type(record[key]) for key in values] == [type(v) for v in values.values()]


def test_unicode_strings_are_stored_as_sent(api, data_set):
    _, token = data_set
    api.post(URL, {"_id": "a", "s": 'Llŷn \u2603 \U0001f600 "q" \\ \n'}, token)
    assert read_all(api)[0]["s"] == 'Llŷn \u2603 \U0001f600 "q" \\ \n'


def test_strings_holding_nul_are_400_on_every_database(api, data_set):
    ds, token = data_set
    response = api.post(URL, b'{"s": "a\\u0000b"}', token)
    assert_error(
        response,
        400,
        "record 0: field 's' contains the NUL character (\\u0000), which cannot be stored",
    )
    assert stored(ds) == {}


# _timestamp


@pytest.mark.parametrize(
    ("sent", "why"),
    [
        ("2024-01-01T00:00:00", "not an ISO 8601 date-time with a UTC offset"),
        ("last tuesday", "not an ISO 8601 date-time with a UTC offset"),
        ("2024-02-30T00:00:00Z", "day is out of range for month"),
    ],
)
def test_timestamps_without_offset_or_that_do_not_exist_are_400(api, data_set, sent, why):
    _, token = data_set
    response = api.post(URL, {"_timestamp": sent}, token)
    assert_error(response, 400, f'record 0: _timestamp string "{sent}" {NOT_ISO} ({why})')


def test_timestamp_that_is_a_number_is_400(api, data_set):
    _, token = data_set
    response = api.post(URL, {"_timestamp": 1704067200}, token)
    assert body(response)["message"].startswith(f"record 0: _timestamp number 1704067200 {NOT_ISO}")


def test_timestamp_outside_years_1000_to_9000_in_utc_is_400(api, data_set):
    _, token = data_set
    response = api.post(URL, {"_timestamp": "1000-01-01T00:00:00+01:00"}, token)
    assert_error(
        response,
        400,
        'record 0: _timestamp string "1000-01-01T00:00:00+01:00" '
        "must be between 1000-01-01T00:00:00Z and 9000-01-01T00:00:00Z",
    )


@pytest.mark.parametrize(
    ("sent", "returned"),
    [
        ("2024-03-14T15:09:26+01:00", "2024-03-14T14:09:26+00:00"),
        ("2024-03-14T15:09:26Z", "2024-03-14T15:09:26+00:00"),
        ("2024-03-14T10:09:26.75-05:00", "2024-03-14T15:09:26+00:00"),
        ("2024-01-01T00:30:00+01:00", "2023-12-31T23:30:00+00:00"),
    ],
)
def test_timestamps_are_returned_in_utc(api, data_set, sent, returned):
    _, token = data_set
    api.post(URL, {"_id": "a", "_timestamp": sent}, token)
    assert read_all(api)[0]["_timestamp"] == returned


# _id


@pytest.mark.parametrize(
    ("record_id", "described"),
    [("", 'string ""'), ("a b", 'string "a b"'), ("a\nb", 'string "a\\nb"'), (7, "number 7")],
)
def test_ids_that_are_empty_hold_whitespace_or_are_not_strings_are_400(
    api, data_set, record_id, described
):
    _, token = data_set
    response = api.post(URL, {"_id": record_id}, token)
    assert_error(
        response,
        400,
        f"record 0: _id must be a non-empty string with no whitespace, not {described}",
    )


def test_ids_holding_nul_are_400_on_every_database(api, data_set):
    _, token = data_set
    response = api.post(URL, b'{"_id": "a\\u0000b"}', token)
    assert_error(response, 400, "record 0: _id must not contain the NUL character (\\u0000)")


# all or nothing


def test_one_bad_record_among_many_writes_nothing(api, data_set):
    ds, token = data_set
    records = [{"_id": f"r{i}", "n": i} for i in range(50)]
    records[37]["bad key"] = 1
    response = api.post(URL, records, token)
    assert response.status_code == 400
    assert stored(ds) == {}
    assert WriteBatch.objects.count() == 0


def test_a_refused_write_leaves_existing_records_and_the_version_alone(api, written):
    ds, token = written
    version = refresh(ds).version
    api.post(URL, [{"_id": "r1", "n": 99}, {"_id": "r2", "n": {"x": 1}}], token)
    assert stored(ds) == {"r1": {"n": 1}}
    assert refresh(ds).version == version


def test_messages_list_every_problem_with_record_index_and_field(api, data_set):
    _, token = data_set
    records = [
        {"n": 1},
        {"_timestamp": "2024-01-01", "v": [1]},
        {"n": 2},
        {"_id": "", "my field": 1},
    ]
    response = api.post(URL, records, token)
    assert response.status_code == 400
    assert body(response) == {
        "status": "error",
        "message": f'record 1: _timestamp string "2024-01-01" {NOT_ISO} '
        "(not an ISO 8601 date-time with a UTC offset) (and 3 more problems)",
        "messages": [
            f'record 1: _timestamp string "2024-01-01" {NOT_ISO} '
            "(not an ISO 8601 date-time with a UTC offset)",
            "record 1: field 'v' is a list: values must be strings, numbers, booleans or null",
            'record 3: _id must be a non-empty string with no whitespace, not string ""',
            f"record 3: key 'my field' {NOT_IDENTIFIER}",
        ],
    }


# idempotent ids


def test_a_record_with_an_existing_id_replaces_it(api, written):
    ds, token = written
    api.post(URL, {"_id": "r1", "_timestamp": "2024-03-15T00:00:00Z", "m": "new"}, token)
    [record] = read_all(api)
    assert (record["_id"], record["_timestamp"], record["m"]) == (
        "r1",
        "2024-03-15T00:00:00+00:00",
        "new",
    )
    assert "n" not in record


def test_writing_the_same_id_twice_keeps_one_record(api, written):
    ds, token = written
    api.post(URL, {"_id": "r1", "n": 2}, token)
    assert Record.objects.filter(data_set=ds).count() == 1


def test_a_record_replaced_without_timestamp_loses_its_period_starts(api, written):
    ds, token = written
    api.post(URL, {"_id": "r1", "n": 2}, token)
    [record] = read_all(api)
    assert sorted(record) == ["_id", "_updated_at", "n"]


def test_the_last_of_two_records_with_the_same_id_in_one_write_wins(api, data_set):
    ds, token = data_set
    response = api.post(URL, [{"_id": "a", "n": 1}, {"_id": "a", "n": 2}], token)
    assert body(response) == {"status": "ok", "count": 1}
    assert stored(ds) == {"a": {"n": 2}}


def test_records_without_ids_are_added_to_those_stored(api, written):
    ds, token = written
    api.post(URL, [{"n": 10}, {"n": 20}], token)
    api.post(URL, [{"n": 10}, {"n": 30}], token)
    assert sorted(row["n"] for row in stored(ds).values()) == [1, 10, 10, 20, 30]
    assert stored(ds)["r1"] == {"n": 1}


def test_a_write_mixing_new_and_given_ids_replaces_the_given(api, written):
    ds, token = written
    response = api.post(URL, [{"n": 5}, {"_id": "r1", "n": 2}], token)
    assert body(response) == {"status": "ok", "count": 2}
    assert stored(ds)["r1"] == {"n": 2}
    assert sorted(row["n"] for row in stored(ds).values()) == [2, 5]


def test_ids_made_for_a_write_never_replace_stored_records(data_set, monkeypatch):
    """Ids made for a write (no _id, no auto_ids) are inserted, not upserted: were the random
    prefix ever drawn twice, the write fails and nothing stored is replaced."""
    from django.db import IntegrityError
    from psycopg.errors import UniqueViolation

    from perfplat.datasets import writes

    ds, _ = data_set
    monkeypatch.setattr(writes.secrets, "token_hex", lambda _: "0" * 16)
    source = writes.WriteSource(WriteBatch.API)
    writes.write_records(ds, [{"n": 1}], source)
    with pytest.raises((IntegrityError, UniqueViolation)):
        writes.write_records(ds, [{"n": 2}], source)
    assert list(stored(ds).values()) == [{"n": 1}]


def test_auto_ids_make_the_id_as_backdrop_did(api, with_auto_ids):
    ds, token = with_auto_ids
    api.post("/data/auto-service/events", {"foo": "foo", "bar": "bar", "n": 1}, token)
    assert list(stored(ds)) == ["Zm9vLmJhcg=="]


def test_auto_ids_make_rewrites_replace_the_record(api, with_auto_ids):
    ds, token = with_auto_ids
    api.post("/data/auto-service/events", {"foo": "foo", "bar": "bar", "n": 1}, token)
    api.post("/data/auto-service/events", {"foo": "foo", "bar": "bar", "n": 2}, token)
    assert stored(ds) == {"Zm9vLmJhcg==": {"foo": "foo", "bar": "bar", "n": 2}}


def test_auto_ids_keep_records_with_different_values_apart(api, with_auto_ids):
    ds, token = with_auto_ids
    api.post(
        "/data/auto-service/events",
        [{"foo": "foo", "bar": "bar"}, {"foo": "foo", "bar": "baz"}],
        token,
    )
    assert sorted(stored(ds)) == ["Zm9vLmJhcg==", "Zm9vLmJheg=="]


def test_record_missing_an_auto_ids_field_is_400_naming_it(api, with_auto_ids):
    ds, token = with_auto_ids
    response = api.post(
        "/data/auto-service/events", [{"foo": "a", "bar": "b"}, {"foo": "c"}], token
    )
    assert_error(response, 400, "record 1: missing auto_ids field(s): bar")
    assert stored(ds) == {}


def test_record_missing_all_auto_ids_fields_is_400_naming_them(api, with_auto_ids):
    _, token = with_auto_ids
    response = api.post("/data/auto-service/events", {"n": 1}, token)
    assert_error(response, 400, "record 0: missing auto_ids field(s): foo, bar")


# derived fields


def test_period_starts_are_added_from_the_timestamp(api, data_set):
    _, token = data_set
    api.post(URL, {"_id": "a", "_timestamp": "2024-08-15T16:09:26+01:00", "n": 1}, token)
    [record] = read_all(api)
    assert {key: value for key, value in record.items() if key != "_updated_at"} == {
        "_id": "a",
        "_timestamp": "2024-08-15T15:09:26+00:00",
        "n": 1,
        "_hour_start_at": "2024-08-15T15:00:00+00:00",
        "_day_start_at": "2024-08-15T00:00:00+00:00",
        "_week_start_at": "2024-08-12T00:00:00+00:00",
        "_month_start_at": "2024-08-01T00:00:00+00:00",
        "_quarter_start_at": "2024-07-01T00:00:00+00:00",
        "_year_start_at": "2024-01-01T00:00:00+00:00",
    }


def test_period_starts_use_the_utc_day_of_the_timestamp(api, data_set):
    _, token = data_set
    # Monday 00:30 in Paris is still Sunday in UTC: the week started the Monday before.
    api.post(URL, {"_id": "a", "_timestamp": "2024-04-01T00:30:00+02:00"}, token)
    [record] = read_all(api)
    assert (record["_day_start_at"], record["_week_start_at"], record["_quarter_start_at"]) == (
        "2024-03-31T00:00:00+00:00",
        "2024-03-25T00:00:00+00:00",
        "2024-01-01T00:00:00+00:00",
    )


def test_updated_at_is_the_time_of_writing_in_utc(api, data_set):
    _, token = data_set
    before = int(time.time())
    api.post(URL, {"_id": "a"}, token)
    after = int(time.time())
    [record] = read_all(api)
    assert UTC_FORMAT.fullmatch(record["_updated_at"])
    written_at = datetime.fromisoformat(record["_updated_at"]).timestamp()
    assert before <= written_at <= after


def test_records_without_timestamp_have_no_period_starts(api, data_set):
    _, token = data_set
    api.post(URL, {"_id": "a", "n": 1}, token)
    [record] = read_all(api)
    assert sorted(record) == ["_id", "_updated_at", "n"]


# CORS: a page on another origin may send what each address serves


@pytest.mark.parametrize(
    ("path", "asked", "methods"),
    [
        (URL, "POST", "GET, HEAD, OPTIONS, POST, PUT"),
        (URL, "PUT", "GET, HEAD, OPTIONS, POST, PUT"),
        (f"{URL}/r1", "PATCH", "OPTIONS, PATCH, DELETE"),
        (f"{URL}/r1", "DELETE", "OPTIONS, PATCH, DELETE"),
    ],
)
def test_the_preflight_allows_the_methods_and_headers_each_address_serves(
    client, data_set, path, asked, methods
):
    response = client.options(
        path,
        HTTP_ORIGIN="https://example.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=asked,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,content-type,content-encoding",
    )
    assert response.status_code == 204
    assert asked in response["Access-Control-Allow-Methods"].split(", ")
    assert (response["Access-Control-Allow-Origin"], response["Access-Control-Allow-Methods"]) == (
        "*",
        methods,
    )
    allowed = response["Access-Control-Allow-Headers"].split(", ")
    assert {"Authorization", "Content-Type", "Content-Encoding"} <= set(allowed)


# corrections: PATCH


def test_patch_sets_fields_and_keeps_the_others(api, written):
    _, token = written
    response = api.send("PATCH", f"{URL}/r1", {"n": 2, "note": "fixed"}, token)
    assert response.status_code == 200
    assert body(response) == {
        "status": "ok",
        "record": {"_id": "r1", "_timestamp": "2024-03-14T15:09:26+00:00", "n": 2, "note": "fixed"},
    }
    [record] = read_all(api)
    assert (record["n"], record["note"], record["_timestamp"]) == (
        2,
        "fixed",
        "2024-03-14T15:09:26+00:00",
    )


def test_patch_of_the_timestamp_moves_the_period_starts(api, written):
    _, token = written
    api.send("PATCH", f"{URL}/r1", {"_timestamp": "2024-05-02T10:00:00+02:00"}, token)
    [record] = read_all(api)
    assert (record["_timestamp"], record["_week_start_at"], record["_quarter_start_at"]) == (
        "2024-05-02T08:00:00+00:00",
        "2024-04-29T00:00:00+00:00",
        "2024-04-01T00:00:00+00:00",
    )


def test_patch_is_validated_like_a_write(api, written):
    ds, token = written
    response = api.send("PATCH", f"{URL}/r1", {"bad key": 1, "v": {"x": 1}}, token)
    assert response.status_code == 400
    assert body(response)["messages"] == [
        f"record 0: key 'bad key' {NOT_IDENTIFIER}",
        "record 0: field 'v' is an object: values must be strings, numbers, booleans or null",
    ]
    assert stored(ds) == {"r1": {"n": 1}}
    assert Correction.objects.count() == 0


def test_patch_with_a_body_that_is_not_an_object_is_400(api, written):
    _, token = written
    response = api.send("PATCH", f"{URL}/r1", [{"n": 2}], token)
    assert_error(response, 400, "A correction must be a JSON object, not a list")


def test_patch_of_an_unknown_record_is_404(api, written):
    _, token = written
    response = api.send("PATCH", f"{URL}/nope", {"n": 2}, token)
    assert_error(response, 404, "No record with _id 'nope' in data set test-service/events")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_patch_refuses_to_change_the_id(api, written):
    ds, token = written
    response = api.send("PATCH", f"{URL}/r1", {"_id": "r2"}, token)
    assert_error(response, 400, "_id cannot be changed; delete the record and send it again")
    assert body(response)["messages"] == [
        "_id cannot be changed; delete the record and send it again"
    ]
    assert list(stored(ds)) == ["r1"]


def test_patch_refuses_to_change_an_auto_ids_field(api, with_auto_ids):
    ds, token = with_auto_ids
    api.post("/data/auto-service/events", {"foo": "foo", "bar": "bar", "n": 1}, token)
    response = api.send(
        "PATCH", "/data/auto-service/events/Zm9vLmJhcg==", {"bar": "baz", "n": 2}, token
    )
    assert_error(
        response,
        400,
        "bar is one of the data set's auto_ids and cannot be changed; "
        "delete the record and send it again",
    )
    assert stored(ds) == {"Zm9vLmJhcg==": {"foo": "foo", "bar": "bar", "n": 1}}


def test_patch_of_other_fields_of_an_auto_ids_record_keeps_its_id(api, with_auto_ids):
    ds, token = with_auto_ids
    api.post("/data/auto-service/events", {"foo": "foo", "bar": "bar", "n": 1}, token)
    api.send("PATCH", "/data/auto-service/events/Zm9vLmJhcg==", {"n": 2}, token)
    assert stored(ds) == {"Zm9vLmJhcg==": {"foo": "foo", "bar": "bar", "n": 2}}


def test_patch_is_logged_as_a_correction(api, written):
    ds, token = written
    api.send("PATCH", f"{URL}/r1", {"n": 2}, token)
    [correction] = Correction.objects.all()
    assert (correction.data_set_id, correction.record_id, correction.action) == (
        ds.pk,
        "r1",
        "patch",
    )
    assert correction.before == {"_id": "r1", "_timestamp": "2024-03-14T15:09:26+00:00", "n": 1}
    assert correction.after == {"_id": "r1", "_timestamp": "2024-03-14T15:09:26+00:00", "n": 2}
    assert correction.token_id == DataSetToken.objects.get(data_set=ds).pk


def test_patch_needs_the_token(api, written):
    ds, _ = written
    response = api.send("PATCH", f"{URL}/r1", {"n": 2})
    assert_error(response, 401, MISSING_TOKEN)
    assert response["WWW-Authenticate"] == "bearer"
    assert stored(ds) == {"r1": {"n": 1}}


def test_patch_with_a_wrong_token_is_401(api, written):
    response = api.send("PATCH", f"{URL}/r1", {"n": 2}, "wrong")
    assert_error(response, 401, WRONG_TOKEN)


def test_patch_bumps_the_version(api, written):
    ds, token = written
    version = refresh(ds).version
    api.send("PATCH", f"{URL}/r1", {"n": 2}, token)
    assert refresh(ds).version == version + 1


def test_patch_of_an_id_holding_nul_is_404(api, written):
    _, token = written
    response = api.send("PATCH", f"{URL}/r%001", {"n": 2}, token)
    assert response.status_code == 404


# corrections: DELETE


def test_delete_removes_the_record(api, written):
    ds, token = written
    api.post(URL, {"_id": "r2"}, token)
    response = api.send("DELETE", f"{URL}/r1", token=token)
    assert response.status_code == 200
    assert body(response) == {"status": "ok", "message": "Deleted record r1"}
    assert list(stored(ds)) == ["r2"]


def test_delete_of_an_unknown_record_is_404(api, written):
    _, token = written
    response = api.send("DELETE", f"{URL}/nope", token=token)
    assert_error(response, 404, "No record with _id 'nope' in data set test-service/events")


def test_delete_is_logged_as_a_correction(api, written):
    ds, token = written
    api.send("DELETE", f"{URL}/r1", token=token)
    [correction] = Correction.objects.all()
    assert (correction.data_set_id, correction.record_id, correction.action) == (
        ds.pk,
        "r1",
        "delete",
    )
    assert correction.before == {"_id": "r1", "_timestamp": "2024-03-14T15:09:26+00:00", "n": 1}
    assert correction.after is None
    assert correction.token_id == DataSetToken.objects.get(data_set=ds).pk


def test_delete_needs_the_token(api, written):
    ds, _ = written
    assert_error(api.send("DELETE", f"{URL}/r1"), 401, MISSING_TOKEN)
    assert list(stored(ds)) == ["r1"]


def test_delete_bumps_the_version(api, written):
    ds, token = written
    version = refresh(ds).version
    api.send("DELETE", f"{URL}/r1", token=token)
    assert refresh(ds).version == version + 1


def test_delete_of_a_record_id_with_slashes(api, data_set):
    ds, token = data_set
    api.post(URL, {"_id": "2024/03/a"}, token)
    assert api.send("DELETE", f"{URL}/2024/03/a", token=token).status_code == 200
    assert stored(ds) == {}


# PUT empties


def test_put_of_an_empty_list_empties_the_data_set(api, written):
    ds, token = written
    api.post(URL, {"_id": "r2"}, token)
    response = api.send("PUT", URL, [], token)
    assert response.status_code == 200
    assert body(response) == {
        "status": "ok",
        "message": "test_service_events now contains 0 records",
    }
    assert stored(ds) == {}


def test_put_names_the_data_set_by_its_name(api, make_data_set):
    ds, token = make_data_set("svc", "kind", published=True)
    ds.name = "My data set"
    ds.save()
    response = api.send("PUT", "/data/svc/kind", [], token)
    assert body(response) == {"status": "ok", "message": "My data set now contains 0 records"}


def test_put_empties_only_its_own_data_set(api, written, make_data_set):
    other, other_token = make_data_set("other-service", "events")
    api.post("/data/other-service/events", {"_id": "x"}, other_token)
    _, token = written
    api.send("PUT", URL, [], token)
    assert list(stored(other)) == ["x"]


@pytest.mark.parametrize("sent", [[{"_id": "r2"}], [[]], {}, {"_id": "r1"}, 0, False, "[]"])
def test_put_of_anything_but_an_empty_list_is_400(api, written, sent):
    ds, token = written
    response = api.send("PUT", URL, sent, token)
    assert_error(
        response,
        400,
        "Not implemented: you can only pass an empty JSON list, which empties the data set",
    )
    assert list(stored(ds)) == ["r1"]


def test_put_needs_the_token(api, written):
    ds, _ = written
    response = api.send("PUT", URL, [])
    assert_error(response, 401, MISSING_TOKEN)
    assert response["WWW-Authenticate"] == "bearer"
    assert list(stored(ds)) == ["r1"]


def test_put_with_a_wrong_token_is_401(api, written):
    ds, _ = written
    assert_error(api.send("PUT", URL, [], "wrong"), 401, WRONG_TOKEN)
    assert list(stored(ds)) == ["r1"]


def test_put_resets_field_types_and_bumps_the_version(api, written):
    ds, token = written
    version = refresh(ds).version
    api.send("PUT", URL, [], token)
    ds = refresh(ds)
    assert (ds.field_types, ds.version) == ({}, version + 1)


# how writes arrived


def test_each_write_creates_an_api_batch_with_the_token(api, data_set):
    ds, token = data_set
    api.post(URL, [{"_id": "a"}, {"_id": "b"}], token)
    [batch] = WriteBatch.objects.all()
    assert (batch.data_set_id, batch.kind, batch.record_count, batch.user_id) == (
        ds.pk,
        "api",
        2,
        None,
    )
    assert batch.token_id == DataSetToken.objects.get(data_set=ds).pk


def test_records_point_at_the_batch_that_last_wrote_them(api, data_set):
    ds, token = data_set
    api.post(URL, [{"_id": "a"}, {"_id": "b"}], token)
    api.post(URL, [{"_id": "b"}], token)
    first, second = WriteBatch.objects.order_by("pk")
    batches = dict(Record.objects.filter(data_set=ds).values_list("record_id", "batch_id"))
    assert batches == {"a": first.pk, "b": second.pk}


def test_a_batch_records_the_rotated_token_that_wrote_it(api, data_set):
    ds, _ = data_set
    new_token = rotate_token(ds)
    api.post(URL, {"n": 1}, new_token)
    [batch] = WriteBatch.objects.all()
    assert batch.token_id == DataSetToken.objects.get(data_set=ds, revoked_at=None).pk


# the data set's bookkeeping


def test_each_write_increases_the_version(api, data_set):
    ds, token = data_set
    api.post(URL, {"n": 1}, token)
    api.post(URL, [{"n": 2}, {"n": 3}], token)
    assert refresh(ds).version == 2


def test_a_write_sets_last_write_at(api, data_set):
    ds, token = data_set
    assert ds.last_write_at is None
    before = datetime.now(UTC).replace(microsecond=0)
    api.post(URL, {"n": 1}, token)
    last_write_at = refresh(ds).last_write_at
    assert before <= last_write_at <= datetime.now(UTC)


def test_field_types_record_the_json_types_of_each_field(api, data_set):
    ds, token = data_set
    api.post(URL, [{"n": 1, "s": "a", "b": True, "z": None}, {"n": 1.5}], token)
    assert refresh(ds).field_types == {
        "b": ["boolean"],
        "n": ["number"],
        "s": ["string"],
        "z": ["null"],
    }


def test_field_types_grow_when_a_field_changes_type(api, data_set):
    ds, token = data_set
    api.post(URL, {"n": 1}, token)
    api.post(URL, {"n": "many"}, token)
    assert refresh(ds).field_types == {"n": ["number", "string"]}


def test_field_types_do_not_include_id_or_timestamp(api, data_set):
    ds, token = data_set
    api.post(URL, {"_id": "a", "_timestamp": "2024-01-01T00:00:00Z"}, token)
    assert refresh(ds).field_types == {}
