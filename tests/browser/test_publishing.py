"""A dashboard's whole publishing cycle in chromium: an editor builds the draft (details, modules,
an error shown beside its field, a move) and submits it; an organisation admin sends it back
with a comment; the editor fixes it and submits again; the admin approves and publishes it; the
public page shows it; the admin records an assessment. axe checks the editor, the preview, the
version comparison and the readiness report on the way."""

import re

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.signing_in import give_code
from browser.viewports import desktop_only, phone_only
from perfplat.dashboards import services as dashboards
from publishing_fixtures import kpi_data_sets, send_month
from registry_fixtures import PASSWORD

pytestmark = pytest.mark.browser

EDITOR = "dft-editor@example.gov.uk"
ADMIN = "dft-admin@example.gov.uk"
DASHBOARD = "/manage/services/road-tax/dashboard"


def sign_in_as(page, email, next_path=DASHBOARD):
    page.goto(f"/manage/sign-in?next={next_path}")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    give_code(page, email)
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()


def banner(page):
    return page.locator(".govuk-notification-banner--success")


@desktop_only
def test_a_dashboard_from_first_draft_to_published_and_assessed(page, world):
    # The editor starts the dashboard (KPI tiles and a text) and describes it.
    sign_in_as(page, EDITOR)
    page.get_by_role("button", name="Start the dashboard").click()
    expect(banner(page)).to_contain_text("You are editing version 1, a draft")
    # Meanwhile the service's data arrives, not yet published.
    send_month(kpi_data_sets(world.service, published=False), "2025-01-01")
    page.get_by_role("link", name="Change who uses the service").click()
    page.get_by_label("Who uses the service").fill("Drivers who tax their vehicles")
    page.get_by_label("How the dashboard is used").fill("The team plans its work with it")
    page.get_by_label("Baseline period: first day").fill("2024-01-01")
    page.get_by_label("Baseline period: last day").fill("2023-12-31")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "the baseline period must end on or after the day it starts"
    )
    expect(page).to_have_title(re.compile("^Error: "))
    page.get_by_label("Baseline period: last day").fill("2024-12-31")
    page.get_by_role("button", name="Save details").click()
    expect(banner(page)).to_contain_text("The dashboard's details are saved")

    # A time series whose query is wrong: the error is beside the query.
    page.get_by_role("button", name="Add a module").click()
    page.get_by_label("Time series", exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Title").fill("Completed journeys")
    page.get_by_label("Data set").select_option("road-tax/completion")
    page.get_by_label("Query").fill("collect=completed:sum")
    page.get_by_role("button", name="Add module").click()
    expect(page.locator("#id_query-error")).to_contain_text("collect needs group_by or period")
    page.get_by_label("Query").fill("period=month&collect=completed:sum")
    page.get_by_label("Value shown").fill("completed:sum")
    page.get_by_role("button", name="Add module").click()
    expect(banner(page)).to_contain_text("Module 3 added")

    # The new module moves up, above the text.
    cards = page.locator(".govuk-summary-card__title")
    expect(cards).to_have_text(
        ["1. Key performance indicators", "2. About this data", "3. Completed journeys"]
    )
    page.get_by_role("button", name="Move up module 3, Completed journeys").click()
    expect(banner(page)).to_contain_text("Module 3 moved up: it is now module 2")
    expect(cards).to_have_text(
        ["1. Key performance indicators", "2. Completed journeys", "3. About this data"]
    )
    assert_accessible(page, "publishing-editor-desktop")

    # The preview shows the draft as the public page will.
    page.get_by_role("button", name="Preview the dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tax your vehicle")
    expect(page.get_by_role("heading", name="Completed journeys")).to_be_visible()
    expect(page.get_by_text("Drivers who tax their vehicles")).to_be_visible()
    assert_accessible(page, "publishing-preview-desktop")

    page.goto(DASHBOARD)
    page.get_by_role("button", name="Submit for review").click()
    expect(banner(page)).to_contain_text("Version 1 is submitted for review")
    sign_out(page)

    # The organisation admin sends it back with a comment.
    sign_in_as(page, ADMIN)
    page.get_by_role("button", name="Send back").click()
    page.get_by_label("What needs to change?").fill("Say what the completion figures count")
    page.get_by_role("button", name="Send back").click()
    expect(banner(page)).to_contain_text("Version 1 is sent back to the editors")
    sign_out(page)

    # The editor reads the comment, fixes the draft and submits it again.
    sign_in_as(page, EDITOR)
    expect(page.get_by_text("Say what the completion figures count")).to_be_visible()
    page.get_by_role("link", name="Change module 2, Completed journeys").click()
    page.get_by_label("Description").fill("Digital journeys completed each month.")
    page.get_by_role("button", name="Save module").click()
    expect(banner(page)).to_contain_text("Module 2 saved")
    page.get_by_role("button", name="Submit for review").click()
    sign_out(page)

    # The admin is told which data sets publishing makes public (those behind the KPI tiles
    # too), approves and publishes it; the public page shows it, its KPIs included.
    sign_in_as(page, ADMIN)
    expect(page.get_by_text("Publishing also makes these data sets public")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="road-tax/cost")).to_be_visible()
    page.get_by_role("button", name="Approve and publish").click()
    expect(banner(page)).to_contain_text("Version 1 is published")
    page.goto("/services/road-tax")
    expect(page.get_by_role("heading", name="Completed journeys")).to_be_visible()
    expect(page.get_by_text("Digital journeys completed each month.", exact=True)).to_be_visible()
    expect(page.locator(".app-kpi-tile").first).to_contain_text("£4.00")
    expect(page.get_by_role("table", name=re.compile("over the baseline period"))).to_contain_text(
        "Not enough data"
    )

    # A second version, compared with the first.
    page.goto(DASHBOARD)
    page.get_by_role("button", name="Edit the dashboard").click()
    page.get_by_role("link", name="Remove module 3, About this data").click()
    page.get_by_role("button", name="Remove the module").click()
    expect(banner(page)).to_contain_text("Module 3 removed")
    page.get_by_role("link", name="Every version, and what changed").click()
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "What changed from version 1 to version 2"
    )
    expect(page.get_by_role("table")).to_contain_text("Text module “About this data”")
    assert_accessible(page, "publishing-compare-desktop")

    # The readiness report, and an assessment.
    page.goto("/manage/services/road-tax/readiness")
    expect(page.get_by_role("heading", level=1)).to_have_text("Service Standard readiness")
    assert_accessible(page, "publishing-readiness-desktop")
    page.goto("/manage/services/road-tax/assessments")
    page.get_by_role("button", name="Record an assessment").click()
    page.get_by_label("Live").check()
    page.get_by_label("Date of the assessment").fill("2025-02-03")
    page.get_by_label("Met", exact=True).check()
    page.get_by_label("Notes").fill("Clear reporting")
    page.get_by_role("button", name="Record assessment").click()
    expect(banner(page)).to_contain_text("The live assessment is recorded")
    expect(page.get_by_role("heading", level=1)).to_have_text("Live assessment, 3 February 2025")

    # The readiness report now asks for the note for the next assessment; its next step leads
    # to the page that writes it.
    page.goto("/manage/services/road-tax/readiness")
    page.get_by_role(
        "link",
        name="Write how the service has evolved since the live assessment of 3 February 2025",
    ).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How the service has evolved")
    assert_accessible(page, "publishing-evolution-note-desktop")
    page.get_by_label("How has the service evolved since the previous assessment?").fill(
        "Reminders went online"
    )
    page.get_by_role("button", name="Save").click()
    expect(banner(page)).to_contain_text("saved for the coming assessment")
    expect(page.locator(".govuk-inset-text")).to_have_text("Reminders went online")
    page.goto("/manage/services/road-tax/readiness")
    evolution = page.locator(".app-readiness-item").filter(has_text="is written for the coming one")
    expect(evolution.locator(".govuk-tag")).to_have_text("Met")


