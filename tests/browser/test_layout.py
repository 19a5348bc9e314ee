"""The GOV.UK page template every page shares (frontend/base.html), the home page placeholder
and the answers to unknown URLs, in chromium at a phone and a desktop width."""

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.viewports import desktop_only, phone_only

pytestmark = pytest.mark.browser


def test_home_page_renders_with_the_header(page):
    response = page.goto("/")

    assert response.status == 200
    expect(page).to_have_title("Performance Platform")
    header = page.locator("header.govuk-template__header")
    expect(header.get_by_role("link", name="Performance Platform")).to_have_attribute("href", "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Performance Platform")


@desktop_only
def test_home_page_loads_every_style_script_and_font(page, page_problems):
    page.goto("/")
    page.evaluate("document.fonts.ready.then(() => true)")

    assert page_problems == []
    # The class is set by the template's first script; initAll() then ran (the service
    # navigation's JavaScript is initialised), and the GOV.UK font loaded from the static files.
    expect(page.locator("body")).to_have_class(
        "govuk-template__body js-enabled govuk-frontend-supported"
    )
    expect(page.locator("[data-module=govuk-service-navigation]")).to_have_attribute(
        "data-govuk-service-navigation-init", ""
    )
    loaded_fonts = page.evaluate(
        "[...document.fonts].filter(font => font.status === 'loaded').map(font => font.family)"
    )
    assert "GDS Transport" in loaded_fonts


@phone_only
def test_service_navigation_folds_behind_a_menu_button_on_a_phone(page):
    page.goto("/")
    services = page.get_by_role("link", name="Services", exact=True)
    expect(services).to_be_hidden()

    page.get_by_role("button", name="Menu").click()

    expect(services).to_be_visible()


@phone_only
def test_service_navigation_shows_its_links_on_a_phone_without_javascript(
    page_without_javascript,
):
    page = page_without_javascript
    page.goto("/")

    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Services", exact=True)).to_be_visible()


@desktop_only
def test_service_navigation_shows_its_links_on_a_desktop(page):
    page.goto("/")

    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    for name, href in [("Services", "/services"), ("Compare", "/compare"), ("Manage", "/manage/")]:
        expect(page.get_by_role("link", name=name, exact=True)).to_have_attribute("href", href)
    expect(page.get_by_role("link", name="Sign in")).to_have_attribute("href", "/manage/sign-in")


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page):
    page.goto("/")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")

    expect(page.locator("main#main-content")).to_be_focused()


def test_home_page_has_no_accessibility_violations(page, viewport):
    page.goto("/")

    assert_accessible(page, f"home-{viewport.name}")


def test_open_menu_with_sign_out_has_no_accessibility_violations(page, viewport, signed_in):
    page.goto("/")
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()

    assert_accessible(page, f"home-signed-in-{viewport.name}")


@desktop_only
def test_unknown_page_shows_the_govuk_not_found_page(page):
    response = page.goto("/no-such-page")

    assert response.status == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    expect(page).to_have_title("Page not found - Performance Platform")
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")


def test_not_found_page_has_no_accessibility_violations(page, viewport):
    page.goto("/no-such-page")

    assert_accessible(page, f"not-found-{viewport.name}")


@desktop_only
@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/data/x/y", "Data set x/y not found"),
        ("/data/only-a-group", "Nothing here: /data/only-a-group"),
    ],
)
def test_unknown_data_set_still_answers_json_to_a_browser(page, path, message):
    response = page.goto(path)

    assert response.status == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "error", "message": message}


@desktop_only
def test_signed_in_user_signs_out_with_a_form_button(page, signed_in):
    page.goto("/")

    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_have_attribute("type", "submit")
    form = page.locator("form", has=sign_out)
    expect(form).to_have_attribute("method", "post")
    expect(form).to_have_attribute("action", "/manage/sign-out")
    expect(form.locator("input[name=csrfmiddlewaretoken]")).to_have_count(1)
    expect(page.get_by_role("link", name="Sign in")).to_have_count(0)
