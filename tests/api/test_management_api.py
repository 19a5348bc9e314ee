"""The management JSON API under /api/: authentication, each resource, errors and auditing."""

import pytest

from helpers import assert_error, body, call
from perfplat.audit.models import AuditEntry
from perfplat.datasets.models import DataSet, DataSetToken
from perfplat.registry.models import Organisation, PhaseChange, Service

# authentication

NOT_AUTHENTICATED = "Sign in, or send a personal API token as Authorization: Bearer <token>"
CSRF_FAILED = (
    "CSRF check failed: a request signed in with a session cookie must send the CSRF token "
    "(the X-CSRFToken header); programs should send a personal API token instead"
)


def test_without_credentials_the_api_answers_401_with_a_json_error(client, world):
    response = call(client, "GET", "/api/services")
    assert_error(response, 401, NOT_AUTHENTICATED)
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_wrong_personal_token_is_401(client, world):
    assert call(client, "GET", "/api/services", token="pp_not-a-token").status_code == 401


def test_a_data_set_token_is_not_a_personal_token(client, world):
    _, data_set_token = create_token_for(world.data_set)
    assert call(client, "GET", "/api/services", token=data_set_token).status_code == 401


def create_token_for(data_set):
    return DataSetToken.issue(data_set)


def test_a_personal_token_authenticates_as_its_user(client, world):
    response = call(client, "GET", "/api/me", token=world.token(world.editor))
    assert response.status_code == 200
    assert body(response)["email"] == "dft-editor@example.gov.uk"
    assert body(response)["role"] == "editor"
    assert body(response)["organisation"] == "transport"


def test_a_session_authenticates_reads(client, world):
    client.force_login(world.editor)
    assert body(call(client, "GET", "/api/me"))["email"] == "dft-editor@example.gov.uk"


def strict_client():
    """A test client that checks CSRF as a browser's requests are checked."""
    from django.test import Client

    return Client(enforce_csrf_checks=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/services"),
        ("PATCH", "/api/services/road-tax"),
        ("PUT", "/api/services/road-tax/dashboard/draft"),
        ("DELETE", "/api/metrics/1"),
        ("GET", "/api/services/road-tax"),
    ],
)
def test_a_request_without_credentials_is_401_not_a_csrf_failure(world, method, path):
    response = call(strict_client(), method, path, payload={"name": "X"})
    assert_error(response, 401, NOT_AUTHENTICATED)
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_change_with_a_bad_bearer_token_is_401(world):
    response = call(
        strict_client(), "POST", "/api/services", "pp_not-a-token", {"slug": "x", "name": "X"}
    )
    assert_error(response, 401, NOT_AUTHENTICATED)
    assert response["WWW-Authenticate"] == "Bearer"
    assert not Service.objects.filter(slug="x").exists()


def test_a_change_with_a_good_bearer_token_needs_no_csrf_token(world):
    token = world.token(world.org_admin)
    response = call(strict_client(), "PATCH", "/api/services/road-tax", token, {"name": "Y"})
    assert response.status_code == 200, response.content
    assert Service.objects.get(slug="road-tax").name == "Y"


def test_a_session_needs_the_csrf_token_to_change_anything(world):
    client = strict_client()
    client.force_login(world.org_admin)
    response = call(client, "PATCH", "/api/services/road-tax", payload={"name": "X"})
    assert_error(response, 403, CSRF_FAILED)
    assert Service.objects.get(slug="road-tax").name == "Tax your vehicle"


def test_a_session_with_the_csrf_token_changes_things(world):
    client = strict_client()
    client.force_login(world.org_admin)
    client.get("/manage/")  # a page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = call(
        client, "PATCH", "/api/services/road-tax", payload={"name": "X"}, HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 200, response.content
    assert Service.objects.get(slug="road-tax").name == "X"


def test_a_session_reads_without_the_csrf_token(world):
    client = strict_client()
    client.force_login(world.editor)
    assert body(call(client, "GET", "/api/me"))["email"] == "dft-editor@example.gov.uk"


