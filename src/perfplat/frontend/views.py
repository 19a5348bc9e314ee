"""Pages that every part of perfplat shares: the answers to unknown pages and server errors, which
are GOV.UK pages for people and JSON for programs. (The home page is perfplat.public's.)"""

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token

from perfplat.errors import (
    JSON_PATH_PREFIXES,
    NotFound,
    PerfplatError,
    Unauthorized,
    error_response,
    json_response,
)

HTML_TYPES = {("text", "html"), ("application", "xhtml+xml")}
# Paths whose only clients are people: their errors are always pages (the management area has
# the JSON API under /api/ as its programs' twin), so a page always sends people to sign in.
PAGE_PATH_PREFIXES = ("/manage/",)


def wants_json(request) -> bool:
    """Whether an error should be answered as JSON: always on the API's paths, never on the
    management pages, and elsewhere for any client that does not name HTML in its Accept header
    (browsers do; curl's */* and API clients do not)."""
    if request.path.startswith(JSON_PATH_PREFIXES):
        return True
    if request.path.startswith(PAGE_PATH_PREFIXES):
        return False
    return not any((t.main_type, t.sub_type) in HTML_TYPES for t in request.accepted_types)


def not_found(request, unknown_path=""):
    """The answer to every URL nothing else matched (the catch-all, last in urls.py)."""
    if wants_json(request):
        response = error_response(NotFound(f"Nothing here: {request.path}"))
        response["Access-Control-Allow-Origin"] = "*"
        return response
    return render(request, "frontend/404.html", status=404)


@requires_csrf_token
def page_not_found(request, exception):
    """handler404: a page view raised Http404."""
    return not_found(request)


def server_error(request):
    """handler500. The page is rendered without the request: whatever failed (the database, the
    session) must not fail this page too."""
    if wants_json(request):
        return json_response({"status": "error", "message": "Internal server error"}, status=500)
    return HttpResponseServerError(render_to_string("frontend/500.html"))


def domain_error_page(request, error: PerfplatError):
    """A domain error raised by a page or API view: JSON for programs; for people, the sign-in
    page when they are not signed in, else a GOV.UK page that says what is wrong."""
    if wants_json(request):
        return error_response(error)
    if isinstance(error, Unauthorized):
        return redirect_to_login(request.get_full_path())
    if isinstance(error, NotFound):
        return render(request, "frontend/404.html", status=404)
    response = render(request, "frontend/error.html", {"error": error}, status=error.status)
    # e.g. the Allow header of a 405.
    for name, value in error.headers.items():
        response[name] = value
    return response
