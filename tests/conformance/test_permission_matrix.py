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
EVERYONE = set(ACTORS)
SIGNED_IN = EVERYONE - {"anonymous"}
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
    ("GET", "api/data-sets/<data_set_id>/fields"): TRANSPORT_WORKERS,
    ("PUT", "api/data-sets/<data_set_id>/fields"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/fields/convert"): TRANSPORT_WORKERS,
    ("GET", "api/users"): ADMINS,
    ("POST", "api/users"): TRANSPORT_ADMINS,
    ("GET", "api/users/<user_id>"): {"platform_admin", "org_admin", "agency_editor"},
    ("PATCH", "api/users/<user_id>"): {"platform_admin", "org_admin", "agency_editor"},
    # the public KPI API: open to everyone, signed in or not (road-tax is public: it is live
    # and has a published data set)
    ("GET", "api/services/<service>/kpis"): set(ACTORS),
    ("GET", "api/organisations/<organisation>/kpis"): set(ACTORS),
    ("GET", "api/kpis"): set(ACTORS),
    # the metric catalogue and the support check
    ("GET", "api/services/<service>/metrics"): TRANSPORT_WORKERS,
    ("POST", "api/services/<service>/metrics"): TRANSPORT_WORKERS,
    ("GET", "api/metrics/<metric_id>"): TRANSPORT_WORKERS,
    ("PATCH", "api/metrics/<metric_id>"): TRANSPORT_WORKERS,
    ("DELETE", "api/metrics/<metric_id>"): TRANSPORT_WORKERS,
    ("POST", "api/services/<service>/support-check"): TRANSPORT_WORKERS,
    # the management pages: a refusal is a 403 page, or the sign-in page for anonymous visitors;
    # a POST sends no fields, so an allowed form answers with its errors
    ("GET", "manage/"): SIGNED_IN,
    ("GET", "manage/sign-in"): EVERYONE,
    ("POST", "manage/sign-in"): EVERYONE,
    ("POST", "manage/sign-out"): EVERYONE,
    # two-factor sign-in: the code page leads back to sign-in unless a password was just given
    ("GET", "manage/sign-in/code"): set(),
    ("POST", "manage/sign-in/code"): set(),
    ("GET", "manage/two-factor"): SIGNED_IN,
    ("GET", "manage/two-factor/set-up"): SIGNED_IN,
    ("POST", "manage/two-factor/set-up"): SIGNED_IN,
    ("POST", "manage/two-factor/recovery-codes"): SIGNED_IN,
    # admins must keep it (the rule is off in these tests, as in a platform that turned it off)
    ("POST", "manage/two-factor/turn-off"): SIGNED_IN,
    ("GET", "manage/password"): SIGNED_IN,
    ("POST", "manage/password"): SIGNED_IN,
    ("GET", "manage/password/done"): SIGNED_IN,
    ("GET", "manage/password-reset"): EVERYONE,
    ("POST", "manage/password-reset"): EVERYONE,
    ("GET", "manage/password-reset/sent"): EVERYONE,
    ("GET", "manage/reset/<uidb64>/<token>/"): EVERYONE,
    ("POST", "manage/reset/<uidb64>/<token>/"): EVERYONE,
    ("GET", "manage/reset/done"): EVERYONE,
    ("GET", "manage/organisations"): SIGNED_IN,
    # admins may add bodies under theirs (platform admins: departments too)
    ("GET", "manage/organisations/new"): ADMINS,
    ("POST", "manage/organisations/new"): ADMINS,
    ("GET", "manage/organisations/<organisation>"): TRANSPORT_WORKERS,
    ("GET", "manage/organisations/<organisation>/edit"): TRANSPORT_ADMINS,
    ("POST", "manage/organisations/<organisation>/edit"): TRANSPORT_ADMINS,
    # everyone with an organisation may register services in it
    ("GET", "manage/services/new"): SIGNED_IN,
    ("POST", "manage/services/new"): SIGNED_IN,
    ("GET", "manage/services/<service>"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/edit"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/edit"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/data-sets/new"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/data-sets/new"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/edit"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/edit"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/rotate-token"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/rotate-token"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/empty"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/empty"): TRANSPORT_WORKERS,
    # declared fields: confirming them (a POST with no fields confirms none) and converting
    # stored values (the data set has none to convert)
    ("GET", "manage/data-sets/<int:data_set_id>/fields"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/fields"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/fields/convert"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/fields/convert"): TRANSPORT_WORKERS,
    ("GET", "manage/users"): ADMINS,
    ("GET", "manage/users/new"): ADMINS,
    ("POST", "manage/users/new"): ADMINS,
    # the agency editor's own page, and the admins over the agency
    ("GET", "manage/users/<int:user_id>/edit"): {"platform_admin", "org_admin", "agency_editor"},
    ("POST", "manage/users/<int:user_id>/edit"): {"platform_admin", "org_admin", "agency_editor"},
    ("GET", "manage/tokens"): SIGNED_IN,
    ("POST", "manage/tokens"): SIGNED_IN,
    # the token is the agency editor's: theirs to revoke, or an admin's over the agency
    ("POST", "manage/tokens/<int:token_id>/revoke"): {
        "platform_admin",
        "org_admin",
        "agency_editor",
    },
    ("GET", "manage/audit"): ADMINS,
    # spreadsheet uploads (perfplat.uploads): whoever manages the data set. The sample upload
    # (upload_id) is a checked, error-free upload to road-tax's data set; a second commit of it
    # is a 409, which is allowed, not refused.
    ("GET", "manage/data-sets/<int:data_set_id>/uploads/"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/uploads/new"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/uploads/new"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/uploads/<int:upload_id>"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/uploads/<int:upload_id>"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/uploads/<int:upload_id>/commit"): (
        TRANSPORT_WORKERS
    ),
    ("GET", "api/data-sets/<data_set_id>/uploads"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/uploads"): TRANSPORT_WORKERS,
    ("GET", "api/data-sets/<data_set_id>/uploads/<upload_id>"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/uploads/<upload_id>/commit"): TRANSPORT_WORKERS,
    # the metric catalogue pages and the support check (perfplat.metrics): whoever works on
    # road-tax. Checking is a dry run that changes nothing. Without a checked plan in the
    # session, the results page and saving lead back to the check page (allowed, not
    # refused); a POST of the delete page removes the metric made for each user.
    ("GET", "manage/services/<service>/metrics"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/metrics/new"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/metrics/new"): TRANSPORT_WORKERS,
    ("GET", "manage/metrics/<int:metric_id>/edit"): TRANSPORT_WORKERS,
    ("POST", "manage/metrics/<int:metric_id>/edit"): TRANSPORT_WORKERS,
    ("GET", "manage/metrics/<int:metric_id>/delete"): TRANSPORT_WORKERS,
    ("POST", "manage/metrics/<int:metric_id>/delete"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/metrics/check"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/metrics/check"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/metrics/check/results"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/metrics/check/save"): TRANSPORT_WORKERS,
    # the dashboard editor, publishing, assessments and readiness (perfplat.publishing):
    # editors and admins of transport edit and submit road-tax's dashboard; its admins publish,
    # send back, unpublish and record assessments. A transition in the wrong state (say,
    # publishing with nothing in review) is a 409 or a message on the editor: allowed, not
    # refused. The sample snapshot (snapshot_id) is an assessment of road-tax.
    ("GET", "manage/services/<service>/dashboard"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/dashboard/start"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/dashboard/details"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/dashboard/details"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/dashboard/modules/new"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/dashboard/modules/new"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/dashboard/modules/new/<kind>"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/dashboard/modules/new/<kind>"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/dashboard/modules/<int:number>"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/dashboard/modules/<int:number>"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/dashboard/modules/<int:number>/move"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/dashboard/modules/<int:number>/remove"): (TRANSPORT_WORKERS),
    ("POST", "manage/services/<service>/dashboard/modules/<int:number>/remove"): (
        TRANSPORT_WORKERS
    ),
    ("GET", "manage/services/<service>/dashboard/preview"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/dashboard/submit"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/dashboard/send-back"): TRANSPORT_ADMINS,
    ("POST", "manage/services/<service>/dashboard/send-back"): TRANSPORT_ADMINS,
    ("POST", "manage/services/<service>/dashboard/publish"): TRANSPORT_ADMINS,
    ("GET", "manage/services/<service>/dashboard/unpublish"): TRANSPORT_ADMINS,
    ("POST", "manage/services/<service>/dashboard/unpublish"): TRANSPORT_ADMINS,
    ("GET", "manage/services/<service>/dashboard/versions"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/dashboard/compare"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/assessments"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/assessments/new"): TRANSPORT_ADMINS,
    ("POST", "manage/services/<service>/assessments/new"): TRANSPORT_ADMINS,
    ("GET", "manage/assessments/<int:snapshot_id>"): TRANSPORT_WORKERS,
    ("GET", "manage/assessments/<int:snapshot_id>/evolution"): TRANSPORT_WORKERS,
    ("POST", "manage/assessments/<int:snapshot_id>/evolution"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/evolution"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/evolution"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/readiness"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/readiness/print"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/readiness/check-metrics"): TRANSPORT_WORKERS,
    ("GET", "manage/organisations/<organisation>/readiness"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/dashboard"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/dashboard/draft"): TRANSPORT_WORKERS,
    ("PUT", "api/services/<service>/dashboard/draft"): TRANSPORT_WORKERS,
    ("POST", "api/services/<service>/dashboard/submit"): TRANSPORT_WORKERS,
    ("POST", "api/services/<service>/dashboard/send-back"): TRANSPORT_ADMINS,
    ("POST", "api/services/<service>/dashboard/publish"): TRANSPORT_ADMINS,
    ("POST", "api/services/<service>/dashboard/unpublish"): TRANSPORT_ADMINS,
    ("GET", "api/services/<service>/dashboard/versions"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/dashboard/versions/<number>"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/dashboard/compare"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/assessments"): TRANSPORT_WORKERS,
    ("POST", "api/services/<service>/assessments"): TRANSPORT_ADMINS,
    ("GET", "api/assessments/<snapshot_id>"): TRANSPORT_WORKERS,
    ("PATCH", "api/assessments/<snapshot_id>"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/evolution"): TRANSPORT_WORKERS,
    ("PUT", "api/services/<service>/evolution"): TRANSPORT_WORKERS,
    ("GET", "api/services/<service>/readiness"): TRANSPORT_WORKERS,
    ("GET", "api/organisations/<organisation>/readiness"): TRANSPORT_WORKERS,
    # collectors (perfplat.collectors): whoever manages the data set. Each request gets a fresh
    # collector of road-tax's data set (collector_id; a DELETE removes it) with one run
    # (run_id); its address is refused as private before anything is fetched.
    ("GET", "manage/data-sets/<int:data_set_id>/collectors/"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/collectors/new"): TRANSPORT_WORKERS,
    ("POST", "manage/data-sets/<int:data_set_id>/collectors/new"): TRANSPORT_WORKERS,
    ("GET", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>"): (
        TRANSPORT_WORKERS
    ),
    ("GET", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/edit"): (
        TRANSPORT_WORKERS
    ),
    ("POST", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/edit"): (
        TRANSPORT_WORKERS
    ),
    ("POST", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/run"): (
        TRANSPORT_WORKERS
    ),
    ("POST", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/dry-run"): (
        TRANSPORT_WORKERS
    ),
    ("POST", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/pause"): (
        TRANSPORT_WORKERS
    ),
    ("POST", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/resume"): (
        TRANSPORT_WORKERS
    ),
    ("GET", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/delete"): (
        TRANSPORT_WORKERS
    ),
    ("POST", "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/delete"): (
        TRANSPORT_WORKERS
    ),
    (
        "GET",
        "manage/data-sets/<int:data_set_id>/collectors/<int:collector_id>/runs/<int:run_id>",
    ): TRANSPORT_WORKERS,
    ("GET", "api/data-sets/<data_set_id>/collectors"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/collectors"): TRANSPORT_WORKERS,
    ("GET", "api/data-sets/<data_set_id>/collectors/<collector_id>"): TRANSPORT_WORKERS,
    ("PATCH", "api/data-sets/<data_set_id>/collectors/<collector_id>"): TRANSPORT_WORKERS,
    ("DELETE", "api/data-sets/<data_set_id>/collectors/<collector_id>"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/collectors/<collector_id>/run"): TRANSPORT_WORKERS,
    ("POST", "api/data-sets/<data_set_id>/collectors/<collector_id>/dry-run"): (TRANSPORT_WORKERS),
    ("GET", "api/data-sets/<data_set_id>/collectors/<collector_id>/runs"): TRANSPORT_WORKERS,
    # the journey beacon (perfplat.beacon): whoever works on road-tax. road-tax has no beacon
    # until a PUT or a page's POST turns it on; reading or turning off one that is off is a
    # 404 (allowed, not refused).
    ("GET", "api/services/<service>/beacon"): TRANSPORT_WORKERS,
    ("PUT", "api/services/<service>/beacon"): TRANSPORT_WORKERS,
    ("DELETE", "api/services/<service>/beacon"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/beacon"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/beacon"): TRANSPORT_WORKERS,
    ("GET", "manage/services/<service>/beacon/turn-off"): TRANSPORT_WORKERS,
    ("POST", "manage/services/<service>/beacon/turn-off"): TRANSPORT_WORKERS,
    # the emails sent to the signed-in person (perfplat.notifications)
    ("GET", "manage/notifications"): SIGNED_IN,
    # feedback from the public (perfplat.feedback): each person sees that on their services
    ("GET", "manage/feedback"): SIGNED_IN,
    ("GET", "api/notifications"): SIGNED_IN,
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
    ("PUT", "api/data-sets/<data_set_id>/fields"): {
        "fields": [{"name": "count", "type": "whole-number", "required": True}]
    },
    ("POST", "api/data-sets/<data_set_id>/fields/convert"): {"dry_run": True},
    ("POST", "api/users"): {
        "email": "new@example.gov.uk",
        "role": "editor",
        "organisation": "licensing",
    },
    ("PATCH", "api/users/<user_id>"): {"name": "Renamed"},
    ("POST", "api/services/<service>/metrics"): {"slug": "new-metric", "name": "New metric"},
    ("PATCH", "api/metrics/<metric_id>"): {"rationale": "To see demand"},
    ("POST", "api/services/<service>/support-check"): {"metrics": [{"name": "Volume"}]},
    # perfplat.publishing
    ("PUT", "api/services/<service>/dashboard/draft"): {
        "audience": "Drivers",
        "modules": [{"kind": "text", "title": "About", "text": "Hello"}],
    },
    ("POST", "api/services/<service>/dashboard/send-back"): {"comment": "Add the costs"},
    ("POST", "api/services/<service>/assessments"): {
        "phase": "live",
        "assessed_on": "2025-01-31",
        "outcome": "met",
    },
    ("PATCH", "api/assessments/<snapshot_id>"): {"evolution": "More people apply online"},
    ("PUT", "api/services/<service>/evolution"): {"evolution": "More people apply online"},
    # perfplat.collectors
    ("POST", "api/data-sets/<data_set_id>/collectors"): {
        "name": "Export",
        "url": "https://example.org/data.csv",
    },
    ("PATCH", "api/data-sets/<data_set_id>/collectors/<collector_id>"): {"paused": True},
    # perfplat.beacon
    ("PUT", "api/services/<service>/beacon"): {
        "steps": ["start", "done"],
        "origins": ["https://www.example.gov.uk"],
    },
}

# A sample value for each URL argument, and the kind of object it names.
ARGUMENTS = {
    "organisation": ("organisation", lambda world: world.department.slug),
    "service": ("service", lambda world: world.service.slug),
    "data_set_id": ("data_set", lambda world: world.data_set.pk),
    "user_id": ("user", lambda world: world.agency_editor.pk),
    "token_id": ("personal_token", lambda world: world.personal_token_id),
    "metric_id": ("metric", lambda world: world.metric_id),
    # spreadsheet uploads (perfplat.uploads)
    "upload_id": ("upload", lambda world: _sample_upload_id(world)),
    # perfplat.publishing: a kind of module, a module's (or version's) number, a snapshot
    "kind": (None, lambda world: "text"),
    "number": (None, lambda world: 1),
    "snapshot_id": ("snapshot", lambda world: _sample_snapshot_id(world)),
    # perfplat.collectors: a fresh collector for each request, and a run of it
    "collector_id": ("collector", lambda world: _sample_collector_id(world)),
    "run_id": ("collector run", lambda world: _sample_run_id(world)),
    "uidb64": (None, lambda world: "MQ"),
    "token": (None, lambda world: "set-password"),
}


def _sample_upload_id(world) -> int:
    """A checked upload without errors to road-tax's data set, made once per world."""
    if not hasattr(world, "upload_id"):
        from perfplat.uploads.services import receive

        upload = receive(world.data_set, b"Date,Count\n2024-01-01,3\n", "sample.csv")
        world.upload_id = upload.pk
    return world.upload_id


def _sample_snapshot_id(world) -> int:
    """An assessment of road-tax, recorded once per world."""
    if not hasattr(world, "snapshot_id"):
        from perfplat.publishing.assessments import record_assessment

        taken = record_assessment(
            None, world.service, phase="live", assessed_on="2025-01-31", outcome="met"
        )
        world.snapshot_id = taken.pk
    return world.snapshot_id


def _sample_collector_id(world) -> int:
    """A new collector of road-tax's data set. Its address is on this machine, which
    collectors refuse to fetch (the tests do not allow private addresses): a run fails at
    once, without any network."""
    from perfplat.collectors.services import create_collector

    collector = create_collector(
        None,
        world.data_set,
        allow_private=True,
        name="Sample",
        url="http://127.0.0.1:9/data.csv",
    )
    world.collector_id = collector.pk
    return collector.pk


def _sample_run_id(world) -> int:
    """A recorded run of the collector the same URL names."""
    from django.utils import timezone

    from perfplat.collectors.models import CollectorRun

    now = timezone.now()
    run = CollectorRun.objects.create(
        collector_id=world.collector_id,
        trigger=CollectorRun.MANUAL,
        outcome=CollectorRun.FAILED,
        started_at=now,
        finished_at=now,
        error="The server answered 500 Internal Server Error",
    )
    return run.pk


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
    from perfplat.metrics.models import Metric

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
        # Objects a request may delete are made afresh for each user.
        world.personal_token_id = issue_personal_token(None, world.agency_editor, "matrix")[0].pk
        world.metric_id = Metric.objects.create(
            service=world.service, slug=f"metric-for-{actor}", name="A metric"
        ).pk
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
