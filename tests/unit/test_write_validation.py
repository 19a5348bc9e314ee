"""The write path's pure stages: decode the body, validate records, derive ids."""

import base64
import gzip
import hashlib
import re

import pytest

from perfplat.datasets.writes import (
    decompress_gzip,
    derive_id,
    parse_json_body,
    records_from_body,
    validate_records,
)
from perfplat.errors import InvalidRecords, InvalidRequest, PayloadTooLarge

NOT_ISO = "is not an ISO 8601 date-time with a UTC offset such as 2024-01-01T00:00:00Z"


def problems_of(records, auto_ids=None) -> list[str]:
    with pytest.raises(InvalidRecords) as raised:
        validate_records(records, auto_ids)
    return raised.value.messages


def only_record(records, auto_ids=None):
    [record] = validate_records(records, auto_ids).records
    return record


# decode: gzip


def test_gzip_body_is_inflated():
    assert decompress_gzip(gzip.compress(b'{"a": 1}'), 100) == b'{"a": 1}'


def test_gzip_body_exactly_at_the_limit_is_accepted():
    assert decompress_gzip(gzip.compress(b"x" * 100), 100) == b"x" * 100


def test_gzip_body_one_byte_over_the_limit_is_too_large():
    with pytest.raises(PayloadTooLarge) as raised:
        decompress_gzip(gzip.compress(b"x" * 101), 100)
    assert raised.value.message == "The decompressed body is larger than the limit of 100 bytes"


def test_gzip_bomb_is_refused_with_413():
    bomb = gzip.compress(b"\0" * 20_000_000)
    assert len(bomb) < 50_000
    with pytest.raises(PayloadTooLarge) as raised:
        decompress_gzip(bomb, 1000)
    assert raised.value.status == 413
    assert raised.value.message == "The decompressed body is larger than the limit of 1000 bytes"


def test_data_that_is_not_gzip_is_a_400():
    with pytest.raises(InvalidRequest) as raised:
        decompress_gzip(b'{"a": 1}', 100)
    assert raised.value.status == 400
    assert raised.value.message == (
        "The body is not valid gzip data: Error -3 while decompressing data: incorrect header check"
    )


def test_truncated_gzip_is_a_400():
    with pytest.raises(InvalidRequest) as raised:
        decompress_gzip(gzip.compress(b'{"a": 1}' * 50)[:-12], 10_000)
    assert raised.value.message == "The body is not valid gzip data: it ends too early"


def test_gzip_of_several_members_is_inflated_whole():
    body = gzip.compress(b'[{"a": 1},') + gzip.compress(b'{"a": 2}]')
    assert decompress_gzip(body, 100) == b'[{"a": 1},{"a": 2}]'


def test_gzip_members_count_together_towards_the_limit():
    body = gzip.compress(b"x" * 60) + gzip.compress(b"x" * 60)
    with pytest.raises(PayloadTooLarge):
        decompress_gzip(body, 100)


def test_garbage_after_gzip_data_is_a_400():
    with pytest.raises(InvalidRequest) as raised:
        decompress_gzip(gzip.compress(b'{"a": 1}') + b"garbage", 100)
    assert raised.value.message.startswith("The body is not valid gzip data: ")


# decode: JSON


def test_json_body_is_parsed():
    assert parse_json_body(b'[{"a": 1.5, "b": null}]') == [{"a": 1.5, "b": None}]


def test_blank_body_is_a_400():
    with pytest.raises(InvalidRequest) as raised:
        parse_json_body(b" \n\t ")
    assert raised.value.message == "The body is empty: send a JSON object or a list of them"


def test_unparseable_json_is_a_400_naming_the_position():
    with pytest.raises(InvalidRequest) as raised:
        parse_json_body(b'{"a": }')
    assert raised.value.message.startswith("The body is not valid JSON: ")
    assert "line 1 column 7" in raised.value.message


def test_nan_is_not_json():
    with pytest.raises(InvalidRequest) as raised:
        parse_json_body(b'{"a": NaN}')
    assert raised.value.message.startswith("The body is not valid JSON: ")


def test_one_object_is_one_record():
    assert records_from_body({"a": 1}) == [{"a": 1}]


