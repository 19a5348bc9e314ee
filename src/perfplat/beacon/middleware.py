"""The beacon's HTTP interface, answered before any other middleware runs:

    POST /beacon/<service>             {"step": NAME} as JSON, text/plain or a form -> 204
    GET  /beacon/<service>/<step>.gif  -> a 1x1 transparent GIF
    OPTIONS on either                  -> the CORS preflight

Answered first, so nothing that reads or sets cookies (sessions, CSRF, messages, sign-in) ever
runs for these requests, and an event costs no more than parsing it: the answer is the same
whatever was sent, and the event is only added to the process's tally (counting.py).
"""

import logging
import re

from django.http import HttpResponse

from . import counting, events
from .events import (
    MAX_BODY_BYTES,
    classify,
    is_bot,
    is_prefetch,
    request_origin,
    step_from_body,
)

EVENT_PATH = re.compile(r"/beacon/([^/]{1,100})")
PIXEL_PATH = re.compile(r"/beacon/([^/]{1,100})/([^/]{1,100})\.gif")
# The smallest transparent 1x1 GIF.
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
PREFLIGHT_SECONDS = 86400

logger = logging.getLogger(__name__)


def _count(request, slug: str, step: str | None) -> None:
    meta = request.META
    service_id, counted_step, kind = classify(
        counting.routes.get(slug),
        step,
        request_origin(meta.get("HTTP_ORIGIN", ""), meta.get("HTTP_REFERER", "")),
        is_bot(meta.get("HTTP_USER_AGENT", "")),
        is_prefetch(
            meta.get("HTTP_SEC_PURPOSE", ""),
            meta.get("HTTP_PURPOSE", ""),
            meta.get("HTTP_X_MOZ", ""),
            meta.get("HTTP_X_PURPOSE", ""),
        ),
    )
    now = events.current_time()
    counting.count((service_id, counted_step, now - now % 3600, kind))


def _count_safely(request, slug: str, step: str | None) -> None:
    # The page that sent the event is answered the same whatever happens here.
    try:
        _count(request, slug, step)
    except Exception:
        logger.exception("Could not count a journey beacon event")


def _no_content() -> HttpResponse:
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


def _allow_origin(request, slug: str, response: HttpResponse) -> HttpResponse:
    """CORS for the service's listed origins only; never credentials."""
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Vary"] = "Origin"
    sent = request.META.get("HTTP_ORIGIN", "")
    route = counting.routes.get(slug) if sent else None
    if route is not None and request_origin(sent, "") in route.origins:
        response["Access-Control-Allow-Origin"] = sent
    return response


def _not_allowed(allowed: str) -> HttpResponse:
    response = HttpResponse(status=405)
    response["Allow"] = allowed
    response["Cache-Control"] = "no-store"
    return response


def _preflight(request, slug: str) -> HttpResponse:
    response = _allow_origin(request, slug, _no_content())
    if "Access-Control-Allow-Origin" in response:
        response["Access-Control-Allow-Methods"] = "GET, POST"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = str(PREFLIGHT_SECONDS)
    return response


def _event(request, slug: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request, slug)
    if request.method != "POST":
        return _not_allowed("POST, OPTIONS")
    length = request.META.get("CONTENT_LENGTH") or "0"
    # An oversized body is not read: not an event.
    too_long = not length.isdigit() or int(length) > MAX_BODY_BYTES
    body = b"" if too_long else request.read(MAX_BODY_BYTES + 1)
    step = None if too_long else step_from_body(request.META.get("CONTENT_TYPE", ""), body)
    _count_safely(request, slug, step)
    return _allow_origin(request, slug, _no_content())


def _pixel(request, slug: str, step: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _preflight(request, slug)
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD, OPTIONS")
    if request.method == "GET":  # a HEAD is nobody's visit
        _count_safely(request, slug, step)
    return _allow_origin(request, slug, HttpResponse(PIXEL, content_type="image/gif"))


class BeaconMiddleware:
    """First in MIDDLEWARE: answers the beacon's paths itself, and passes every other request
    on untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/beacon/"):
            match = EVENT_PATH.fullmatch(path)
            if match:
                return _event(request, match.group(1))
            match = PIXEL_PATH.fullmatch(path)
            if match:
                return _pixel(request, match.group(1), match.group(2))
        return self.get_response(request)
