"""HTTP for the write and read API (`/data/<group>/<type>`) and the status endpoints.

Thin: each view reads the request, calls the write path or the read pipeline, and shapes the
reply. Errors are raised as domain errors and become JSON in `perfplat.errors`.
"""

import functools
import hashlib
import itertools
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from perfplat import csvfiles
from perfplat.deployment.replicas import reads_from_replica
from perfplat.errors import (
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PerfplatError,
    UnsupportedMediaType,
    error_response,
    json_response,
)
from perfplat.public.caching import cached, data_set_key

from . import corrections, services, writes
from .access import authorize_write, can_read, find_data_set
from .engine import result_table, run_query
from .models import DataSet
from .queries import Query, parse_query

UNPUBLISHED_WARNING = (
    "Warning: This data-set is unpublished. Data may be subject to change or be inaccurate."
)
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
DATA_SET_METHODS = ["GET", "HEAD", "OPTIONS", "POST", "PUT"]
RECORD_METHODS = ["OPTIONS", "PATCH", "DELETE"]


def api_view(allowed: list[str]):
    """Wrap a view of the JSON API: CSRF-exempt (bearer tokens, not cookies, authorize
    writes), JSON errors, CORS on every reply, 405 for other methods, preflight answered."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            try:
                if request.method not in allowed:
                    raise MethodNotAllowed(request.method, allowed)
                if request.method == "OPTIONS":
                    response = _preflight(allowed)
                else:
                    response = view(request, *args, **kwargs)
            except PerfplatError as error:
                response = error_response(error)
            response["Access-Control-Allow-Origin"] = "*"
            return response

        return wrapper

    return decorate


def _preflight(allowed: list[str]) -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = ", ".join(allowed)
    response["Access-Control-Allow-Headers"] = (
        "Authorization, Content-Type, Content-Encoding, Cache-Control, GOVUK-Request-Id, Request-Id"
    )
    response["Access-Control-Max-Age"] = "86400"
    return response


# write


def read_json_body(request):
    """The request's JSON payload: content type checked, gzip inflated, size capped."""
    if request.content_type != "application/json":
        raise InvalidRequest("Expected header: Content-Type: application/json")
    limit = settings.PERFPLAT_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The body is larger than the limit of {limit} bytes")
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding == "gzip":
        body = writes.decompress_gzip(body, limit)
    elif encoding not in ("", "identity"):
        raise UnsupportedMediaType(
            f"Content-Encoding {encoding!r} is not supported: send gzip or no encoding"
        )
    if not body:
        raise InvalidRequest("Expected JSON request body but received zero bytes.")
    return writes.parse_json_body(body)


def _source(request, token) -> writes.WriteSource:
    """A write through the API with `token`; its reason for any corrections is the optional
    `reason` query parameter."""
    reason = corrections.check_reason(request.GET.get("reason"))
    return writes.WriteSource(writes.WriteBatch.API, token_id=token.pk, reason=reason)


def _write(request, data_set: DataSet) -> HttpResponse:
    token = authorize_write(request, data_set)
    source = _source(request, token)
    records = writes.records_from_body(read_json_body(request))
    count = writes.write_records(data_set, records, source)
    return json_response({"status": "ok", "count": count})


def _empty(request, data_set: DataSet) -> HttpResponse:
    source = _source(request, authorize_write(request, data_set))
    if read_json_body(request) != []:
        raise InvalidRequest(
            "Not implemented: you can only pass an empty JSON list, which empties the data set"
        )
    services.empty(data_set, source=source)
    return json_response({"status": "ok", "message": f"{data_set.name} now contains 0 records"})


@api_view(RECORD_METHODS)
def record_view(request, data_group: str, data_type: str, record_id: str):
    data_set = find_data_set(data_group, data_type)
    source = _source(request, authorize_write(request, data_set))
    if request.method == "PATCH":
        record = writes.patch_record(data_set, record_id, read_json_body(request), source)
        return json_response({"status": "ok", "record": record})
    writes.delete_record(data_set, record_id, source)
    return json_response({"status": "ok", "message": f"Deleted record {record_id}"})


# read


# Larger answers are not cached: one read of a large raw data set would push many small
# answers out of the cache.
CACHED_ANSWER_BYTES = 512 * 1024


@dataclass(frozen=True)
class Answer:
    body: bytes
    etag: str