def test_a_stale_session_cookie_is_401(world):
    client = strict_client()
    client.cookies["sessionid"] = "no-such-session"
    response = call(client, "POST", "/api/services", payload={"slug": "x", "name": "X"})
    assert_error(response, 401, NOT_AUTHENTICATED)


def test_a_revoked_personal_token_stops_working(client, world):
    from perfplat.accounts.models import PersonalToken
    from perfplat.accounts.services import revoke_personal_token

    token = world.token(world.editor)
    revoke_personal_token(None, PersonalToken.objects.get(user=world.editor))
    assert call(client, "GET", "/api/me", token=token).status_code == 401


# organisations


def test_platform_admin_creates_a_department(client, world):
    token = world.token(world.platform_admin)
    response = call(
        client,
        "POST",
        "/api/organisations",
        token,
        {"slug": "education", "name": "Department for Education", "abbreviation": "DfE"},
    )
    assert response.status_code == 201, response.content
    assert body(response) == {
        "slug": "education",
        "name": "Department for Education",
        "abbreviation": "DfE",
        "type": "department",
        "parent": None,
        "children": [],
    }
    entry = AuditEntry.objects.get(
        action="organisation.create", object_repr="Department for Education"
    )
    assert entry.actor == world.platform_admin


def test_org_admin_creates_an_agency_under_their_department(client, world):
    response = call(
        client,
        "POST",
        "/api/organisations",
        world.token(world.org_admin),
        {"slug": "roads", "name": "Roads Agency", "type": "agency", "parent": "transport"},
    )
    assert response.status_code == 201, response.content
    assert Organisation.objects.get(slug="roads").parent == world.department


def test_org_admin_cannot_create_a_department(client, world):
    response = call(
        client,
        "POST",
        "/api/organisations",
        world.token(world.org_admin),
        {"slug": "roads", "name": "Roads"},
    )
    assert_error(response, 403, "You do not have permission to do this (organisation.create)")
    assert not Organisation.objects.filter(slug="roads").exists()


def test_an_agency_without_a_parent_is_400(client, world):
    response = call(
        client,
        "POST",
        "/api/organisations",
        world.token(world.platform_admin),
        {"slug": "roads", "name": "Roads", "type": "agency"},
    )
    assert_error(response, 400, "Choose the department this agency belongs to")


def test_a_taken_organisation_slug_is_409(client, world):
    response = call(
        client,
        "POST",
        "/api/organisations",
        world.token(world.platform_admin),
        {"slug": "transport", "name": "Another"},
    )
    assert_error(response, 409, "The slug 'transport' is already taken by another organisation")


def test_a_bad_slug_is_400(client, world):
    response = call(
        client,
        "POST",
        "/api/organisations",
        world.token(world.platform_admin),
        {"slug": "Not A Slug", "name": "X"},
    )
    assert_error(
        response,
        400,
        "Enter a slug of lower-case letters, digits and hyphens (at most 100), "
        "starting and ending with a letter or digit",
    )


def test_a_missing_field_is_400_naming_it(client, world):
    response = call(
        client, "POST", "/api/organisations", world.token(world.platform_admin), {"slug": "x"}
    )
    assert response.status_code == 400
    assert body(response)["message"] == "name: Field required"


def test_an_organisation_cannot_move_under_its_own_agency(client, world):
    response = call(
        client,
        "PATCH",
        "/api/organisations/transport",
        world.token(world.platform_admin),
        {"parent": "licensing"},
    )
    assert_error(
        response, 400, "An organisation cannot sit under itself or under a body it contains"
    )


def test_organisations_listed_are_those_the_user_can_see(client, world):
    def slugs(user):
        return [
            o["slug"] for o in body(call(client, "GET", "/api/organisations", world.token(user)))
        ]

    # in order of name: Department for Transport, Department of Health, Licensing Agency
    assert slugs(world.platform_admin) == ["transport", "health", "licensing"]
    assert slugs(world.org_admin) == ["transport", "licensing"]
    assert slugs(world.agency_editor) == ["licensing"]


