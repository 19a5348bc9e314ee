"""The management pages under /manage/, through Django's test client: each page renders for a
user allowed to see it; each form's success (the exact change and its audit entry) and errors
(the exact messages, nothing written); tokens shown once; signing in, out and passwords."""

import html
import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client

from helpers import body
from perfplat.accounts.models import PersonalToken, User
from perfplat.accounts.services import create_user
from perfplat.audit.models import AuditEntry
from perfplat.datasets.models import DataSet, DataSetToken, hash_token
from perfplat.registry.models import Organisation, PhaseChange, Service
from perfplat.registry.services import update_service
from registry_fixtures import PASSWORD


def page(response) -> str:
    return response.content.decode()


def _text(fragment: str) -> str:
    fragment = re.sub(r"<br\s*/?>", " ", fragment)
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def summary_errors(response) -> list[str]:
    """The messages of the page's GOV.UK error summary, in order."""
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', page(response), re.S)
    if not found:
        return []
    return [_text(item) for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)]


def field_error(response, name: str) -> str | None:
    """The inline error message shown by the field `name`."""
    found = re.search(
        rf'id="id_{name}-error" class="govuk-error-message">(.*?)</p>', page(response), re.S
    )
    return _text(found.group(1)).removeprefix("Error:").strip() if found else None


def banner(response) -> str | None:
    found = re.search(r'govuk-notification-banner__heading">(.*?)</p>', page(response), re.S)
    return _text(found.group(1)) if found else None


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signed_in_user(client):
    return client.session.get(SESSION_KEY)


@pytest.fixture
def audit_count(db):
    # Changes only: signing in (which as_user does) is audited too.
    return AuditEntry.objects.exclude(action__in=["user.sign_in", "user.sign_out"]).count


# pages render for the users allowed to see them


PAGES = [
    "/manage/",
    "/manage/organisations",
    "/manage/organisations/new",
    "/manage/organisations/transport",
    "/manage/organisations/transport/edit",
    "/manage/services/new",
    "/manage/services/road-tax",
    "/manage/services/road-tax/edit",
    "/manage/services/road-tax/data-sets/new",
    "/manage/data-sets/{data_set}",
    "/manage/data-sets/{data_set}/edit",
    "/manage/data-sets/{data_set}/rotate-token",
    "/manage/data-sets/{data_set}/empty",
    "/manage/data-sets/{data_set}/fields",
    "/manage/data-sets/{data_set}/fields/convert",
    "/manage/users",
    "/manage/users/new",
    "/manage/users/{agency_editor}/edit",
    "/manage/tokens",
    "/manage/audit",
    "/manage/password",
    "/manage/password/done",
]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_for_an_organisation_admin(world, path):
    url = path.format(data_set=world.data_set.pk, agency_editor=world.agency_editor.pk)

    response = as_user(world.org_admin).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert re.search(r"<title>[^<]+ - Performance Platform</title>", page(response))
    assert "govuk-error-summary" not in page(response)


@pytest.mark.parametrize(
    "path",
    [
        "/manage/sign-in",
        "/manage/password-reset",
        "/manage/password-reset/sent",
        "/manage/reset/done",
        "/manage/reset/MQ/not-a-token/",
    ],
)
def test_the_pages_about_signing_in_render_for_anyone(client, db, path):
    response = client.get(path)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"


def test_every_form_carries_the_csrf_token(world):
    client = as_user(world.org_admin)
    for path in ["/manage/services/new", "/manage/users/new", "/manage/tokens", "/manage/password"]:
        assert 'name="csrfmiddlewaretoken"' in page(client.get(path)), path
    assert 'name="csrfmiddlewaretoken"' in page(Client().get("/manage/sign-in"))


def test_a_form_posted_without_the_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.editor)

    response = client.post("/manage/services/new", {"slug": "x", "name": "X"})

    assert response.status_code == 403
    assert "<title>This form has expired - Performance Platform</title>" in page(response)
    assert not Service.objects.filter(slug="x").exists()


def test_another_organisations_service_is_the_403_page(world):
    response = as_user(world.editor).get("/manage/services/book-a-jab")

    assert response.status_code == 403
    assert "You do not have permission to see this page" in page(response)


def test_an_unknown_service_is_the_404_page_even_without_an_accept_header(world):
    response = as_user(world.editor).get("/manage/services/no-such-service")

    assert response.status_code == 404
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in page(response)


def test_a_wrong_method_is_a_405_page_naming_the_allowed_ones(world):
    response = as_user(world.editor).post("/manage/services/road-tax")

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert "Method POST is not allowed here; use GET" in page(response)


# signing in


def test_sign_in_page_asks_for_an_email_address_and_password(client, db):
    response = client.get("/manage/sign-in")

    assert "<title>Sign in - Performance Platform</title>" in page(response)
    assert '<label class="govuk-label" for="id_username">Email address</label>' in page(response)
    assert 'type="email"' in page(response)