def answer_query(data_set: DataSet, query: Query) -> Answer:
    """A query's JSON answer as sent, with its ETag."""
    payload = {"data": run_query(data_set, query)}
    if not data_set.published:
        payload["warning"] = UNPUBLISHED_WARNING
    body = orjson.dumps(payload)
    return Answer(body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"')


def cached_answer(data_set: DataSet, query: Query) -> Answer:
    """The answer from the shared cache when this data set version has been asked the same
    query before (on any app server, with Redis). A relative range (`duration`) is resolved
    into the query, so a new period makes a new key."""
    return cached(
        ("read-api", *data_set_key(data_set), data_set.published, query),
        lambda: answer_query(data_set, query),
        keep=lambda answer: len(answer.body) <= CACHED_ANSWER_BYTES,
    )


@reads_from_replica
def _read(request, data_group: str, data_type: str) -> HttpResponse:
    data_set = find_data_set(data_group, data_type)
    if not can_read(request, data_set):
        raise NotFound(f"Data set {data_set} not found")
    query = parse_query(
        dict(request.GET.lists()),
        raw_queries_allowed=data_set.raw_queries_allowed,
        now=int(time.time()),
    )
    if query.format == "csv":
        return _csv_read(request, data_set, query)
    answer = cached_answer(data_set, query)
    body, etag = answer.body, answer.etag
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(
            b"" if request.method == "HEAD" else body, content_type="application/json"
        )
    return _with_read_headers(response, data_set, etag)


def _csv_read(request, data_set: DataSet, query) -> HttpResponse:
    """A read as CSV, streamed: memory for a chunk of rows, never the whole result. Its ETag
    comes from the data set's version (which every write bumps) and the validated query, as
    the body is not known before it is sent."""
    key = f"{data_set.pk}:{data_set.version}:{query!r}"
    etag = '"csv-' + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        columns, rows = result_table(data_set, query)
        table = itertools.chain([columns], ([_csv_value(v) for v in row] for row in rows))
        response = StreamingHttpResponse(
            [] if request.method == "HEAD" else csvfiles.stream(table),
            content_type="text/csv; charset=utf-8",
        )
    response["Content-Disposition"] = (
        f'inline; filename="{data_set.data_group}-{data_set.data_type}.csv"'
    )
    return _with_read_headers(response, data_set, etag)


def _with_read_headers(response, data_set: DataSet, etag: str):
    response["ETag"] = etag
    if data_set.published:
        response["Cache-Control"] = f"public, max-age={data_set.effective_cache_max_age}"
    else:
        response["Cache-Control"] = "private, no-cache"
    return response


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return orjson.dumps(value).decode()
    return value


@api_view(DATA_SET_METHODS)
def data_set_view(request, data_group: str, data_type: str):
    if request.method in ("GET", "HEAD"):
        return _read(request, data_group, data_type)
    data_set = find_data_set(data_group, data_type)
    if request.method == "POST":
        return _write(request, data_set)
    return _empty(request, data_set)


# status


@api_view(READ_METHODS)
def status_view(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means the database is unusable
        response = json_response(
            {"status": "error", "message": f"cannot connect to database: {error}"}, status=500
        )
    else:
        response = json_response({"status": "ok", "message": "database is up"})
    response["Cache-Control"] = "no-cache"
    return response


def stale_data_sets(now: datetime | None = None) -> list[dict]:
    """Data sets whose last write is older than their max_age_expected, as
    /_status/data-sets lists them (the freshness rule is services.freshness)."""
    return [
        {
            "name": data_set.name,
            "data_group": data_set.data_group,
            "data_type": data_set.data_type,
            "seconds-out-of-date": state.seconds_out_of_date,
            "last-updated": state.last_write_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "max-age-expected": state.max_age,
        }
        for data_set, state in services.stale_data_sets(now or datetime.now(UTC))
    ]


@api_view(READ_METHODS)
def stale_data_sets_view(request):
    stale = stale_data_sets()
    if stale:
        noun = "data-set is" if len(stale) == 1 else "data-sets are"
        payload = {
            "status": "not okay",
            "message": f"{len(stale)} {noun} out of date",
            "data_sets": stale,
        }
    else:
        payload = {"status": "ok", "message": "All data_sets are in date", "data_sets": []}
    response = json_response(payload)
    response["Cache-Control"] = "no-cache"
    return response