def test_a_list_is_its_records():
    assert records_from_body([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize(
    ("payload", "described"),
    [("text", 'string "text"'), (42, "number 42"), (True, "boolean true"), (None, "null")],
)
def test_a_scalar_body_is_refused_naming_what_it_is(payload, described):
    with pytest.raises(InvalidRequest) as raised:
        records_from_body(payload)
    assert raised.value.message == (
        f"The body must be a JSON object or a list of objects, not {described}"
    )


# validate: keys


def test_keys_keep_their_case():
    assert only_record([{"licenceUrlSlug": "a"}]).data == {"licenceUrlSlug": "a"}


@pytest.mark.parametrize("key", ["a", "A", "x1", "snake_case_2", "camelCase"])
def test_identifier_keys_are_accepted(key):
    assert only_record([{key: 1}]).data == {key: 1}


@pytest.mark.parametrize("key", ["1st", "my field", "a-b", "", "café", "a.b", "ä"])
def test_keys_that_are_not_identifiers_are_refused(key):
    assert problems_of([{key: 1}]) == [
        f"record 0: key {key!r} is not a valid identifier "
        "(letters, digits and _, not starting with a digit)"
    ]


@pytest.mark.parametrize("key", ["_foo", "_", "_updated_at", "_week_start_at", "_ID"])
def test_keys_beginning_with_underscore_are_reserved(key):
    assert problems_of([{key: 1}]) == [
        f"record 0: key {key!r} is reserved: only _id and _timestamp may begin with _"
    ]


def test_id_and_timestamp_are_the_underscore_keys_allowed():
    record = only_record([{"_id": "a", "_timestamp": "2024-01-01T00:00:00Z", "n": 1}])
    assert (record.record_id, record.timestamp, record.data) == ("a", 1704067200, {"n": 1})


# validate: values


@pytest.mark.parametrize(
    "value", ["text", "", 0, -7, 2**53 - 1, -(2**53 - 1), 1.5, True, False, None]
)
def test_scalar_values_are_kept_as_sent(value):
    data = only_record([{"v": value}]).data
    assert data == {"v": value}
    assert type(data["v"]) is type(value)


@pytest.mark.parametrize(("value", "described"), [({"x": 1}, "an object"), ([1, 2], "a list")])
def test_nested_values_are_refused(value, described):
    assert problems_of([{"v": value}]) == [
        f"record 0: field 'v' is {described}: values must be strings, numbers, booleans or null"
    ]


def test_strings_with_nul_are_refused():
    assert problems_of([{"v": "a\x00b"}]) == [
        "record 0: field 'v' contains the NUL character (\\u0000), which cannot be stored"
    ]


def test_field_types_name_the_json_types_seen():
    batch = validate_records(
        [{"n": 1, "s": "a", "b": True, "z": None}, {"n": 2.5, "s": 3}], auto_ids=None
    )
    assert batch.field_types == {
        ("n", "number"),
        ("s", "string"),
        ("s", "number"),
        ("b", "boolean"),
        ("z", "null"),
    }


# validate: _timestamp


@pytest.mark.parametrize(
    ("sent", "seconds"),
    [
        ("2024-01-01T00:00:00Z", 1704067200),
        ("2024-01-01T00:00:00+00:00", 1704067200),
        ("2024-01-01T01:00:00+01:00", 1704067200),
        ("2023-12-31T19:00:00-05:00", 1704067200),
    ],
)
def test_timestamps_with_an_offset_are_stored_as_utc_seconds(sent, seconds):
    assert only_record([{"_timestamp": sent}]).timestamp == seconds


def test_timestamps_are_not_kept_among_the_fields():
    assert only_record([{"_timestamp": "2024-01-01T00:00:00Z"}]).data == {}


@pytest.mark.parametrize(
    ("sent", "described", "why"),
    [
        (
            "2024-01-01T00:00:00",
            '"2024-01-01T00:00:00"',
            "not an ISO 8601 date-time with a UTC offset",
        ),
        ("2024-01-01", '"2024-01-01"', "not an ISO 8601 date-time with a UTC offset"),
        ("yesterday", '"yesterday"', "not an ISO 8601 date-time with a UTC offset"),
        ("2024-02-30T00:00:00Z", '"2024-02-30T00:00:00Z"', "day is out of range for month"),
    ],
)
def test_timestamps_that_are_not_iso_with_offset_are_refused(sent, described, why):
    assert problems_of([{"_timestamp": sent}]) == [
        f"record 0: _timestamp string {described} {NOT_ISO} ({why})"
    ]


@pytest.mark.parametrize(
    ("sent", "described"),
    [(1704067200, "number 1704067200"), (None, "null"), (True, "boolean true")],
)
def test_timestamps_that_are_not_strings_are_refused(sent, described):
    [problem] = problems_of([{"_timestamp": sent}])
    assert problem.startswith(f"record 0: _timestamp {described} {NOT_ISO} (")


@pytest.mark.parametrize(
    "sent", ["1000-01-01T00:00:00+01:00", "9000-01-01T00:00:00Z", "8999-12-31T23:00:00-01:00"]
)
def test_timestamps_outside_years_1000_to_8999_in_utc_are_refused(sent):
    assert problems_of([{"_timestamp": sent}]) == [
        f'record 0: _timestamp string "{sent}" '
        "must be between 1000-01-01T00:00:00Z and 9000-01-01T00:00:00Z"
    ]


def test_the_last_second_before_year_9000_is_a_valid_timestamp():
    assert only_record([{"_timestamp": "8999-12-31T23:59:59Z"}]).timestamp == 221845392000 - 1


# validate: _id


@pytest.mark.parametrize("record_id", ["a", "with-dash", "Zm9vLmJhcg==", "ünïcode", "x" * 255])
def test_ids_are_non_empty_strings_without_whitespace(record_id):
    assert only_record([{"_id": record_id}]).record_id == record_id


@pytest.mark.parametrize(
    ("record_id", "described"),
    [
        ("", '""'),
        ("a b", '"a b"'),
        ("tab\there", '"tab\\there"'),
        ("line\n", '"line\\n"'),
    ],
)
def test_ids_that_are_empty_or_hold_whitespace_are_refused(record_id, described):
    assert problems_of([{"_id": record_id}]) == [
        f"record 0: _id must be a non-empty string with no whitespace, not string {described}"
    ]


@pytest.mark.parametrize(("record_id", "described"), [(5, "number 5"), (None, "null")])
def test_ids_that_are_not_strings_are_refused(record_id, described):
    assert problems_of([{"_id": record_id}]) == [
        f"record 0: _id must be a non-empty string with no whitespace, not {described}"
    ]


def test_ids_longer_than_255_characters_are_refused():
    assert problems_of([{"_id": "x" * 256}]) == [
        "record 0: _id must be at most 255 characters long, not 256"
    ]


def test_ids_with_nul_are_refused():
    assert problems_of([{"_id": "a\x00b"}]) == [
        "record 0: _id must not contain the NUL character (\\u0000)"
    ]


def test_records_without_id_get_an_id_of_their_own():
    first, second = validate_records([{"n": 1}, {"n": 1}]).records
    assert re.fullmatch(r"[0-9a-f]{16,}", first.record_id)
    assert first.record_id != second.record_id


def test_records_without_id_get_ids_unlike_those_of_another_batch():
    [first] = validate_records([{"n": 1}]).records
    [second] = validate_records([{"n": 1}]).records
    assert first.record_id != second.record_id


def test_a_later_record_with_the_same_id_replaces_an_earlier_one_in_a_batch():
    batch = validate_records([{"_id": "a", "n": 1}, {"_id": "b"}, {"_id": "a", "m": 2}])
    assert [(r.record_id, r.data) for r in batch.records] == [("a", {"m": 2}), ("b", {})]


# validate: all problems


def test_a_record_that_is_not_an_object_is_refused():
    assert problems_of([{"n": 1}, 5, "x"]) == [
        "record 1: must be a JSON object, not number 5",
        'record 2: must be a JSON object, not string "x"',
    ]


def test_every_problem_is_listed_with_its_record_index_and_field():
    records = [
        {"ok": 1},
        {"1bad": 1, "nested": {"a": 1}},
        {"_timestamp": "2024-01-01"},
        {"_id": ""},
    ]
    with pytest.raises(InvalidRecords) as raised:
        validate_records(records)
    assert raised.value.messages == [
        "record 1: key '1bad' is not a valid identifier "
        "(letters, digits and _, not starting with a digit)",
        "record 1: field 'nested' is an object: values must be strings, numbers, booleans or null",
        f'record 2: _timestamp string "2024-01-01" {NOT_ISO} '
        "(not an ISO 8601 date-time with a UTC offset)",
        'record 3: _id must be a non-empty string with no whitespace, not string ""',
    ]


def test_the_message_is_the_first_problem_and_how_many_more():
    with pytest.raises(InvalidRecords) as raised:
        validate_records([{"a b": 1}, {"c d": 1}, {"_x": 1}])
    assert raised.value.message == (
        "record 0: key 'a b' is not a valid identifier "
        "(letters, digits and _, not starting with a digit) (and 2 more problems)"
    )


def test_a_single_problem_is_the_whole_message():
    with pytest.raises(InvalidRecords) as raised:
        validate_records([{"_x": 1}])
    assert raised.value.message == (
        "record 0: key '_x' is reserved: only _id and _timestamp may begin with _"
    )


def test_a_key_refused_in_one_record_is_refused_in_the_next_too():
    assert problems_of([{"a b": 1}, {"a b": 2}]) == [
        "record 0: key 'a b' is not a valid identifier "
        "(letters, digits and _, not starting with a digit)",
        "record 1: key 'a b' is not a valid identifier "
        "(letters, digits and _, not starting with a digit)",
    ]


# auto_ids


def test_auto_id_is_base64_of_the_values_joined_with_dots_as_backdrop_made_it():
    assert derive_id({"foo": "foo", "bar": "bar"}, ["foo", "bar"]) == "Zm9vLmJhcg=="


def test_auto_id_of_one_field_is_base64_of_its_value():
    assert derive_id({"foo": "foo", "bar": "bar"}, ["foo"]) == "Zm9v"


def test_auto_id_follows_the_order_of_auto_ids():
    assert derive_id({"foo": "foo", "bar": "bar"}, ["bar", "foo"]) == "YmFyLmZvbw=="


def test_auto_id_writes_non_strings_as_python_does():
    expected = base64.b64encode(b"1.1.5.True.None").decode()
    assert derive_id({"a": 1, "b": 1.5, "c": True, "d": None}, ["a", "b", "c", "d"]) == expected


def test_auto_id_uses_the_timestamp_as_sent():
    record = {"_timestamp": "2024-01-01T01:00:00+01:00", "channel": "digital"}
    expected = base64.b64encode(b"2024-01-01T01:00:00+01:00.digital").decode()
    assert derive_id(record, ["_timestamp", "channel"]) == expected


def test_auto_id_too_long_to_store_is_hashed():
    encoded = base64.b64encode(("x" * 200).encode()).decode()
    assert derive_id({"a": "x" * 200}, ["a"]) == hashlib.sha256(encoded.encode()).hexdigest()


def test_validated_records_get_their_auto_id():
    assert only_record([{"foo": "foo", "bar": "bar"}], ["foo", "bar"]).record_id == "Zm9vLmJhcg=="


def test_auto_id_replaces_an_id_sent_with_the_record():
    record = only_record([{"_id": "mine", "foo": "foo", "bar": "bar"}], ["foo", "bar"])
    assert record.record_id == "Zm9vLmJhcg=="


def test_record_missing_an_auto_ids_field_is_refused_naming_it():
    assert problems_of([{"foo": "foo"}], ["foo", "bar"]) == [
        "record 0: missing auto_ids field(s): bar"
    ]


def test_record_missing_several_auto_ids_fields_is_refused_naming_them_all():
    assert problems_of([{"other": 1}], ["foo", "bar"]) == [
        "record 0: missing auto_ids field(s): foo, bar"
    ]


def test_whole_number_floats_are_stored_as_integers():
    record = only_record([{"a": 1.0, "b": 2.5, "c": -3.0}])
    assert record.data == {"a": 1, "b": 2.5, "c": -3}
    assert type(record.data["a"]) is int


RANGE = (
    "numbers must lie between -9007199254740991 and 9007199254740991 (±(2^53 - 1), the whole "
    "numbers every JSON reader holds exactly)"
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2**53, "9007199254740992"),
        (-(2**53), "-9007199254740992"),
        (9223372036854770000, "9223372036854770000"),
        (2.0**53, "9007199254740992.0"),
        (1e300, "1e+300"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (float("nan"), "nan"),
    ],
)
def test_numbers_beyond_the_bound_are_refused(value, shown):
    assert problems_of([{"a": value}]) == [f"record 0: field 'a' is {shown}: {RANGE}"]


def test_numbers_at_the_bound_are_stored_exactly():
    data = only_record([{"a": 2**53 - 1, "b": -(2**53 - 1), "c": 9007199254740991.0}]).data
    assert data == {"a": 9007199254740991, "b": -9007199254740991, "c": 9007199254740991}
    assert type(data["c"]) is int


def test_a_text_value_at_the_length_bound_is_accepted_and_one_longer_refused():
    assert only_record([{"t": "x" * 10_000}]).data == {"t": "x" * 10_000}
    assert problems_of([{"t": "x" * 10_001}]) == [
        "record 0: field 't' is 10001 characters long: text values are at most 10000 characters"
    ]


def test_a_key_at_the_length_bound_is_accepted_and_one_longer_refused():
    assert only_record([{"k" * 100: 1}]).data == {"k" * 100: 1}
    assert problems_of([{"k" * 101: 1}]) == [
        "record 0: key 'kkkkkkkkkkkkkkkkkkkk'... is 101 characters long: "
        "keys are at most 100 characters"
    ]


def test_the_same_moment_with_another_offset_keeps_its_auto_id():
    ids = {
        only_record(
            [{"_timestamp": sent, "channel": "digital"}], ["_timestamp", "channel"]
        ).record_id
        for sent in (
            "2024-01-01T00:00:00Z",
            "2024-01-01T00:00:00+00:00",
            "2024-01-01T01:00:00+01:00",
        )
    }
    assert ids == {"MjAyNC0wMS0wMVQwMDowMDowMCswMDowMC5kaWdpdGFs"}
