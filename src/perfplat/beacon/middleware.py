"""The beacon's HTTP interface:

    POST /beacon/<service>             {"step": NAME} as JSON, text/plain or a form -> 204
    GET  /beacon/<service>/<step>.gif  -> a 1x1 transparent GIF
    OPTIONS on either                  -> the CORS preflight

`answer` makes the reply from the request's WSGI environ alone; the answer is the same whatever
was sent, and the event is only added to the process's tally (counting.py). It runs before
Django does anything, in one of two places:

- `beacon_first`, around the WSGI application that `perfplat serve` runs (perfplat.wsgi): the
  production path, which skips Django's request handling (request objects, signals, database
  connection checks), two thirds of an event's cost in the server process;
- `BeaconMiddleware`, first in MIDDLEWARE, for any other way of running Django (the test
  client, the live server of the browser tests, runserver).

Either way no session, CSRF, messages or sign-in code runs for these requests, so no cookie is
read or set.
"""

import logging
import re
from http import HTTPStatus

from . import counting, events
from .events import (
    MAX_BODY_BYTES,
    classify,
    is_bot,
    is_prefetch,
    request_origin,
    step_from_body,
)

PREFIX = "/beacon/"
EVENT_PATH = re.compile(r"/beacon/([^/]{1,100})")
PIXEL_PATH = re.compile(r"/beacon/([^/]{1,100})/([^/]{1,100})\.gif")
# The smallest transparent 1x1 GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
PREFLIGHT_SECONDS = 86400
NEVER_STORED = [("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff")]

logger = logging.getLogger(__name__)


def _count(environ: dict, slug: str, step: str | None) -> None:
    get = environ.get
    service_id, counted_step, kind = classify(
        counting.routes.get(slug),
        step,
        request_origin(get("HTTP_ORIGIN", ""), get("HTTP_REFERER", "")),
        is_bot(get("HTTP_USER_AGENT", "")),
        is_prefetch(
            get("HTTP_SEC_PURPOSE", ""),
            get("HTTP_PURPOSE", ""),
            get("HTTP_X_MOZ", ""),
            get("HTTP_X_PURPOSE", ""),
        ),
    )
    now = events.current_time()
    counting.count((service_id, counted_step, now - now % 3600, kind))


def _count_safely(environ: dict, slug: str, step: str | None) -> None:
    # The page that sent the event is answered the same whatever happens here.
    try:
        _count(environ, slug, step)
    except Exception:
        logger.exception("Could not count a journey beacon event")


def _cors(environ: dict, slug: str) -> list[tuple[str, str]]:
    """CORS for the service's listed origins only; never credentials."""
    headers = [*NEVER_STORED, ("Vary", "Origin")]
    sent = environ.get("HTTP_ORIGIN", "")
    route = counting.routes.get(slug) if sent else None
    if route is not None and request_origin(sent, "") in route.origins:
        headers.append(("Access-Control-Allow-Origin", sent))
    return headers


def _preflight(environ: dict, slug: str):
    headers = _cors(environ, slug)
    if headers[-1][0] == "Access-Control-Allow-Origin":
        headers += [
            ("Access-Control-Allow-Methods", "GET, POST"),
            ("Access-Control-Allow-Headers", "Content-Type"),
            ("Access-Control-Max-Age", str(PREFLIGHT_SECONDS)),
        ]
    return 204, headers, b""


def _not_allowed(allowed: str):
    return 405, [("Allow", allowed), *NEVER_STORED], b""


def _event(environ: dict, slug: str, read):
    method = environ["REQUEST_METHOD"]
    if method == "OPTIONS":
        return _preflight(environ, slug)
    if method != "POST":
        return _not_allowed("POST, OPTIONS")
    length = environ.get("CONTENT_LENGTH") or "0"
    # An oversized body is not read: it is not an event.
    if length.isdigit() and int(length) <= MAX_BODY_BYTES:
        step = step_from_body(environ.get("CONTENT_TYPE", ""), read(int(length)))
    else:
        step = None
    _count_safely(environ, slug, step)
    return 204, _cors(environ, slug), b""


def _pixel(environ: dict, slug: str, step: str):
    method = environ["REQUEST_METHOD"]
    if method == "OPTIONS":
        return _preflight(environ, slug)
    if method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD, OPTIONS")
    if method == "GET":  # a HEAD is nobody's visit
        _count_safely(environ, slug, step)
    return 200, [("Content-Type", "image/gif"), *_cors(environ, slug)], PIXEL


def answer(environ: dict, read):
    """(status, headers, body) for a beacon request, or None for any other path. `read(n)`
    reads n bytes of the request's body."""
    path = environ.get("PATH_INFO", "")
    if not path.startswith(PREFIX):
        return None
    match = EVENT_PATH.fullmatch(path)
    if match:
        return _event(environ, match.group(1), read)
    match = PIXEL_PATH.fullmatch(path)
    if match:
        return _pixel(environ, match.group(1), match.group(2))
    return None


def beacon_first(application):
    """The WSGI application `application` with the beacon's requests answered before it."""

    def wsgi(environ, start_response):
        found = answer(environ, environ["wsgi.input"].read)
        if found is None:
            return application(environ, start_response)
        status, headers, body = found
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [*headers, ("Content-Length", str(len(body)))],
        )
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]

    return wsgi


class BeaconMiddleware:
    """First in MIDDLEWARE: the same answers, for Django run any other way than by
    `perfplat serve`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = answer(request.META, request.read)
        if found is None:
            return self.get_response(request)
        from django.http import HttpResponse

        status, headers, body = found
        response = HttpResponse(body, status=status)
        if status != 200:
            del response["Content-Type"]
        for name, value in headers:
            response[name] = value
        return response