@phone_only
def test_moving_a_module_works_without_javascript(page_without_javascript, world):
    page = page_without_javascript
    sign_in_as(page, EDITOR)
    page.get_by_role("button", name="Start the dashboard").click()
    cards = page.locator(".govuk-summary-card__title")
    expect(cards).to_have_text(["1. Key performance indicators", "2. About this data"])
    page.get_by_role("button", name="Move down module 1, Key performance indicators").click()
    expect(cards).to_have_text(["1. About this data", "2. Key performance indicators"])


@phone_only
def test_the_publishing_pages_are_accessible_on_a_phone(page, world):
    first = dashboards.publish_directly(world.service)
    draft = dashboards.start_draft(None, world.service)
    dashboards.save_draft(None, draft, {**first.content, "audience": "Drivers"})
    sign_in_as(page, EDITOR)
    assert_accessible(page, "publishing-editor-phone")
    for path, name in [
        ("/preview", "preview"),
        ("/compare?older=1&newer=2", "compare"),
        ("/versions", "versions"),
    ]:
        page.goto(DASHBOARD + path)
        assert_accessible(page, f"publishing-{name}-phone")
    page.goto("/manage/services/road-tax/readiness")
    assert_accessible(page, "publishing-readiness-phone")
    page.goto("/manage/services/road-tax/evolution")
    assert_accessible(page, "publishing-evolution-note-phone")


@phone_only
def test_unpublishing_offers_to_unpublish_the_data_sets_on_a_phone(page, world):
    dashboards.publish_directly(world.service)
    sign_in_as(page, ADMIN, DASHBOARD + "/unpublish")
    expect(
        page.get_by_text("Unpublishing the dashboard leaves this data set public")
    ).to_be_visible()
    assert_accessible(page, "publishing-unpublish-phone")
    page.get_by_label("Unpublish this data set too").check()
    page.get_by_role("button", name="Unpublish").click()
    expect(banner(page)).to_contain_text(
        "Version 1 is unpublished, and so are its data sets: road-tax/transactions"
    )


@phone_only
@pytest.mark.parametrize("phase", ["discovery", "retired"])
def test_a_report_where_nothing_or_little_applies_is_accessible(page, world, phase):
    from perfplat.registry.services import update_service

    update_service(None, world.service, phase=phase)
    sign_in_as(page, EDITOR, "/manage/services/road-tax/readiness")
    expect(page.locator(".govuk-summary-list")).to_contain_text(
        "Not applicable" if phase == "discovery" else "Ready"
    )
    assert_accessible(page, f"publishing-readiness-{phase}-phone")
