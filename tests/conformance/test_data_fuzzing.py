"""A property-based fuzzer of the write and read API, /data/<group>/<type> (SPEC 4 and 5):
bodies of any JSON (records with odd keys, huge, tiny and special numbers, nesting, long text),
odd content types and encodings, and read queries made of the API's own parameters with values
from its grammar and from anywhere. No request may answer 5xx; every error is the API's JSON
error body. The counts are printed (pytest -s) for the closing note of issue 13.
"""

import json

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from perfplat.datasets.queries import PARAMETERS

URL = "/data/test-service/events"
COUNTS = {"requests": 0, "server_errors": 0}
FUZZ = settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

keys = st.one_of(
    st.sampled_from(["_id", "_timestamp", "count", "channel", "period", "_updated_at", "n"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True),
    st.text(max_size=12),
    st.just("k" * 101),
)
numbers = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**53 - 1, 2**53, -(2**53), 9223372036854770000, 1e300, -0.0, 0.5]),
)
timestamps = st.one_of(
    st.sampled_from(
        ["2024-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", ""]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
    st.text(max_size=25),
)
scalars = st.one_of(
    st.none(), st.booleans(), numbers, st.text(max_size=30), timestamps, st.just("x" * 10_001)
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=5)
records = st.dictionaries(keys, values, max_size=8)
bodies = st.one_of(records, st.lists(st.one_of(records, scalars), max_size=6), scalars)


def check(response) -> None:
    COUNTS["requests"] += 1
    if response.status_code >= 500:
        COUNTS["server_errors"] += 1
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/json"
        assert orjson.loads(response.content)["status"] == "error"


@pytest.fixture
def token(data_set):
    return data_set[1]


@FUZZ
@given(body=bodies, gzipped=st.booleans())
def test_any_json_written_is_stored_or_refused_never_a_server_error(api, token, body, gzipped):
    # The standard library writes integers of any size (orjson stops at 64 bits).
    check(api.post(URL, json.dumps(body).encode(), token, gzipped=gzipped))


@FUZZ
@given(
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        ["application/json", "text/plain", "application/json; charset=latin-1", ""]
    ),
    encoding=st.sampled_from(["", "gzip", "deflate", "identity", "GZIP"]),
)
def test_any_bytes_written_are_refused_cleanly(api, token, raw, content_type, encoding):
    headers = {"HTTP_CONTENT_ENCODING": encoding} if encoding else {}
    check(api.post(URL, raw, token, content_type=content_type, **headers))


def _grammar_value(name: str):
    fields = st.sampled_from(["n", "channel", "_id", "_timestamp", "count", "x:y", ""])
    by_name = {
        "start_at": timestamps,
        "end_at": timestamps,
        "duration": st.one_of(st.integers(-5, 10**20).map(str), st.text(max_size=5)),
        "period": st.sampled_from(["hour", "day", "week", "month", "quarter", "year", "x"]),
        "group_by": fields,
        "filter_by": st.builds(lambda f, v: f"{f}:{v}", fields, st.text(max_size=10)),
        "filter_by_prefix": st.builds(lambda f, v: f"{f}:{v}", fields, st.text(max_size=10)),
        "collect": st.builds(
            lambda f, m: f"{f}{m}",
            fields,
            st.sampled_from(["", ":sum", ":mean", ":count", ":set", ":x"]),
        ),
        "sort_by": st.builds(
            lambda f, d: f"{f}:{d}", fields, st.sampled_from(["ascending", "descending", "x"])
        ),
        "limit": st.one_of(st.integers(-1, 10**25).map(str), st.text(max_size=4)),
        "flatten": st.sampled_from(["true", "false", "yes"]),
        "inclusive": st.sampled_from(["true", "false", "1"]),
        "format": st.sampled_from(["json", "csv", "xml"]),
    }
    return st.one_of(by_name[name], st.text(max_size=20))


queries = st.lists(
    st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=8)), max_size=6, unique=True
).flatmap(
    lambda names: st.fixed_dictionaries(
        {
            name: st.lists(
                _grammar_value(name) if name in PARAMETERS else st.text(max_size=8),
                min_size=1,
                max_size=2,
            )
            for name in names
        }
    )
)


@pytest.fixture
def stored(api, token):
    """A few records of every kind of value, including the bounds."""
    response = api.post(
        URL,
        [
            {"_id": "a", "_timestamp": "2024-01-01T10:00:00Z", "n": 2**53 - 1, "channel": "web"},
            {
                "_id": "b",
                "_timestamp": "2024-01-02T10:00:00Z",
                "n": -(2**53 - 1),
                "channel": "=1+1",
            },
            {"_id": "c", "_timestamp": "2024-02-05T00:00:00Z", "n": 1.5, "channel": None},
            {"_id": "d", "n": "text", "channel": True},
            {"_id": "e", "_timestamp": "2023-12-31T23:00:00-05:00", "count": 3},
        ],
        token,
    )
    assert response.status_code == 200, response.content


@FUZZ
@given(query=queries)
def test_any_read_query_is_answered_or_refused_never_a_server_error(api, stored, query):
    response = api.get(URL, query)
    if response.streaming:
        b"".join(response.streaming_content)
    check(response)


def test_the_fuzzer_sent_requests_and_saw_no_server_error():
    if not COUNTS["requests"]:
        pytest.skip("run with the fuzzing tests above")
    print(f"\n/data fuzzer: {COUNTS['requests']} requests, {COUNTS['server_errors']} 5xx")
    assert COUNTS["server_errors"] == 0
