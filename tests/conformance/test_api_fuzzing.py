"""Fuzzing the management and KPI API from its OpenAPI document (/api/docs) with schemathesis:
every operation, with examples generated from its parameters and body (a bounded number, so
the suite stays fast), sent without a token and with a platform admin's personal token. No
request may answer 5xx, and every response must match what the document says of its status.

The requests go through Django's WSGI handler in this process, on the test's database.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from perfplat.api import api

# Examples per operation (each sent twice: without and with a token).
EXAMPLES = 12
SENT = {"requests": 0, "server_errors": 0}

schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/"))
schema.app = WSGIHandler()
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def through_wsgi(world):
    """Requests through the WSGI handler keep the test's connection (and its transaction), as
    Django's test client does, instead of closing it at the end of each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield world
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def admin_token(through_wsgi):
    return through_wsgi.token(through_wsgi.platform_admin)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_api_operation_fails_or_breaks_its_schema(case, admin_token):
    for headers in ({}, {"Authorization": f"Bearer {admin_token}"}):
        response = case.call(headers=headers)
        SENT["requests"] += 1
        SENT["server_errors"] += response.status_code >= 500
        case.validate_response(response, checks=CHECKS, headers=headers)


def test_fuzzing_sent_requests_and_saw_no_server_error():
    # Runs after the fuzzing above (tests run in file order); on its own it has nothing to do.
    if not SENT["requests"]:
        pytest.skip("run with the fuzzing tests above")
    print(f"\nschemathesis: {SENT['requests']} requests, {SENT['server_errors']} 5xx")
    assert SENT["server_errors"] == 0


def test_no_two_schemas_of_the_api_share_a_name():
    # django-ninja names each schema in the OpenAPI document by its class name: two classes of
    # one name make one of them describe the other's responses (the KPI API's period changes
    # were documented as the publishing API's version changes).
    from ninja import Schema

    import perfplat.api  # noqa: F401 - every router's schemas imported

    found: dict[str, set[str]] = {}

    def walk(cls):
        for sub in cls.__subclasses__():
            found.setdefault(sub.__name__, set()).add(sub.__module__)
            walk(sub)

    walk(Schema)
    shared = {name: modules for name, modules in found.items() if len(modules) > 1}
    assert not {n: m for n, m in shared.items() if any(x.startswith("perfplat") for x in m)}