def test_signing_in_leads_to_your_services(client, world):
    response = client.post(
        "/manage/sign-in", {"username": " DfT-Editor@Example.gov.uk ", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/manage/"
    assert signed_in_user(client) == str(world.editor.pk)


def test_signing_in_follows_next_to_a_page_of_this_site(client, world):
    response = client.post(
        "/manage/sign-in?next=/manage/services/road-tax",
        {"username": "dft-editor@example.gov.uk", "password": PASSWORD},
    )

    assert response["Location"] == "/manage/services/road-tax"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/path", "/\\evil.example", "manage/"]
)
def test_signing_in_never_follows_next_to_another_site(client, world, next_url):
    response = client.post(
        "/manage/sign-in",
        {"username": "dft-editor@example.gov.uk", "password": PASSWORD},
        QUERY_STRING=f"next={next_url}",
    )

    assert response["Location"] == "/manage/"


def test_a_wrong_password_is_refused_with_a_clear_message(client, world):
    response = client.post(
        "/manage/sign-in", {"username": "dft-editor@example.gov.uk", "password": "wrong"}
    )

    assert response.status_code == 200
    assert summary_errors(response) == ["Enter a correct email address and password"]
    assert "<title>Error: Sign in - Performance Platform</title>" in page(response)
    assert signed_in_user(client) is None


def test_an_empty_sign_in_names_each_missing_field(client, db):
    response = client.post("/manage/sign-in", {})

    assert summary_errors(response) == ["Enter your email address", "Enter your password"]
    assert field_error(response, "username") == "Enter your email address"


def test_a_deactivated_account_cannot_sign_in(client, world):
    User.objects.filter(pk=world.editor.pk).update(is_active=False)

    response = client.post(
        "/manage/sign-in", {"username": "dft-editor@example.gov.uk", "password": PASSWORD}
    )

    assert summary_errors(response) == ["Enter a correct email address and password"]
    assert signed_in_user(client) is None


LOCKED = "Too many failed sign-in attempts. Try again in 15 minutes, or reset your password."


def test_repeated_failures_lock_the_account_with_a_govuk_page(client, world):
    wrong = {"username": "dft-editor@example.gov.uk", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/manage/sign-in", wrong).status_code == 200

    locking = client.post("/manage/sign-in", wrong)
    right_password = client.post(
        "/manage/sign-in", {"username": "dft-editor@example.gov.uk", "password": PASSWORD}
    )

    for response in (locking, right_password):
        assert response.status_code == 429
        assert summary_errors(response) == [LOCKED]
        assert "<title>Error: Sign in - Performance Platform</title>" in page(response)
    assert signed_in_user(client) is None


def test_a_locked_account_does_not_lock_another(client, world):
    wrong = {"username": "dft-editor@example.gov.uk", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/manage/sign-in", wrong)

    response = client.post(
        "/manage/sign-in", {"username": "dft-admin@example.gov.uk", "password": PASSWORD}
    )

    assert response.status_code == 302
    assert signed_in_user(client) == str(world.org_admin.pk)


def test_failures_from_one_address_do_not_lock_the_account_from_another(client, world):
    # Otherwise anyone could keep anyone locked out for ever by guessing wrong.
    wrong = {"username": "dft-editor@example.gov.uk", "password": "wrong"}
    right = {"username": "dft-editor@example.gov.uk", "password": PASSWORD}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/manage/sign-in", wrong, REMOTE_ADDR="203.0.113.9")
    assert client.post("/manage/sign-in", right, REMOTE_ADDR="203.0.113.9").status_code == 429

    response = client.post("/manage/sign-in", right, REMOTE_ADDR="198.51.100.7")

    assert response.status_code == 302
    assert signed_in_user(client) == str(world.editor.pk)


def test_choosing_a_new_password_ends_a_lockout(client, world, mailoutbox):
    wrong = {"username": "dft-editor@example.gov.uk", "password": "wrong"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/manage/sign-in", wrong)
    client.post("/manage/password-reset", {"email": "dft-editor@example.gov.uk"})
    link = re.search(r"http://testserver(/manage/reset/\S+/)", mailoutbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    new = {"new_password1": "a-brand-new-password-3", "new_password2": "a-brand-new-password-3"}
    assert client.post(form_url, new)["Location"] == "/manage/reset/done"

    response = client.post(
        "/manage/sign-in",
        {"username": "dft-editor@example.gov.uk", "password": "a-brand-new-password-3"},
    )

    assert response.status_code == 302
    assert signed_in_user(client) == str(world.editor.pk)


def test_a_lockout_met_outside_the_sign_in_page_is_a_govuk_429_page(rf, db):
    from perfplat.manage.views.auth import locked_out

    response = locked_out(rf.post("/elsewhere"), None, {"username": "a@example.gov.uk"})

    assert response.status_code == 429
    assert "Your account is locked" in page(response)
    assert LOCKED in page(response)


def test_a_signed_in_person_opening_sign_in_goes_to_their_services(world):
    response = as_user(world.editor).get("/manage/sign-in")

    assert (response.status_code, response["Location"]) == (302, "/manage/")


# signing out


def test_signing_out_is_a_post(world):
    client = as_user(world.editor)

    refused = client.get("/manage/sign-out")
    assert refused.status_code == 405
    assert refused["Allow"] == "POST"
    assert signed_in_user(client) == str(world.editor.pk)

    response = client.post("/manage/sign-out")
    assert (response.status_code, response["Location"]) == (302, "/")
    assert signed_in_user(client) is None


# passwords


def test_changing_your_password(world):
    client = as_user(world.editor)

    response = client.post(
        "/manage/password",
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-password-7",
            "new_password2": "another-long-password-7",
        },
    )

    assert response["Location"] == "/manage/password/done"
    world.editor.refresh_from_db()
    assert world.editor.check_password("another-long-password-7")
    # Still signed in: Django keeps the session of the person who changed it.
    assert signed_in_user(client) == str(world.editor.pk)


def test_five_wrong_current_passwords_stop_password_changes_for_a_while(world):
    editor = as_user(world.editor)
    wrong = {
        "old_password": "not-my-password",
        "new_password1": "a-brand-new-password-3",
        "new_password2": "a-brand-new-password-3",
    }
    for _ in range(5):
        assert field_error(editor.post("/manage/password", wrong), "old_password") == (
            "Your current password is not correct"
        )

    right = {**wrong, "old_password": PASSWORD}
    response = editor.post("/manage/password", right)

    assert field_error(response, "old_password") == (
        "Too many wrong current passwords. Try again in 15 minutes."
    )
    world.editor.refresh_from_db()
    assert world.editor.check_password(PASSWORD)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"old_password": "wrong", "new_password1": "x-long-password-7"},
            "old_password",
            "Your current password is not correct",
        ),
        ({"new_password2": "different-password-8"}, "new_password2", "The passwords do not match"),
        (
            {"new_password1": "short", "new_password2": "short"},
            "new_password1",
            "This password is too short. It must contain at least 10 characters.",
        ),
        ({"old_password": ""}, "old_password", "Enter your current password"),
        ({"new_password1": ""}, "new_password1", "Enter a new password"),
    ],
)
def test_password_change_errors_name_the_field(world, fields, field, message):
    data = {
        "old_password": PASSWORD,
        "new_password1": "x-long-password-7",
        "new_password2": "x-long-password-7",
        **fields,
    }

    response = as_user(world.editor).post("/manage/password", data)

    assert response.status_code == 200
    assert field_error(response, field) == message
    world.editor.refresh_from_db()
    assert world.editor.check_password(PASSWORD)