def test_another_organisations_page_is_403(client, world):
    response = call(client, "GET", "/api/organisations/health", world.token(world.org_admin))
    assert_error(response, 403, "You do not have permission to do this (organisation.view)")


def test_an_unknown_organisation_is_404(client, world):
    response = call(client, "GET", "/api/organisations/nowhere", world.token(world.platform_admin))
    assert_error(response, 404, "No organisation 'nowhere'")


# services


def test_editor_registers_a_service_in_their_organisation(client, world):
    response = call(
        client,
        "POST",
        "/api/services",
        world.token(world.editor),
        {
            "slug": "park",
            "name": "Pay to park",
            "organisation": "transport",
            "phase": "alpha",
            "start_page_url": "https://www.gov.uk/park",
        },
    )
    assert response.status_code == 201, response.content
    service = Service.objects.get(slug="park")
    assert (service.phase, service.organisation) == ("alpha", world.department)
    assert AuditEntry.objects.filter(action="service.create", service=service).count() == 1
    assert PhaseChange.objects.get(service=service).to_phase == "alpha"


def test_editor_cannot_register_a_service_in_another_organisation(client, world):
    response = call(
        client,
        "POST",
        "/api/services",
        world.token(world.editor),
        {"slug": "park", "name": "Pay to park", "organisation": "health"},
    )
    assert_error(response, 403, "You do not have permission to do this (service.create)")
    assert not Service.objects.filter(slug="park").exists()
    assert not AuditEntry.objects.filter(action="service.create", object_repr="Pay to park")


def test_a_taken_service_slug_is_409(client, world):
    response = call(
        client,
        "POST",
        "/api/services",
        world.token(world.platform_admin),
        {"slug": "road-tax", "name": "Again", "organisation": "transport"},
    )
    assert_error(response, 409, "The slug 'road-tax' is already taken by another service")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phase", "gamma", "Phase must be one of: discovery, alpha, beta, live, retired"),
        ("start_page_url", "ftp://x", "Enter a start page URL starting with https:// or http://"),
        ("organisation", "atlantis", "There is no organisation 'atlantis'"),
        ("name", "   ", "Enter the name"),
    ],
)
def test_bad_service_fields_are_400_with_the_problem(client, world, field, value, message):
    payload = {"slug": "park", "name": "Pay to park", "organisation": "transport", field: value}
    response = call(client, "POST", "/api/services", world.token(world.platform_admin), payload)
    assert_error(response, 400, message)
    assert not Service.objects.filter(slug="park").exists()


def test_changing_the_phase_keeps_its_history(client, world):
    token = world.token(world.editor)
    response = call(client, "PATCH", "/api/services/road-tax", token, {"phase": "retired"})
    assert response.status_code == 200, response.content
    history = body(call(client, "GET", "/api/services/road-tax/phase-changes", token))
    assert [(c["from_phase"], c["to_phase"], c["changed_by"]) for c in history] == [
        ("live", "retired", "dft-editor@example.gov.uk"),
        ("", "live", None),
    ]
    entry = AuditEntry.objects.filter(action="service.update").get()
    assert ("phase", "live", "retired") in entry.changes()


def test_org_admin_edits_a_service_of_their_agency(client, world):
    response = call(
        client,
        "PATCH",
        "/api/services/licence-renewal",
        world.token(world.org_admin),
        {"audience": "Drivers"},
    )
    assert response.status_code == 200
    assert Service.objects.get(slug="licence-renewal").audience == "Drivers"


def test_department_editor_cannot_edit_an_agency_service(client, world):
    response = call(
        client,
        "PATCH",
        "/api/services/licence-renewal",
        world.token(world.editor),
        {"audience": "Drivers"},
    )
    assert_error(response, 403, "You do not have permission to do this (service.edit)")


def test_services_listed_are_those_the_user_works_on(client, world):
    def slugs(user):
        return sorted(
            s["slug"] for s in body(call(client, "GET", "/api/services", world.token(user)))
        )

    assert slugs(world.org_admin) == ["licence-renewal", "road-tax"]
    assert slugs(world.editor) == ["road-tax"]
    assert slugs(world.other_editor) == ["book-a-jab"]


