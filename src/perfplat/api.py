"""The management and KPI JSON API under /api/ (django-ninja), documented at /api/docs.

Requests authenticate with a personal API token (`Authorization: Bearer pp_...`) or a signed-in
session (with its CSRF token for changes). Every error is `{"status": "error", "message": ...}`
with the status that fits: 400, 401, 403, 404, 409. A request with no credentials, or with a
bearer token that is not valid, is 401 with `WWW-Authenticate: Bearer`, whatever its method.
"""

from csp.decorators import csp_update
from django.conf import settings
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from perfplat.accounts.services import user_for_token
from perfplat.errors import Forbidden, PerfplatError, error_response, json_response


class PersonalTokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            # Permission checks read request.user, as for pages.
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """A signed-in session (django-ninja's own, but CSRF is checked only for a session).

    A CSRF attack borrows the cookie a browser sends by itself, so only a request that carries
    the session cookie of a signed-in person needs the CSRF token to change anything. Checking
    it before knowing whether there is a session (as django-ninja does) answered a request
    without credentials, or with a bad bearer token, 403 "CSRF check Failed" instead of 401.
    """

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self):
        super().__init__(csrf=False)  # checked in authenticate, once the session is known

    def authenticate(self, request, key):
        if not key or not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise Forbidden(
                "CSRF check failed: a request signed in with a session cookie must send the "
                "CSRF token (the X-CSRFToken header); programs should send a personal API "
                "token instead"
            )
        return request.user


api = NinjaAPI(
    title="perfplat management API",
    version="1",
    description=__doc__,
    auth=[PersonalTokenAuth(), SessionAuth()],
    urls_namespace="api",
    # The documentation page is django-ninja's Swagger UI, with inline scripts and styles from
    # a CDN: the one page whose policy allows them.
    docs_decorator=csp_update(
        {
            "script-src": ["'unsafe-inline'", "https://cdn.jsdelivr.net"],
            "style-src": ["'unsafe-inline'", "https://cdn.jsdelivr.net"],
            "img-src": ["https://django-ninja.dev"],
        }
    ),
)


@api.exception_handler(PerfplatError)
def domain_error(request, error):
    return error_response(error)


@api.exception_handler(AuthenticationError)
def not_authenticated(request, error):
    return json_response(
        {
            "status": "error",
            "message": "Sign in, or send a personal API token as Authorization: Bearer <token>",
        },
        status=401,
        headers={"WWW-Authenticate": "Bearer"},
    )


def _location(loc) -> str:
    # ("body", "payload", "slug") -> "slug"; query and path parameters keep their name.
    parts = [str(part) for part in loc if part not in ("body", "payload", "query", "path")]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def invalid_input(request, error):
    messages = [f"{_location(item.get('loc', ()))}: {item.get('msg')}" for item in error.errors]
    more = f" (and {len(messages) - 1} more problems)" if len(messages) > 1 else ""
    return json_response(
        {
            "status": "error",
            "message": (messages[0] if messages else "Invalid input") + more,
            "messages": messages,
        },
        status=400,
    )


@api.exception_handler(MultiPartParserError)
def unreadable_form(request, error):
    # A multipart body without a boundary, or cut short: the client's mistake, not ours.
    return json_response(
        {"status": "error", "message": f"The body is not valid multipart/form-data: {error}"},
        status=400,
    )


@api.exception_handler(Http404)
def not_found(request, error):
    return json_response({"status": "error", "message": str(error) or "Not found"}, status=404)


@api.exception_handler(HttpError)
def http_error(request, error):
    return json_response({"status": "error", "message": str(error)}, status=error.status_code)


def _add_routers():
    # Imported here: the routers import models, which need the app registry ready.
    from perfplat.accounts.api import router as accounts
    from perfplat.datasets.api import router as data_sets
    from perfplat.kpis.api import router as kpis
    from perfplat.metrics.api import router as metrics
    from perfplat.registry.api import router as registry

    for router in (registry, data_sets, metrics, accounts, kpis):
        api.add_router("", router)
    # spreadsheet uploads (perfplat.uploads)
    from perfplat.uploads.api import router as uploads

    api.add_router("", uploads)
    # collectors and notifications (perfplat.collectors, perfplat.notifications)
    from perfplat.collectors.api import router as collectors
    from perfplat.notifications.api import router as notifications

    api.add_router("", collectors)
    api.add_router("", notifications)
    # dashboard drafts, publishing, assessments and readiness (perfplat.publishing)
    from perfplat.publishing.api import router as publishing

    api.add_router("", publishing)
    # the journey beacon's settings and counts (perfplat.beacon)
    from perfplat.beacon.api import router as beacon

    api.add_router("", beacon)


_add_routers()