def test_a_new_user_without_a_password_gets_a_reset_email_and_chooses_one(
    client, world, mailoutbox
):
    newcomer = create_user(None, "new@example.gov.uk", "editor", organisation=world.department)
    assert not newcomer.has_usable_password()

    response = client.post("/manage/password-reset", {"email": "New@Example.gov.uk"})

    assert response["Location"] == "/manage/password-reset/sent"
    [email] = mailoutbox
    assert email.to == ["new@example.gov.uk"]
    assert email.subject == "Choose your Performance Platform password"
    link = re.search(r"http://testserver(/manage/reset/\S+/)", email.body).group(1)
    # Django swaps the token in the link for one kept in the session, then shows the form.
    form_url = client.get(link)["Location"]
    assert "Choose your password" in page(client.get(form_url))
    chosen = client.post(
        form_url,
        {"new_password1": "my-own-long-password-1", "new_password2": "my-own-long-password-1"},
    )
    assert chosen["Location"] == "/manage/reset/done"
    newcomer.refresh_from_db()
    assert newcomer.check_password("my-own-long-password-1")


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, db, mailoutbox):
    response = client.post("/manage/password-reset", {"email": "nobody@example.gov.uk"})

    assert response["Location"] == "/manage/password-reset/sent"
    assert mailoutbox == []


def test_a_reset_needs_an_email_address(client, db, mailoutbox):
    response = client.post("/manage/password-reset", {"email": "not an address"})

    assert field_error(response, "email") == (
        "Enter an email address in the correct format, like name@example.gov.uk"
    )
    assert mailoutbox == []


def test_at_most_three_reset_emails_an_hour_go_to_one_address(client, world, mailoutbox):
    for _ in range(3):
        sent = client.post("/manage/password-reset", {"email": "dft-editor@example.gov.uk"})
        assert sent["Location"] == "/manage/password-reset/sent"

    response = client.post("/manage/password-reset", {"email": "DFT-editor@example.gov.uk"})

    assert response.status_code == 429
    assert summary_errors(response) == ["Too many password reset requests. Try again in an hour."]
    assert len(mailoutbox) == 3
    # Another address is not held up.
    other = client.post("/manage/password-reset", {"email": "dft-admin@example.gov.uk"})
    assert other["Location"] == "/manage/password-reset/sent"


def test_at_most_twenty_reset_requests_an_hour_come_from_one_ip_address(client, db, mailoutbox):
    for number in range(20):
        client.post("/manage/password-reset", {"email": f"nobody{number}@example.gov.uk"})

    response = client.post("/manage/password-reset", {"email": "nobody@example.gov.uk"})

    assert response.status_code == 429


def test_a_failing_mail_server_does_not_fail_the_reset_page(client, world, settings, caplog):
    settings.EMAIL_BACKEND = "perfplat.notifications.backends.UnsentEmailBackend"

    response = client.post("/manage/password-reset", {"email": "dft-editor@example.gov.uk"})

    assert response["Location"] == "/manage/password-reset/sent"
    # The log says an email was not sent, and never holds the link.
    assert "not sent" in caplog.text
    assert "/manage/reset/" not in caplog.text


def test_a_used_or_wrong_reset_link_says_it_does_not_work(client, world):
    response = client.get("/manage/reset/MQ/wrong-token/")

    assert "This link does not work" in page(response)


# your services


def test_your_services_are_the_services_you_work_on(world):
    response = as_user(world.editor).get("/manage/")

    assert "<title>Your services - Performance Platform</title>" in page(response)
    assert 'href="/manage/services/road-tax">Tax your vehicle</a>' in page(response)
    assert '<strong class="govuk-tag govuk-tag--green">Live</strong>' in page(response)
    assert "Renew your licence" not in page(response)
    assert "Book a jab" not in page(response)
    assert 'href="/manage/users"' not in page(response)
    assert 'href="/manage/audit"' not in page(response)


def test_an_organisation_admin_sees_the_services_of_its_bodies_and_admin_links(world):
    response = as_user(world.org_admin).get("/manage/")

    assert "Tax your vehicle" in page(response)
    assert "Renew your licence" in page(response)
    assert "Book a jab" not in page(response)
    for link in ["/manage/users", "/manage/audit", "/manage/tokens", "/manage/services/new"]:
        assert f'href="{link}"' in page(response)


# organisations


def test_organisations_listed_are_those_you_can_see(world):
    response = as_user(world.org_admin).get("/manage/organisations")

    assert "Department for Transport" in page(response)
    assert "Licensing Agency" in page(response)
    assert "Department of Health" not in page(response)


def test_an_organisation_page_shows_its_services_bodies_and_users_to_its_admin(world):
    response = as_user(world.org_admin).get("/manage/organisations/transport")

    assert 'href="/manage/services/road-tax">Tax your vehicle</a>' in page(response)
    assert 'href="/manage/organisations/licensing">Licensing Agency</a>' in page(response)
    assert "dft-editor@example.gov.uk" in page(response)


def test_an_editor_sees_their_organisation_without_its_users(world):
    response = as_user(world.editor).get("/manage/organisations/transport")

    assert "Tax your vehicle" in page(response)
    assert "dft-admin@example.gov.uk" not in page(response)
    # An editor cannot open the agency's page, so it is named without a link.
    assert "Licensing Agency" in page(response)
    assert 'href="/manage/organisations/licensing"' not in page(response)


