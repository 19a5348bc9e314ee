"""The management area in chromium: a new organisation admin signs in, registers a service,
creates its data set (seeing the token once), adds an editor, is refused another organisation's
service, and finds each change in the audit log; axe checks the pages on the way."""

import re

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.signing_in import give_code
from browser.viewports import desktop_only, phone_only
from registry_fixtures import PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "dft-admin@example.gov.uk"


def sign_in(page, email=ADMIN, password=PASSWORD):
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if password == PASSWORD:
        give_code(page, email)


@desktop_only
def test_an_organisation_admins_first_day(page, world, mailoutbox):
    # Signing in: the page asked for first is where the form leads.
    page.goto("/manage/services/road-tax")
    expect(page).to_have_title("Sign in - Performance Platform")
    assert_accessible(page, "manage-sign-in-desktop")
    sign_in(page)
    expect(page).to_have_url(re.compile(r"/manage/services/road-tax$"))

    # Registering a service.
    page.goto("/manage/")
    page.get_by_role("button", name="Register a service").click()
    page.get_by_label("Name", exact=True).fill("Pay to park")
    page.get_by_label("Short name for web addresses").fill("park")
    page.get_by_label("Organisation").select_option("transport")
    page.get_by_label("Alpha").check()
    page.get_by_label("Who uses the service").fill("Drivers")
    page.get_by_role("button", name="Register service").click()
    expect(page).to_have_url(re.compile(r"/manage/services/park$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay to park")
    expect(page.get_by_role("alert")).to_contain_text("Pay to park registered")
    assert_accessible(page, "manage-service-desktop")

    # Creating its data set: the token is on the response page, and only there.
    page.get_by_role("button", name="Create a data set").click()
    page.get_by_label("Data type").fill("transactions-by-channel")
    page.get_by_label("Fields that identify a record").fill("_timestamp, channel")
    page.get_by_role("button", name="Create data set").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data set created")
    expect(page.get_by_text("This is the only time you will see this token")).to_be_visible()
    token = page.locator("#token").inner_text()
    assert_accessible(page, "manage-data-set-created-desktop")
    written = page.request.post(
        "/data/park/transactions-by-channel",
        data={"_timestamp": "2025-01-06T00:00:00Z", "channel": "digital", "count": 3},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert written.status == 200
    page.get_by_role("link", name="Go to the data set").click()
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Data set park/transactions-by-channel"
    )
    expect(page.get_by_text(f"{token[:6]}…")).to_be_visible()
    assert token not in page.content()

    # Adding an editor, who is emailed a link to choose a password.
    page.goto("/manage/users/new")
    page.get_by_label("Email address").fill("new.editor@example.gov.uk")
    page.get_by_label("Full name").fill("New Editor")
    page.get_by_label("Editor", exact=True).check()
    page.get_by_label("Organisation", exact=True).select_option(label="Licensing Agency")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("alert")).to_contain_text("new.editor@example.gov.uk added")
    assert [email.to for email in mailoutbox] == [["new.editor@example.gov.uk"]]

    # Refused another organisation's service.
    refused = page.goto("/manage/services/book-a-jab")
    assert refused.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You do not have permission to see this page"
    )

    # Each change is in the audit log, newest first: filtered to the admin's own changes.
    page.goto("/manage/audit")
    page.get_by_label("Who").select_option(label=ADMIN)
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("main tbody tr")
    # Setting up two-factor sign-in (the fixture did), signing in, then the three changes.
    expect(rows).to_have_count(5)
    expect(rows.nth(0)).to_contain_text("User added")
    expect(rows.nth(0)).to_contain_text("new.editor@example.gov.uk")
    expect(rows.nth(1)).to_contain_text("Data set created")
    expect(rows.nth(1)).to_contain_text("park/transactions-by-channel")
    expect(rows.nth(2)).to_contain_text("Service registered")
    expect(rows.nth(2)).to_contain_text("Pay to park")
    expect(rows.nth(3)).to_contain_text("Signed in")
    assert_accessible(page, "manage-audit-desktop")


@phone_only
def test_signing_in_and_creating_a_data_set_work_without_javascript(page_without_javascript, world):
    page = page_without_javascript
    page.goto("/manage/sign-in")
    sign_in(page, password="wrong")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter a correct email address and password"
    )
    sign_in(page, email="dft-editor@example.gov.uk")
    expect(page).to_have_title("Your services - Performance Platform")

    page.goto("/manage/services/road-tax/data-sets/new")
    page.get_by_role("button", name="Create data set").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the data type")
    page.get_by_role("link", name="Enter the data type").click()
    page.get_by_label("Data type").fill("cost")
    page.get_by_role("button", name="Create data set").click()

    token = page.locator("#token")
    expect(token).to_be_visible()
    # A long token wraps on a phone instead of widening the page.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_a_new_admin_sets_up_two_factor_sign_in_and_signs_in_with_a_code(page, world, viewport):
    import base64

    from django_otp.oath import TOTP

    from perfplat.accounts.services import create_user

    create_user(
        None, "new-admin@example.gov.uk", "org-admin", organisation="transport", password=PASSWORD
    )
    page.goto("/manage/sign-in")
    sign_in(page, email="new-admin@example.gov.uk")
    # Nothing else until it is set up.
    expect(page).to_have_url(re.compile(r"/manage/two-factor/set-up$"))
    expect(page.get_by_text("Platform and organisation admins must use")).to_be_visible()
    expect(
        page.get_by_role("img", name="QR code of the key for your authenticator app")
    ).to_be_visible()
    assert_accessible(page, f"manage-two-factor-set-up-{viewport.name}")

    page.get_by_label("Code", exact=True).fill("000000")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("The code is not right")
    assert_accessible(page, f"manage-two-factor-set-up-error-{viewport.name}")

    # django-otp makes the app's device wait a second after a wrong code.
    page.wait_for_timeout(1100)
    secret = page.locator("#secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Code", exact=True).fill(f"{TOTP(key).token():06d}")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in is on")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    recovery = page.locator("#recovery-codes li").first.inner_text()
    assert_accessible(page, f"manage-two-factor-codes-{viewport.name}")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title("Your services - Performance Platform")

    # Next time (a new browser session): the password, then a code (here a recovery code).
    page.context.clear_cookies()
    page.goto("/manage/sign-in")
    page.get_by_label("Email address").fill("new-admin@example.gov.uk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title("Enter your code - Performance Platform")
    assert_accessible(page, f"manage-sign-in-code-{viewport.name}")
    page.get_by_label("Code", exact=True).fill(recovery)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title("Your services - Performance Platform")
    expect(page.get_by_text("You used a recovery code")).to_be_visible()
