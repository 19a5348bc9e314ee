"""The public pages in chromium at a phone and a desktop width: every page type passes axe-core
(a screenshot of each is saved under test-output/screenshots/public-*.png), can be used with the
keyboard alone with a visible focus, and works without JavaScript.

The platform is tests/public_fixtures.py; now is 10 February 2025.
"""

import re

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.viewports import desktop_only
from perfplat.kpis import services as kpi_services
from perfplat.public import caching
from public_fixtures import NOW, build_public_world

pytestmark = pytest.mark.browser

PAGE_TYPES = {
    "home": "/",
    "services": "/services",
    # The filters' details open, with an error summary and a field in error.
    "services-error": "/services?digital_take_up_min=lots&phase=live&sort=digital_take_up",
    "dashboard": "/services/renew",
    "dashboard-not-enough-data": "/services/book",
    "organisation": "/organisations/transport",
    "compare": "/compare?services=renew,book,jab",
    "compare-error": "/compare?services=renew,nope",
    "not-found": "/services/secret",
}


@pytest.fixture
def world(transactional_db, monkeypatch):
    monkeypatch.setattr(kpi_services, "current_time", lambda: NOW)
    caching.cache().clear()
    yield build_public_world()
    caching.cache().clear()


def open_all_details(page):
    """Open every details element, so that the tables in them are checked and photographed."""
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")


@pytest.mark.parametrize("name", PAGE_TYPES)
def test_every_public_page_type_has_no_accessibility_violations(page, viewport, world, name):
    response = page.goto(PAGE_TYPES[name])
    assert response.status == (404 if name == "not-found" else 200)
    open_all_details(page)

    assert_accessible(page, f"public-{name}-{viewport.name}")


def test_a_dashboard_with_a_baseline_has_no_accessibility_violations(page, viewport, world):
    from perfplat.dashboards.services import publish, save_draft, start_draft, submit

    draft = start_draft(None, world.renew)
    save_draft(None, draft, {**draft.content, "baseline": "2024-11-25/2024-12-31"})
    submit(None, draft)
    publish(None, draft)
    page.goto("/services/renew")
    table = page.get_by_role("table", name=re.compile("over the baseline period"))
    expect(table).to_contain_text("missing for 6 days of the 37")
    page.get_by_role("heading", name="How the key performance indicators are worked out")
    assert_accessible(page, f"public-dashboard-baseline-{viewport.name}")