def test_platform_admin_adds_a_department(world, audit_count):
    client = as_user(world.platform_admin)

    response = client.post(
        "/manage/organisations/new",
        {
            "name": "Department for Education",
            "slug": "education",
            "abbreviation": "DfE",
            "type": "department",
            "parent": "",
        },
    )

    assert response["Location"] == "/manage/organisations/education"
    created = Organisation.objects.get(slug="education")
    assert (created.name, created.abbreviation, created.type, created.parent) == (
        "Department for Education",
        "DfE",
        "department",
        None,
    )
    entry = AuditEntry.objects.latest("id")
    assert (entry.action, entry.actor, entry.organisation) == (
        "organisation.create",
        world.platform_admin,
        created,
    )
    assert banner(client.get(response["Location"])) == "Department for Education added"


def test_an_organisation_admin_adds_an_agency_under_their_department(world):
    response = as_user(world.org_admin).post(
        "/manage/organisations/new",
        {"name": "Roads Agency", "slug": "roads", "type": "agency", "parent": "transport"},
    )

    assert response["Location"] == "/manage/organisations/roads"
    assert Organisation.objects.get(slug="roads").parent == world.department


def test_an_organisation_admin_can_only_choose_bodies_they_administer_as_parent(world):
    response = as_user(world.org_admin).post(
        "/manage/organisations/new",
        {"name": "Roads Agency", "slug": "roads", "type": "agency", "parent": "health"},
    )

    assert field_error(response, "parent") == "Choose an organisation from the list"
    assert not Organisation.objects.filter(slug="roads").exists()


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {},
            {
                "name": "Enter the organisation's name",
                "slug": "Enter a short name for web addresses",
                "type": "Choose the type of organisation",
            },
        ),
        (
            {"slug": "Not A Slug"},
            {
                "slug": "Enter a slug of lower-case letters, digits and hyphens (at most 100), "
                "starting and ending with a letter or digit"
            },
        ),
        (
            {"slug": "transport"},
            {"slug": "The slug 'transport' is already taken by another organisation"},
        ),
        ({"type": "agency"}, {"parent": "Choose the department this agency belongs to"}),
    ],
)
def test_organisation_form_errors_name_the_field_and_write_nothing(
    world, audit_count, fields, errors
):
    before = (Organisation.objects.count(), audit_count())
    data = {"name": "Roads", "slug": "roads", "type": "department", **fields} if fields else {}

    response = as_user(world.platform_admin).post("/manage/organisations/new", data)

    assert response.status_code == 200
    assert {name: field_error(response, name) for name in errors} == errors
    assert summary_errors(response) == list(errors.values())
    assert (Organisation.objects.count(), audit_count()) == before


def test_an_organisation_admin_changes_their_organisation(world):
    response = as_user(world.org_admin).post(
        "/manage/organisations/transport/edit",
        {
            "name": "Department for Transport",
            "slug": "transport",
            "abbreviation": "DFT",
            "type": "department",
            "parent": "",
        },
    )

    assert response["Location"] == "/manage/organisations/transport"
    assert Organisation.objects.get(slug="transport").abbreviation == "DFT"
    entry = AuditEntry.objects.get(action="organisation.update")
    assert entry.changes() == [("abbreviation", "DfT", "DFT")]


def test_an_organisation_cannot_move_under_its_own_agency(world, audit_count):
    before = audit_count()

    response = as_user(world.platform_admin).post(
        "/manage/organisations/transport/edit",
        {
            "name": "Department for Transport",
            "slug": "transport",
            "type": "department",
            "parent": "licensing",
        },
    )

    # The agency is not offered as a parent at all.
    assert field_error(response, "parent") == "Choose an organisation from the list"
    assert audit_count() == before


# services


def test_an_editor_registers_a_service(world):
    client = as_user(world.editor)

    response = client.post(
        "/manage/services/new",
        {
            "name": "Pay to park",
            "slug": "park",
            "organisation": "transport",
            "phase": "alpha",
            "description": "Pay for parking",
            "start_page_url": "https://www.gov.uk/park",
            "audience": "Drivers",
            "dashboard_usage": "The team plans with it",
            "previous_assessment_date": "",
            "next_assessment_date": "2026-03-31",
        },
    )

    assert response["Location"] == "/manage/services/park"
    service = Service.objects.get(slug="park")
    assert (
        service.name,
        service.organisation,
        service.phase,
        service.start_page_url,
        str(service.next_assessment_date),
        service.previous_assessment_date,
    ) == ("Pay to park", world.department, "alpha", "https://www.gov.uk/park", "2026-03-31", None)
    [history] = PhaseChange.objects.filter(service=service)
    assert (history.from_phase, history.to_phase, history.changed_by) == ("", "alpha", world.editor)
    entry = AuditEntry.objects.get(action="service.create", service=service)
    assert (entry.actor, entry.after["name"], entry.after["phase"]) == (
        world.editor,
        "Pay to park",
        "alpha",
    )
    assert banner(client.get("/manage/services/park")) == "Pay to park registered"


def test_the_organisations_offered_are_those_you_may_register_services_in(world):
    editor_form = page(as_user(world.editor).get("/manage/services/new"))
    admin_form = page(as_user(world.org_admin).get("/manage/services/new"))

    assert re.findall(r'<option value="([a-z-]+)"', editor_form) == ["transport"]
    assert re.findall(r'<option value="([a-z-]+)"', admin_form) == ["transport", "licensing"]


