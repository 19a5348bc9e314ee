"""Domain errors and the one place that turns them into HTTP responses.

Functions raise these with a message meant for the person who sent the request; the middleware
below (for the JSON interfaces) and the CLI turn them into a reply. No view builds an error
response by hand.
"""

import logging
from typing import NamedTuple

import orjson
from django.http import HttpResponse

logger = logging.getLogger(__name__)


class PerfplatError(Exception):
    """An error whose message is safe and useful to show to the user."""

    status = 400

    def __init__(
        self, message: str, messages: list[str] | None = None, headers=None, field: str = ""
    ):
        super().__init__(message)
        self.message = message
        self.messages = messages
        self.headers = headers or {}
        # The input field the error is about, so a form can show it beside that field.
        self.field = field


class InvalidRequest(PerfplatError):
    status = 400


class InvalidQuery(InvalidRequest):
    """A read API query that cannot be answered as asked."""


class RecordProblem(NamedTuple):
    """One problem of one record: its index in the write, the field (None for the record as a
    whole) and what is wrong."""

    index: int
    field: str | None
    message: str

    def __str__(self):
        return f"record {self.index}: {self.message}"


class InvalidRecords(InvalidRequest):
    """A write whose records break the rules; `messages` lists every problem found, and
    `problems` the same as RecordProblems (uploads show them by row and column)."""

    @classmethod
    def of(cls, problems: list[RecordProblem]) -> "InvalidRecords":
        messages = [str(problem) for problem in problems]
        more = f" (and {len(messages) - 1} more problems)" if len(messages) > 1 else ""
        error = cls(messages[0] + more, messages=messages)
        error.problems = problems
        return error


class Unauthorized(PerfplatError):
    status = 401

    def __init__(self, message: str = "Unauthorized: a valid bearer token is required"):
        super().__init__(message, headers={"WWW-Authenticate": "bearer"})


class Forbidden(PerfplatError):
    status = 403


class NotFound(PerfplatError):
    status = 404


class MethodNotAllowed(PerfplatError):
    status = 405

    def __init__(self, method: str, allowed: list[str]):
        super().__init__(
            f"Method {method} is not allowed here; use {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )


class Conflict(PerfplatError):
    status = 409


class PayloadTooLarge(PerfplatError):
    status = 413


class UnsupportedMediaType(PerfplatError):
    status = 415


def json_response(payload, status: int = 200, headers=None) -> HttpResponse:
    response = HttpResponse(
        orjson.dumps(payload, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error_response(error: PerfplatError) -> HttpResponse:
    body = {"status": "error", "message": error.message}
    if error.messages is not None:
        body["messages"] = error.messages
    return json_response(body, status=error.status, headers=error.headers)


# Paths whose clients are programs: their errors are always JSON, even with DEBUG on.
JSON_PATH_PREFIXES = ("/data/", "/_status", "/api/")


class JsonErrorMiddleware:
    """Turns domain errors into JSON error bodies, and unexpected ones on API paths into a JSON
    500 (logged), so a client never receives an HTML debug page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.path.startswith(JSON_PATH_PREFIXES)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            # django-ninja answers a wrong method with an empty body: say what is allowed.
            allowed = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
            response = error_response(MethodNotAllowed(request.method, allowed))
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, PerfplatError):
            # Programs get JSON; people get a page (or, not signed in, the sign-in page).
            from perfplat.frontend.views import domain_error_page

            return domain_error_page(request, exception)
        if request.path.startswith(JSON_PATH_PREFIXES):
            logger.exception("Unexpected error answering %s %s", request.method, request.path)
            return json_response(
                {"status": "error", "message": "Internal server error"}, status=500
            )
        return None
