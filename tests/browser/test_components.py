"""The GOV.UK component includes (templates/frontend/components/) in a real browser: a page that
uses all of them (components_urls.py), with and without form errors."""

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.viewports import desktop_only

pytestmark = [pytest.mark.browser, pytest.mark.urls("browser.components_urls")]

ERROR_LINKS = [
    ("Enter the service name", "#id_name"),
    ("Select the service's phase", "#id_phase"),
    ("Select at least one channel", "#id_channels"),
    ("Select who uses the service", "#id_audience"),
]


def submit_empty_form(page):
    page.goto("/components")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/components")


def test_components_page_has_no_accessibility_violations(page, viewport):
    page.goto("/components")

    assert_accessible(page, f"components-{viewport.name}")


@desktop_only
def test_form_errors_are_summarised_first_and_focused(page):
    submit_empty_form(page)

    expect(page).to_have_title("Error: Register a service - Performance Platform")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    links = summary.get_by_role("link")
    expect(links).to_have_text([text for text, _ in ERROR_LINKS])
    assert [links.nth(i).get_attribute("href") for i in range(len(ERROR_LINKS))] == [
        href for _, href in ERROR_LINKS
    ]


@desktop_only
@pytest.mark.parametrize(("text", "href"), ERROR_LINKS)
def test_each_error_summary_link_moves_focus_to_its_field(page, text, href):
    submit_empty_form(page)

    page.locator(".govuk-error-summary").get_by_role("link", name=text).click()

    expect(page.locator(href)).to_be_focused()


def test_form_with_errors_has_no_accessibility_violations(page, viewport):
    submit_empty_form(page)

    assert_accessible(page, f"components-errors-{viewport.name}")


@desktop_only
def test_field_error_messages_are_announced_with_the_field(page):
    submit_empty_form(page)

    expect(page.get_by_label("Service name")).to_have_accessible_description(
        "The name people know it by Error: Enter the service name"
    )
    expect(page.get_by_role("group", name="Channels")).to_have_accessible_description(
        "Select all that apply Error: Select at least one channel"
    )


@desktop_only
def test_error_summary_links_work_without_javascript(page_without_javascript):
    page = page_without_javascript
    page.goto("/components")
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("link", name="Enter the service name").click()

    assert page.url.endswith("/components#id_name")
    expect(page.get_by_label("Service name")).to_be_in_viewport()