def test_an_editor_cannot_register_a_service_for_another_organisation(world):
    response = as_user(world.editor).post(
        "/manage/services/new",
        {"name": "X", "slug": "x", "organisation": "health", "phase": "alpha"},
    )

    assert field_error(response, "organisation") == "Choose an organisation from the list"
    assert not Service.objects.filter(slug="x").exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Enter the service's name"),
        ({"phase": ""}, "phase", "Choose the service's phase"),
        ({"organisation": ""}, "organisation", "Choose the organisation that runs it"),
        ({"slug": "road-tax"}, "slug", "The slug 'road-tax' is already taken by another service"),
        (
            {"slug": "-park"},
            "slug",
            "Enter a slug of lower-case letters, digits and hyphens (at most 100), "
            "starting and ending with a letter or digit",
        ),
        (
            {"start_page_url": "www.gov.uk"},
            "start_page_url",
            "Enter a start page URL starting with https:// or http://",
        ),
        (
            {"next_assessment_date": "31/03/2026"},
            "next_assessment_date",
            "Next assessment date must be a real date, such as 2025-03-31",
        ),
    ],
)
def test_service_form_errors_name_the_field_and_write_nothing(
    world, audit_count, fields, field, message
):
    before = (Service.objects.count(), PhaseChange.objects.count(), audit_count())
    data = {"name": "Pay to park", "slug": "park", "organisation": "transport", "phase": "alpha"}

    response = as_user(world.editor).post("/manage/services/new", {**data, **fields})

    assert response.status_code == 200
    assert summary_errors(response) == [message]
    assert field_error(response, field) == message
    assert f'<a href="#id_{field}">' in page(response)
    assert (Service.objects.count(), PhaseChange.objects.count(), audit_count()) == before


def test_a_service_page_shows_its_details_history_and_data_sets(world):
    response = as_user(world.editor).get("/manage/services/road-tax")

    shown = page(response)
    assert "<title>Tax your vehicle - Performance Platform</title>" in shown
    for key in [
        "Name",
        "Short name",
        "Organisation",
        "Phase",
        "Description",
        "Start page",
        "Who uses the service",
        "How the dashboard is used",
        "Previous assessment",
        "Next assessment",
    ]:
        assert f'<dt class="govuk-summary-list__key">{key}</dt>' in shown
    assert f'href="/manage/data-sets/{world.data_set.pk}">road-tax/transactions</a>' in shown
    assert 'href="/manage/services/road-tax/edit"' in shown
    assert "Registered" in shown


def test_changing_a_services_phase_records_its_history(world):
    client = as_user(world.editor)
    data = {
        "name": "Tax your vehicle",
        "slug": "road-tax",
        "organisation": "transport",
        "phase": "retired",
        "audience": "Vehicle keepers",
    }

    response = client.post("/manage/services/road-tax/edit", data)

    assert response["Location"] == "/manage/services/road-tax"
    service = Service.objects.get(slug="road-tax")
    assert (service.phase, service.audience) == ("retired", "Vehicle keepers")
    latest = PhaseChange.objects.filter(service=service).first()
    assert (latest.from_phase, latest.to_phase, latest.changed_by) == (
        "live",
        "retired",
        world.editor,
    )
    entry = AuditEntry.objects.get(action="service.update")
    assert [change for change in entry.changes() if change[0] != "updated_at"] == [
        ("audience", "", "Vehicle keepers"),
        ("phase", "live", "retired"),
    ]
    assert banner(client.get("/manage/services/road-tax")) == "Changes saved"


def test_a_service_edit_with_a_taken_slug_keeps_the_service_as_it_was(world, audit_count):
    before = audit_count()
    data = {"name": "Tax", "slug": "licence-renewal", "organisation": "transport", "phase": "live"}

    response = as_user(world.org_admin).post("/manage/services/road-tax/edit", data)

    assert field_error(response, "slug") == (
        "The slug 'licence-renewal' is already taken by another service"
    )
    # The page still names the service by its stored slug.
    assert 'href="/manage/services/road-tax"' in page(response)
    assert Service.objects.get(pk=world.service.pk).name == "Tax your vehicle"
    assert audit_count() == before


# data sets


DATA_SET = {
    "data_type": "cost",
    "auto_ids": "_timestamp, channel",
    "published": "on",
    "max_age_expected": "86400",
    "cache_max_age": "",
    "upload_format": "csv",
}


def test_creating_a_data_set_shows_its_token_once(world, api):
    client = as_user(world.editor)

    response = client.post("/manage/services/road-tax/data-sets/new", DATA_SET)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    data_set = DataSet.objects.get(data_group="road-tax", data_type="cost")
    assert (
        data_set.service,
        data_set.auto_ids,
        data_set.published,
        data_set.raw_queries_allowed,
        data_set.max_age_expected,
        data_set.cache_max_age,
        data_set.upload_format,
    ) == (world.service, ["_timestamp", "channel"], True, False, 86400, None, "csv")
    token = re.search(r'<code class="app-token" id="token">([^<]+)</code>', page(response)).group(1)
    assert DataSetToken.objects.get(data_set=data_set).token_hash == hash_token(token)
    assert "This is the only time you will see this token" in page(response)
    assert f"Authorization: Bearer {token}" in page(response)
    assert "curl -X POST 'http://testserver/data/road-tax/cost'" in page(response)
    entry = AuditEntry.objects.get(action="data_set.create", object_id=str(data_set.pk))
    assert (entry.actor, entry.service, entry.after["auto_ids"]) == (
        world.editor,
        world.service,
        ["_timestamp", "channel"],
    )
    # The token works, and is never shown again.
    record = {"_timestamp": "2025-01-06T00:00:00Z", "channel": "digital", "count": 1}
    assert api.post("/data/road-tax/cost", record, token).status_code == 200
    later = page(client.get(f"/manage/data-sets/{data_set.pk}"))
    assert token not in later
    assert f"{token[:6]}…" in later