# data sets


def test_editor_creates_a_data_set_and_sees_its_token_once(client, world, api):
    response = call(
        client,
        "POST",
        "/api/services/road-tax/data-sets",
        world.token(world.editor),
        {"data_type": "cost", "auto_ids": ["_timestamp"], "published": True},
    )
    assert response.status_code == 201, response.content
    created = body(response)
    assert created["data_group"] == "road-tax"
    assert created["url"] == "/data/road-tax/cost"
    write = api.post(
        "/data/road-tax/cost", {"_timestamp": "2024-01-01T00:00:00Z", "amount": 5}, created["token"]
    )
    assert write.status_code == 200
    shown = body(call(client, "GET", f"/api/data-sets/{created['id']}", world.token(world.editor)))
    assert "token" not in shown
    assert AuditEntry.objects.filter(action="data_set.create", service=world.service).count() == 2


def test_a_data_set_created_with_a_standard_type_says_so(client, world):
    response = call(
        client,
        "POST",
        "/api/services/road-tax/data-sets",
        world.token(world.editor),
        {"data_type": "spend", "standard_type": "cost"},
    )
    assert response.status_code == 201, response.content
    created = body(response)
    assert (created["standard_type"], created["auto_ids"]) == (
        "cost",
        ["_timestamp", "period", "channel"],
    )
    response = call(
        client,
        "POST",
        "/api/services/road-tax/data-sets",
        world.token(world.editor),
        {"data_type": "other", "standard_type": "costs"},
    )
    assert_error(
        response,
        400,
        "standard_type must be one of transactions-by-channel, cost, user-satisfaction, "
        "completion, or empty for a free-form data set",
    )


def test_a_taken_data_set_address_is_409(client, world):
    response = call(
        client,
        "POST",
        "/api/services/road-tax/data-sets",
        world.token(world.editor),
        {"data_type": "transactions"},
    )
    assert_error(response, 409, "Data set road-tax/transactions already exists")


def test_data_set_settings_change_and_are_audited(client, world):
    token = world.token(world.editor)
    response = call(
        client,
        "PATCH",
        f"/api/data-sets/{world.data_set.pk}",
        token,
        {"max_age_expected": 86400, "published": False},
    )
    assert response.status_code == 200, response.content
    data_set = DataSet.objects.get(pk=world.data_set.pk)
    assert (data_set.max_age_expected, data_set.published) == (86400, False)
    entry = AuditEntry.objects.get(action="data_set.update")
    assert ("published", True, False) in entry.changes()


def test_a_negative_max_age_is_400(client, world):
    response = call(
        client,
        "PATCH",
        f"/api/data-sets/{world.data_set.pk}",
        world.token(world.editor),
        {"max_age_expected": -1},
    )
    assert_error(response, 400, "max_age_expected must be a whole number of seconds, 0 or more")


def test_rotating_a_token_returns_a_new_one_and_revokes_the_old(client, world, api):
    old = DataSetToken.issue(world.data_set)[1]
    response = call(
        client,
        "POST",
        f"/api/data-sets/{world.data_set.pk}/rotate-token",
        world.token(world.editor),
    )
    new = body(response)["token"]
    assert api.post("/data/road-tax/transactions", {"a": 1}, old).status_code == 401
    assert api.post("/data/road-tax/transactions", {"a": 1}, new).status_code == 200
    assert AuditEntry.objects.filter(action="data_set.rotate_token").count() == 1


def test_emptying_a_data_set_through_the_api(client, world, api):
    token = DataSetToken.issue(world.data_set)[1]
    api.post("/data/road-tax/transactions", [{"a": 1}, {"a": 2}], token)
    response = call(
        client, "POST", f"/api/data-sets/{world.data_set.pk}/empty", world.token(world.editor)
    )
    assert body(response) == {
        "status": "ok",
        "message": "road_tax_transactions now contains 0 records",
    }
    entry = AuditEntry.objects.get(action="data_set.empty")
    assert (entry.before, entry.after) == ({"records": 2}, {"records": 0})


