"""The management and KPI JSON API under /api/ (django-ninja), documented at /api/docs.

Requests authenticate with a personal API token (`Authorization: Bearer pp_...`) or a signed-in
session (with its CSRF token for changes). Every error is `{"status": "error", "message": ...}`
with the status that fits: 400, 401, 403, 404, 409.
"""

from csp.decorators import csp_update
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from perfplat.accounts.services import user_for_token
from perfplat.errors import PerfplatError, error_response, json_response


class PersonalTokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            # Permission checks read request.user, as for pages.
            request.user = user
        return user


api = NinjaAPI(
    title="perfplat management API",
    version="1",
    description=__doc__,
    auth=[PersonalTokenAuth(), django_auth],
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


_add_routers()