def test_creating_a_data_set_of_a_standard_type_makes_it_a_kpi_source(world, api):
    client = as_user(world.editor)
    form = page(client.get("/manage/services/road-tax/data-sets/new"))
    assert 'value="cost"' in form and "None: a free-form data set" in form

    response = client.post(
        "/manage/services/road-tax/data-sets/new",
        {**DATA_SET, "data_type": "spend", "standard_type": "cost", "auto_ids": ""},
    )

    assert response.status_code == 200
    data_set = DataSet.objects.get(data_group="road-tax", data_type="spend")
    assert (data_set.standard_type, data_set.auto_ids) == (
        "cost",
        ["_timestamp", "period", "channel"],
    )
    token = re.search(r'<code class="app-token" id="token">([^<]+)</code>', page(response)).group(1)
    # Its records are checked as cost records.
    response = api.post("/data/road-tax/spend", {"_timestamp": "2025-01-06T00:00:00Z"}, token)
    assert body(response)["messages"] == [
        "record 0: field 'period' is required",
        "record 0: field 'amount' is required",
        "record 0: missing auto_ids field(s): period",
    ]


def test_a_data_set_made_without_a_standard_type_is_free_form(world):
    as_user(world.editor).post("/manage/services/road-tax/data-sets/new", DATA_SET)
    assert DataSet.objects.get(data_group="road-tax", data_type="cost").standard_type == ""


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"data_type": ""}, "data_type", "Enter the data type"),
        (
            {"data_type": "Cost Per Month"},
            "data_type",
            "data type 'Cost Per Month' must be 1 to 100 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit",
        ),
        (
            {"data_type": "transactions"},
            "data_type",
            "Data set road-tax/transactions already exists",
        ),
        (
            {"auto_ids": "channel, bad-field"},
            "auto_ids",
            "auto_ids: 'bad-field' is not a field records can have (an identifier, or _timestamp)",
        ),
        ({"auto_ids": "channel, channel"}, "auto_ids", "auto_ids: a field is listed twice"),
        (
            {"max_age_expected": "-1"},
            "max_age_expected",
            "max_age_expected must be a whole number of seconds, 0 or more",
        ),
        (
            {"max_age_expected": "a day"},
            "max_age_expected",
            "Maximum age must be a whole number of seconds, like 86400",
        ),
        (
            {"cache_max_age": "1.5"},
            "cache_max_age",
            "Cache time must be a whole number of seconds, like 86400",
        ),
        (
            {"upload_format": "pdf"},
            "upload_format",
            "Select a valid choice. pdf is not one of the available choices.",
        ),
        (
            {"standard_type": "costs"},
            "standard_type",
            "Select a valid choice. costs is not one of the available choices.",
        ),
    ],
)
def test_data_set_form_errors_name_the_field_and_write_nothing(
    world, audit_count, fields, field, message
):
    before = (DataSet.objects.count(), DataSetToken.objects.count(), audit_count())

    response = as_user(world.editor).post(
        "/manage/services/road-tax/data-sets/new", {**DATA_SET, **fields}
    )

    assert response.status_code == 200
    assert summary_errors(response) == [message]
    assert field_error(response, field) == message
    assert 'id="token"' not in page(response)
    assert (DataSet.objects.count(), DataSetToken.objects.count(), audit_count()) == before


def test_a_data_set_page_shows_its_settings_records_and_write_url(world, api):
    token = DataSetToken.issue(world.data_set)[1]
    api.post("/data/road-tax/transactions", [{"a": 1}, {"a": 2}], token)

    shown = page(as_user(world.editor).get(f"/manage/data-sets/{world.data_set.pk}"))

    assert "http://testserver/data/road-tax/transactions" in shown
    assert re.search(r"Records</dt>\s*<dd[^>]*>2</dd>", shown)
    assert re.search(r"Published</dt>\s*<dd[^>]*>Yes: anyone can read its records</dd>", shown)
    assert f'href="/manage/data-sets/{world.data_set.pk}/edit"' in shown
    assert token not in shown


def test_changing_a_data_sets_settings_is_audited(world):
    client = as_user(world.editor)
    data = {**DATA_SET, "max_age_expected": "3600", "auto_ids": ""}
    del data["data_type"], data["published"]

    response = client.post(f"/manage/data-sets/{world.data_set.pk}/edit", data)

    assert response["Location"] == f"/manage/data-sets/{world.data_set.pk}"
    data_set = DataSet.objects.get(pk=world.data_set.pk)
    assert (data_set.max_age_expected, data_set.published) == (3600, False)
    entry = AuditEntry.objects.get(action="data_set.update")
    assert entry.changes() == [("max_age_expected", None, 3600), ("published", True, False)]
    assert banner(client.get(response["Location"])) == "Settings saved"


def test_a_bad_setting_changes_nothing(world, audit_count):
    before = audit_count()
    data = {**DATA_SET, "auto_ids": "not valid"}

    response = as_user(world.editor).post(f"/manage/data-sets/{world.data_set.pk}/edit", data)

    assert field_error(response, "auto_ids") == (
        "auto_ids: 'not valid' is not a field records can have (an identifier, or _timestamp)"
    )
    assert DataSet.objects.get(pk=world.data_set.pk).auto_ids == []
    assert audit_count() == before


def test_replacing_a_data_sets_token(world, api):
    client = as_user(world.editor)
    old = DataSetToken.issue(world.data_set)[1]
    confirm = client.get(f"/manage/data-sets/{world.data_set.pk}/rotate-token")
    assert "The current token stops working at once" in page(confirm)

    response = client.post(f"/manage/data-sets/{world.data_set.pk}/rotate-token")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new = re.search(r'id="token">([^<]+)</code>', page(response)).group(1)
    assert "This is the only time you will see this token" in page(response)
    assert api.post("/data/road-tax/transactions", {"a": 1}, old).status_code == 401
    assert api.post("/data/road-tax/transactions", {"a": 1}, new).status_code == 200
    entry = AuditEntry.objects.get(action="data_set.rotate_token")
    assert (entry.actor, entry.after) == (world.editor, {"token": f"{new[:6]}..."})
    assert new not in page(client.get(f"/manage/data-sets/{world.data_set.pk}"))