def test_pages_fit_the_width_of_the_screen(page, world):
    # Wide tables scroll inside their own box; the page itself never scrolls sideways.
    for url in ("/", "/services", "/services/renew", "/organisations/transport"):
        page.goto(url)
        open_all_details(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= page.viewport_size["width"], url


# the keyboard

FOCUSED = """() => {
  const el = document.activeElement;
  const yellow = (text) => /255, 221, 0/.test(text || "");
  const shows = (s) => yellow(s.backgroundColor) || yellow(s.boxShadow) || yellow(s.borderColor)
    || (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 && yellow(s.outlineColor));
  let visible = shows(getComputedStyle(el));
  if (!visible && el.labels && el.labels.length) {
    visible = shows(getComputedStyle(el.labels[0], "::before"));
  }
  const name = (el.getAttribute("aria-label") || el.textContent || el.name || el.id || "")
    .replace(/\\s+/g, " ").trim().slice(0, 60);
  return {tag: el.tagName.toLowerCase(), id: el.id, name, href: el.getAttribute("href") || "",
          visible};
}"""


def tab_until(page, found, limit=80) -> list[dict]:
    """Press Tab until `found(element)` is true; every element on the way is returned."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = page.evaluate(FOCUSED)
        stops.append(element)
        if found(element):
            return stops
    pytest.fail(f"not reached with Tab: the focus went through {stops}")


def test_the_services_list_can_be_used_with_the_keyboard(page, viewport, world):
    page.goto("/services")

    stops = tab_until(page, lambda e: e["href"] == "/services/jab")

    assert stops[0]["name"] == "Skip to main content"
    names = [stop["name"] for stop in stops]
    ids = [stop["id"] for stop in stops]
    assert "Performance Platform" in names
    if viewport.name == "phone":
        assert "Menu" in names
    else:
        assert "Services" in names and "Compare" in names
    for field in ("id_q", "id_organisation", "id_phase", "id_period"):
        assert field in ids
    assert "Filter by key performance indicators" in names
    assert "Apply filters" in names and "Clear filters" in names
    hrefs = [stop["href"] for stop in stops]
    assert "?sort=digital_take_up&order=asc" in hrefs
    # The table's scrolling box, then its headings, then the services.
    assert any(stop["tag"] == "div" for stop in stops)
    invisible = [stop for stop in stops if not stop["visible"]]
    assert invisible == []


def test_a_chart_table_opens_with_the_keyboard(page, world):
    page.goto("/services/renew")
    page.get_by_role("heading", name="Transactions per week").scroll_into_view_if_needed()

    # Past the KPI tiles' "Embed this", to the first chart's table.
    stops = tab_until(
        page, lambda e: e["tag"] == "summary" and e["name"].startswith("Show the data")
    )
    assert stops[-1]["name"].startswith("Show the data as a table")
    page.keyboard.press("Enter")

    table = page.get_by_role("table", name="Transactions per week")
    expect(table).to_be_visible()
    page.keyboard.press("Tab")
    region = page.evaluate(FOCUSED)
    assert (region["tag"], region["name"], region["visible"]) == (
        "div",
        "Transactions per week: data table",
        True,
    )
    page.keyboard.press("Tab")
    link = page.evaluate(FOCUSED)
    assert (link["href"], link["visible"]) == ("/services/renew/modules/2.csv", True)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(table).to_be_hidden()


def test_sorting_by_a_column_states_the_order(page, world):
    page.goto("/services")
    heading = page.get_by_role("columnheader", name="Digital take-up")
    expect(heading).not_to_have_attribute("aria-sort", "ascending")

    heading.get_by_role("link").click()

    heading = page.get_by_role("columnheader", name="Digital take-up")
    expect(heading).to_have_attribute("aria-sort", "ascending")
    rows = page.locator("tbody th[scope=row]")
    expect(rows).to_have_text(["Book a test", "Book a jab", "Renew a licence"])


# without JavaScript


@desktop_only
def test_filters_sorting_tables_and_comparison_work_without_javascript(
    page_without_javascript, world
):
    page = page_without_javascript
    page.goto("/services")
    page.get_by_label("Service or organisation name").fill("book")
    page.get_by_label("Beta").check()
    page.get_by_role("button", name="Apply filters").click()

    assert "q=book" in page.url and "phase=beta" in page.url
    expect(page.locator("tbody th[scope=row]")).to_have_text(["Book a test"])

    page.get_by_role("link", name="Clear filters").click()
    page.get_by_text("Filter by key performance indicators").click()  # a details element
    page.get_by_label("At least (Digital take-up, %)").fill("50")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("tbody th[scope=row]")).to_have_text(["Book a jab", "Renew a licence"])
    page.get_by_role("link", name="Digital take-up").click()
    page.get_by_role("link", name="Digital take-up").click()
    expect(page.locator("tbody th[scope=row]")).to_have_text(["Renew a licence", "Book a jab"])

    page.get_by_role("link", name="Renew a licence").click()
    page.get_by_text("Show the data as a table: Transactions by channel").click()
    expect(page.get_by_role("table", name="Transactions by channel", exact=True)).to_be_visible()

    page.get_by_role("link", name="Compare Renew a licence with other services").click()
    page.get_by_label("Service 2").select_option(label="Book a jab")
    page.get_by_label("Figures for the latest complete").select_option(label="Quarter")
    page.get_by_role("button", name="Compare").click()
    expect(
        page.get_by_role(
            "heading", level=2, name="Key performance indicators for October to December 2024"
        )
    ).to_be_visible()
    header = page.locator("thead").first
    expect(header).to_contain_text("Renew a licence")
    expect(header).to_contain_text("Book a jab")


@desktop_only
def test_a_newcomer_goes_from_home_to_a_service_a_comparison_an_organisation_and_the_data(
    page, world
):
    page.goto("/")
    page.get_by_label("Search for a service").fill("licence")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Renew a licence").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Renew a licence")
    tile = page.locator(".app-kpi-tile", has_text="Digital take-up")
    expect(tile).to_contain_text("75.0%")
    expect(tile).to_contain_text("Up 25.0 percentage points from December 2024")

    page.get_by_role("link", name="Compare Renew a licence with other services").click()
    page.get_by_label("Service 2").select_option(label="Book a test")
    page.get_by_label("Service 3 (optional)").select_option(label="Book a jab")
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("svg[role=img]")).to_have_count(4)

    page.get_by_role("link", name="Renew a licence").first.click()
    page.get_by_role("link", name="Licensing Agency").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Licensing Agency")

    for name in ("Download these figures as CSV", "Download these figures as JSON"):
        href = page.get_by_role("link", name=name).get_attribute("href")
        response = page.request.get(href)
        assert response.status == 200, href