def test_another_organisations_data_set_is_403(client, world):
    response = call(
        client, "GET", f"/api/data-sets/{world.other_data_set.pk}", world.token(world.editor)
    )
    assert_error(response, 403, "You do not have permission to do this (data_set.manage)")


def test_an_unknown_data_set_is_404(client, world):
    response = call(client, "GET", "/api/data-sets/999999", world.token(world.platform_admin))
    assert_error(response, 404, "No data set 999999")


# users


def test_org_admin_adds_an_editor_who_gets_a_password_email(client, world, mailoutbox):
    response = call(
        client,
        "POST",
        "/api/users",
        world.token(world.org_admin),
        {
            "email": "New.Editor@Example.gov.uk",
            "role": "editor",
            "organisation": "licensing",
            "name": "New Editor",
        },
    )
    assert response.status_code == 201, response.content
    assert body(response)["email"] == "new.editor@example.gov.uk"
    [email] = mailoutbox
    assert email.to == ["new.editor@example.gov.uk"]
    assert "/manage/reset/" in email.body
    # The world's users were created too (by the platform itself, actor None).
    assert AuditEntry.objects.filter(action="user.create", actor=world.org_admin).count() == 1


def test_org_admin_cannot_add_users_to_another_organisation(client, world):
    response = call(
        client,
        "POST",
        "/api/users",
        world.token(world.org_admin),
        {"email": "x@example.gov.uk", "role": "editor", "organisation": "health"},
    )
    assert_error(response, 403, "You do not have permission to do this (users.manage)")


def test_org_admin_cannot_make_a_platform_admin(client, world):
    response = call(
        client,
        "POST",
        "/api/users",
        world.token(world.org_admin),
        {"email": "x@example.gov.uk", "role": "platform-admin"},
    )
    assert_error(response, 403, "Only platform admins can make platform admins")


def test_editors_cannot_list_users(client, world):
    response = call(client, "GET", "/api/users", world.token(world.editor))
    assert_error(response, 403, "You do not have permission to do this (users.manage)")


def test_a_taken_email_is_409(client, world):
    response = call(
        client,
        "POST",
        "/api/users",
        world.token(world.platform_admin),
        {"email": "dft-editor@example.gov.uk", "role": "editor", "organisation": "transport"},
    )
    assert_error(
        response, 409, "There is already a user with the email address dft-editor@example.gov.uk"
    )


def test_a_bad_email_is_400(client, world):
    response = call(
        client,
        "POST",
        "/api/users",
        world.token(world.platform_admin),
        {"email": "not an email", "role": "editor", "organisation": "transport"},
    )
    assert_error(
        response, 400, "Enter an email address in the correct format, like name@example.gov.uk"
    )


def test_org_admin_promotes_an_editor(client, world):
    response = call(
        client,
        "PATCH",
        f"/api/users/{world.editor.pk}",
        world.token(world.org_admin),
        {"role": "org-admin"},
    )
    assert body(response)["role"] == "org-admin"
    assert ("role", "editor", "org-admin") in AuditEntry.objects.get(action="user.update").changes()


# the API's own errors


def test_the_openapi_schema_is_served(client, db):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = body(response)["paths"]
    assert "/api/services/{service}/data-sets" in paths


def test_the_api_docs_page_is_served(client, db):
    assert client.get("/api/docs").status_code == 200


def test_an_unknown_api_url_is_a_json_404(client, db):
    assert_error(client.get("/api/nothing-here"), 404, "Nothing here: /api/nothing-here")


def test_a_wrong_method_on_an_api_url_is_a_json_405(client, world):
    response = call(client, "DELETE", "/api/services", world.token(world.platform_admin))
    assert response.status_code == 405
    assert body(response)["status"] == "error"


def test_a_reserved_slug_is_400(client, world):
    response = call(
        client,
        "POST",
        "/api/services",
        world.token(world.platform_admin),
        {"slug": "new", "name": "New", "organisation": "transport"},
    )
    assert_error(response, 400, "The slug 'new' is reserved: choose another")