def test_emptying_a_data_set_after_confirming(world, api):
    client = as_user(world.editor)
    token = DataSetToken.issue(world.data_set)[1]
    api.post("/data/road-tax/transactions", [{"a": 1}, {"a": 2}], token)
    confirm = client.get(f"/manage/data-sets/{world.data_set.pk}/empty")
    assert "It contains 2 records." in page(confirm)

    response = client.post(f"/manage/data-sets/{world.data_set.pk}/empty")

    assert response["Location"] == f"/manage/data-sets/{world.data_set.pk}"
    assert world.data_set.record_set.count() == 0
    entry = AuditEntry.objects.get(action="data_set.empty")
    assert (entry.actor, entry.before, entry.after) == (
        world.editor,
        {"records": 2},
        {"records": 0},
    )
    assert banner(client.get(response["Location"])) == (
        "road-tax/transactions emptied: it now contains 0 records"
    )


def test_another_organisations_data_set_is_refused_and_left_alone(world):
    client = as_user(world.editor)

    assert client.get(f"/manage/data-sets/{world.other_data_set.pk}").status_code == 403
    assert (
        client.post(f"/manage/data-sets/{world.other_data_set.pk}/rotate-token").status_code == 403
    )
    assert not AuditEntry.objects.filter(action="data_set.rotate_token").exists()


# users


def test_the_users_page_lists_the_users_an_admin_manages(world):
    shown = page(as_user(world.org_admin).get("/manage/users"))

    assert "dft-editor@example.gov.uk" in shown
    assert "la-editor@example.gov.uk" in shown
    assert "doh-editor@example.gov.uk" not in shown
    assert f'href="/manage/users/{world.agency_editor.pk}/edit"' in shown


def test_an_organisation_admin_adds_an_editor_who_gets_a_password_email(world, mailoutbox):
    client = as_user(world.org_admin)

    response = client.post(
        "/manage/users/new",
        {
            "email": "New.Editor@Example.gov.uk",
            "name": "New Editor",
            "role": "editor",
            "organisation": "licensing",
        },
    )

    assert response["Location"] == "/manage/users"
    user = User.objects.get(email="new.editor@example.gov.uk")
    assert (user.name, user.role, user.organisation, user.has_usable_password()) == (
        "New Editor",
        "editor",
        world.agency,
        False,
    )
    entry = AuditEntry.objects.get(action="user.create", object_id=str(user.pk))
    assert (entry.actor, entry.organisation, entry.after["email"]) == (
        world.org_admin,
        world.agency,
        "new.editor@example.gov.uk",
    )
    [email] = mailoutbox
    assert email.to == ["new.editor@example.gov.uk"]
    assert "http://testserver/manage/reset/" in email.body
    assert banner(client.get("/manage/users")) == (
        "new.editor@example.gov.uk added. We have emailed them a link to choose a password"
    )


def test_a_failed_email_still_adds_the_user_and_says_what_to_do(world, settings, mailoutbox):
    # Nothing listens on port 1: sending fails at once.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    client = as_user(world.org_admin)

    response = client.post(
        "/manage/users/new",
        {"email": "late@example.gov.uk", "role": "editor", "organisation": "transport"},
    )

    assert response["Location"] == "/manage/users"
    assert User.objects.filter(email="late@example.gov.uk").exists()
    assert banner(client.get("/manage/users")) == (
        "late@example.gov.uk was added, but the email with their password link could not be "
        "sent. Ask them to use “Forgotten your password?” on the sign-in page."
    )


def test_an_organisation_admin_is_offered_only_the_roles_and_bodies_they_can_give(world):
    shown = page(as_user(world.org_admin).get("/manage/users/new"))

    assert re.findall(r'name="role" type="radio" value="([a-z-]+)"', shown) == [
        "org-admin",
        "editor",
    ]
    assert re.findall(r'<option value="([a-z-]+)"', shown) == ["transport", "licensing"]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"email": "", "role": "", "organisation": ""},
            {
                "email": "Enter their email address",
                "role": "Choose their role",
                "organisation": "Choose the organisation they work for",
            },
        ),
        (
            {"email": "not-an-address"},
            {"email": "Enter an email address in the correct format, like name@example.gov.uk"},
        ),
        (
            {"email": "DFT-EDITOR@example.gov.uk"},
            {"email": "There is already a user with the email address dft-editor@example.gov.uk"},
        ),
        (
            {"role": "platform-admin"},
            {"role": "Select a valid choice. platform-admin is not one of the available choices."},
        ),
        ({"organisation": "health"}, {"organisation": "Choose an organisation from the list"}),
    ],
)
def test_user_form_errors_name_the_field_and_write_nothing(
    world, audit_count, mailoutbox, fields, errors
):
    before = (User.objects.count(), audit_count())
    data = {"email": "new@example.gov.uk", "role": "editor", "organisation": "transport"}

    response = as_user(world.org_admin).post("/manage/users/new", {**data, **fields})

    assert response.status_code == 200
    assert {name: field_error(response, name) for name in errors} == errors
    assert (User.objects.count(), audit_count()) == before
    assert mailoutbox == []


def test_a_platform_admin_adds_a_platform_admin_without_an_organisation(world, mailoutbox):
    response = as_user(world.platform_admin).post(
        "/manage/users/new", {"email": "ops@example.gov.uk", "role": "platform-admin"}
    )

    assert response["Location"] == "/manage/users"
    assert User.objects.get(email="ops@example.gov.uk").role == "platform-admin"


def test_an_organisation_admin_promotes_and_deactivates_a_user(world):
    response = as_user(world.org_admin).post(
        f"/manage/users/{world.agency_editor.pk}/edit",
        {"name": "Lee", "role": "org-admin", "organisation": "licensing"},
    )

    assert response["Location"] == "/manage/users"
    user = User.objects.get(pk=world.agency_editor.pk)
    assert (user.name, user.role, user.is_active) == ("Lee", "org-admin", False)
    entry = AuditEntry.objects.get(action="user.update")
    assert entry.changes() == [
        ("is_active", True, False),
        ("name", "", "Lee"),
        ("role", "editor", "org-admin"),
    ]


