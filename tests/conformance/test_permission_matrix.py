"""Every management page and API operation x every kind of user -> allowed or refused.

The endpoints are read from the URL configuration, so a new page or operation without a
permission rule, or with a rule this table does not know, fails here. The expected outcomes are
written out below by hand, independently of perfplat's rule functions.
"""

import inspect

import orjson
import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

ACTORS = [
    "anonymous",
    "platform_admin",
    "org_admin",  # of the department "transport"
    "editor",  # of "transport"
    "agency_editor",  # of "licensing", an agency under "transport"
    "other_admin",  # of "health"
    "other_editor",  # of "health"
]
SIGNED_IN = set(ACTORS) - {"anonymous"}
TRANSPORT_WORKERS = {"platform_admin", "org_admin", "editor"}
TRANSPORT_ADMINS = {"platform_admin", "org_admin"}
ADMINS = {"platform_admin", "org_admin", "other_admin"}

# Who may use each endpoint, written out by hand. The objects the URLs name all belong to the
# department "transport": the department itself, its service "road-tax", that service's data
# set, and the agency editor (a user of an agency under transport). API changes send the body
# in BODIES: valid input, so that only permission decides.
EXPECTED = {
    # the management API
    ("GET", "api/me"): SIGNED_IN,
    ("GET", "api/organisations"): SIGNED_IN,
    ("POST", "api/organisations"): TRANSPORT_ADMINS,
    ("GET", "api/organisations/<organisation>"): TRANSPORT_WORKERS,
    ("PATCH", "api/organisations/<organisation>"): TRANSPORT_ADMINS,
    ("GET", "api/services"): SIGNED_IN,
    ("POST", "api/services"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>"): TRANSPORT_WORKERS,
    ("PATCH", "api/services/<service>"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/phase-changes"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/data-sets"): TRANSPORT_WORKERS,
    ("POST", "api/services/<service>/data-sets"): TRANSPORT_WORKERS,
    ("GET", "api/data-sets/<data_set_id>"): TRANSPORT_WORKERS,
    ("PATCH", "api/data-sets/<data_set_id>"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/rotate-token"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/empty"): TRANSPORT_WORKERS,
    ("GET", "api/users"): ADMINS,
    ("POST", "api/users"): TRANSPORT_ADMINS,
    ("GET", "api/users/<user_id>"): {"platform_admin", "org_admin", "agency_editor"},
    ("PATCH", "api/users/<user_id>"): {"platform_admin", "org_admin", "agency_editor"},
}

BODIES = {
    ("POST", "api/organisations"): {
        "slug": "roads",
        "name": "Roads Agency",
        "type": "agency",
        "parent": "transport",
    },
    ("PATCH", "api/organisations/<organisation>"): {"abbreviation": "DfT"},
    ("POST", "api/services"): {"slug": "park", "name": "Pay to park", "organisation": "transport"},
    ("PATCH", "api/services/<service>"): {"audience": "Drivers"},
    ("POST", "api/services/<service>/data-sets"): {"data_type": "cost"},
    ("PATCH", "api/data-sets/<data_set_id>"): {"max_age_expected": 3600},
    ("POST", "api/users"): {
        "email": "new@example.gov.uk",
        "role": "editor",
        "organisation": "licensing",
    },
    ("PATCH", "api/users/<user_id>"): {"name": "Renamed"},
}

# A sample value for each URL argument, and the kind of object it names.
ARGUMENTS = {
    "organisation": ("organisation", lambda world: world.department.slug),
    "service": ("service", lambda world: world.service.slug),
    "data_set_id": ("data_set", lambda world: world.data_set.pk),
    "user_id": ("user", lambda world: world.agency_editor.pk),
    "token_id": ("personal_token", lambda world: world.personal_token_id),
    "uidb64": (None, lambda world: "MQ"),
    "token": (None, lambda world: "set-password"),
}


def _patterns(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern


def _ninja_operations(callback):
    """The operations behind a django-ninja URL (its view closes over their PathView)."""
    if not inspect.isfunction(callback):
        return None
    path_view = inspect.getclosurevars(callback).nonlocals.get("self")
    return getattr(path_view, "operations", None)


def endpoints():
    """(route, method, view) for every page under /manage/ and operation under /api/."""
    found = []
    for route, pattern in _patterns(get_resolver()):
        if not route.startswith(("manage/", "api/")):
            continue
        operations = _ninja_operations(pattern.callback)
        if operations is not None:
            for operation in operations:
                for method in operation.methods:
                    found.append((route, method, operation.view_func))
        else:
            view = pattern.callback
            for method in getattr(view, "permission_methods", ("GET", "POST")):
                found.append((route, method, view))
    # django-ninja gives each operation of a path its own URL pattern, all alike.
    return list(dict.fromkeys(found))


# The OpenAPI schema and docs pages are documentation, open to anyone.
DOCUMENTATION = {"api/", "api/openapi.json", "api/docs"}


def _id(endpoint):
    route, method, _ = endpoint
    return f"{method} /{route}"


ENDPOINTS = [e for e in endpoints() if e[0] not in DOCUMENTATION]


def test_the_matrix_covers_pages_and_api_operations():
    routes = {route for route, _, _ in ENDPOINTS}
    assert any(route.startswith("api/") for route in routes)
    assert len(ENDPOINTS) >= 15


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_every_endpoint_declares_a_rule_and_its_expected_users(endpoint):
    route, method, view = endpoint
    assert getattr(view, "permission_rule", None), (
        f"{method} /{route} has no @requires(...) permission rule"
    )
    unknown = [name for name in _arguments(route) if name not in ARGUMENTS]
    assert not unknown, f"give test_permission_matrix a sample value for {unknown}"
    assert (method, route) in EXPECTED, f"add the expected users of {method} /{route}"
    if route.startswith("api/") and method in ("POST", "PATCH", "PUT"):
        assert (method, route) in BODIES or method == "POST", f"add a body for {method} /{route}"


def _arguments(route: str) -> list[str]:
    import re

    return re.findall(r"<(?:\w+:)?(\w+)>", route)


def _url(route: str, world) -> str:
    import re

    def value(match):
        return str(ARGUMENTS[match.group(1)][1](world))

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", value, route)


def _request(client, method, url, route, is_api):
    if is_api:
        payload = orjson.dumps(BODIES.get((method, route), {}))
        return client.generic(method, url, payload, content_type="application/json")
    if method == "GET":
        return client.get(url)
    return client.post(url, {})


def outcome(response, is_api) -> str:
    if response.status_code >= 500:
        return f"error {response.status_code}"
    if is_api and response.status_code == 401:
        return "refused"
    if response.status_code == 403:
        return "refused"
    if response.status_code in (301, 302) and response["Location"].startswith(settings.LOGIN_URL):
        return "refused"
    return "allowed"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_each_kind_of_user_is_allowed_or_refused(endpoint, world):
    from perfplat.accounts.services import issue_personal_token

    route, method, view = endpoint
    expected = EXPECTED.get((method, route))
    if expected is None:
        pytest.fail(
            "no expectations: see test_every_endpoint_declares_a_rule_and_its_expected_users"
        )
    is_api = route.startswith("api/")
    results = {}
    for actor in ACTORS:
        # Each actor gets fresh objects' state only as far as needed: the world is shared,
        # but no request here can delete the objects the URLs name.
        world.personal_token_id = issue_personal_token(None, world.agency_editor, "matrix")[0].pk
        client = Client()
        if actor != "anonymous":
            client.force_login(getattr(world, actor))
        response = _request(client, method, _url(route, world), route, is_api)
        results[actor] = outcome(response, is_api)
    wanted = {actor: "allowed" if actor in expected else "refused" for actor in ACTORS}
    assert results == wanted, f"{method} /{route}"


def test_an_anonymous_page_request_is_sent_to_sign_in(client, world):
    response = client.get("/manage/services/road-tax")
    assert response.status_code == 302
    assert response["Location"] == f"{settings.LOGIN_URL}?next=/manage/services/road-tax"


def test_openapi_lists_every_api_operation(client, db):
    schema = orjson.loads(client.get("/api/openapi.json").content)
    listed = {(path, method.upper()) for path, ops in schema["paths"].items() for method in ops}
    routes = {
        ("/" + route.replace("<", "{").replace(">", "}"), method)
        for route, method, _ in ENDPOINTS
        if route.startswith("api/")
    }
    assert routes <= listed