def test_people_editing_themselves_change_only_their_name(world):
    client = as_user(world.agency_editor)
    form = page(client.get(f"/manage/users/{world.agency_editor.pk}/edit"))
    assert 'name="role"' not in form
    assert 'name="is_active"' not in form

    response = client.post(
        f"/manage/users/{world.agency_editor.pk}/edit",
        {"name": "Lee", "role": "org-admin", "is_active": ""},
    )

    assert response["Location"] == "/manage/"
    user = User.objects.get(pk=world.agency_editor.pk)
    assert (user.name, user.role, user.is_active) == ("Lee", "editor", True)


# personal API tokens


def test_creating_a_personal_token_shows_it_once(world, client):
    session = as_user(world.editor)

    response = session.post("/manage/tokens", {"name": "nightly upload"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    token = re.search(r'id="token">([^<]+)</code>', page(response)).group(1)
    row = PersonalToken.objects.get(user=world.editor)
    assert (row.name, row.token_hash) == ("nightly upload", hash_token(token))
    assert "This is the only time you will see this token" in page(response)
    entry = AuditEntry.objects.get(action="personal_token.create")
    assert (entry.actor, entry.after) == (
        world.editor,
        {"name": "nightly upload", "prefix": row.prefix},
    )
    me = client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    later = page(session.get("/manage/tokens"))
    assert token not in later
    assert f"{row.prefix}…" in later


def test_revoking_a_personal_token(world, client):
    session = as_user(world.editor)
    token = world.token(world.editor)
    row = PersonalToken.objects.get(user=world.editor)

    assert session.get(f"/manage/tokens/{row.pk}/revoke").status_code == 405
    response = session.post(f"/manage/tokens/{row.pk}/revoke")

    assert response["Location"] == "/manage/tokens"
    row.refresh_from_db()
    assert row.revoked_at is not None
    assert AuditEntry.objects.get(action="personal_token.revoke").actor == world.editor
    assert client.get("/api/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert (
        banner(session.get("/manage/tokens")) == f"Token {row.prefix}… revoked: it no longer works"
    )


def test_an_editor_cannot_revoke_another_persons_token(world):
    world.token(world.other_editor)
    row = PersonalToken.objects.get(user=world.other_editor)

    response = as_user(world.editor).post(f"/manage/tokens/{row.pk}/revoke")

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.revoked_at is None


# the audit log


def audit_rows(response) -> list[list[str]]:
    """The audit table's rows, each as its cells' text: when, who, what, changes."""
    body = re.search(r'<tbody class="govuk-table__body">(.*?)</tbody>', page(response), re.S)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S) if body else []
    return [
        [re.sub(r"\s+", " ", _text(cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in rows
    ]


def test_the_audit_log_shows_who_did_what_newest_first(world):
    client = as_user(world.platform_admin)  # signing in is an entry of its own
    update_service(world.org_admin, world.service, phase="retired")

    response = client.get("/manage/audit")

    rows = audit_rows(response)
    assert len(rows) == AuditEntry.objects.count()
    _, who, what, changes = rows[0]
    assert who == "dft-admin@example.gov.uk"
    assert what == "Service changed service: Tax your vehicle"
    assert changes == "phase: live → changed to retired"
    # The world was built on the command line: no person did it.
    assert rows[-1][1] == "System"


def test_an_organisation_admin_sees_only_what_concerns_their_organisations(world):
    response = as_user(world.org_admin).get("/manage/audit")

    shown = page(response)
    assert "Tax your vehicle" in shown
    assert "Licensing Agency" in shown
    assert "Book a jab" not in shown
    assert "Department of Health" not in shown


def test_the_audit_log_filters_by_service(world):
    update_service(world.org_admin, world.agency_service, audience="Drivers")

    response = as_user(world.org_admin).get("/manage/audit", {"service": "licence-renewal"})

    rows = audit_rows(response)
    assert len(rows) == AuditEntry.objects.filter(service=world.agency_service).count() == 2
    assert [what for _, _, what, _ in rows] == [
        "Service changed service: Renew your licence",
        "Service registered service: Renew your licence",
    ]
    assert '<option value="licence-renewal" selected>' in page(response)


def test_the_audit_log_filters_by_user(world):
    update_service(world.editor, world.service, audience="Drivers")
    update_service(world.org_admin, world.service, audience="Keepers")

    response = as_user(world.org_admin).get("/manage/audit", {"user": world.editor.pk})

    [(_, who, _, changes)] = audit_rows(response)
    assert (who, changes) == ("dft-editor@example.gov.uk", "audience: empty → changed to Drivers")


def test_signing_in_is_in_the_audit_log(world):
    as_user(world.editor)
    entry = AuditEntry.objects.get(action="user.sign_in")
    assert (entry.actor, entry.organisation) == (world.editor, world.department)


def test_an_unknown_filter_value_is_an_error_on_that_field(world):
    response = as_user(world.org_admin).get("/manage/audit", {"service": "book-a-jab"})

    assert field_error(response, "service") == "Choose a service from the list"


def test_the_audit_log_shows_50_entries_a_page(world):
    client = as_user(world.platform_admin)
    for number in range(50):
        update_service(world.editor, world.service, audience=f"Audience {number}")
    total = AuditEntry.objects.count()

    first = client.get("/manage/audit", {"user": "", "service": ""})
    second = client.get("/manage/audit", {"user": "", "service": "", "page": 2})

    assert len(audit_rows(first)) == 50
    assert len(audit_rows(second)) == total - 50
    assert 'href="?user=&amp;service=&amp;page=2" rel="next"' in page(first)
    assert "Audience 49" in page(first)
    assert "Audience 49" not in page(second)
