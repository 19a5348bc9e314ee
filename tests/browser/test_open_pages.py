"""The pages of issue 16 in chromium: axe-core finds nothing on any of them at a desktop width and
at 320 px (screenshots under test-output/screenshots/open-*.png), none is wider than the screen,
no page logs a Content-Security-Policy violation (or any other console error), an iframe of each
embed page loads from another origin while every other page refuses to be framed, and the
embed pages and feedback work without JavaScript.

The platform is tests/public_fixtures.py; now is 10 February 2025.
"""

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.other_origin import PageServer
from browser.viewports import desktop_and_narrowest, desktop_only
from perfplat.accounts.services import create_user
from perfplat.feedback.services import submit_feedback
from perfplat.kpis import services as kpi_services
from perfplat.public import caching
from public_fixtures import NOW, build_public_world, correct_renew

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db, monkeypatch):
    monkeypatch.setattr(kpi_services, "current_time", lambda: NOW)
    caching.cache().clear()
    built = build_public_world()
    built.correction = correct_renew(built)
    yield built
    caching.cache().clear()


NEW_PAGES = {
    "corrections": "/corrections",
    "service-corrections": "/services/renew/corrections",
    "correction": "/corrections/{correction}",
    "module-tiles": "/services/renew/modules/1",
    "module-chart": "/services/renew/modules/3",
    "module-funnel": "/services/renew/modules/5",
    "module-text": "/services/renew/modules/8",
    "embed-tiles": "/embed/services/renew",
    "embed-chart": "/embed/services/renew/modules/2",
    "embed-table": "/embed/services/renew/modules/4",
    "dashboard": "/services/renew",
    "feedback": "/feedback",
    "feedback-dashboard": "/feedback?service=renew&page=/services/renew",
    "feedback-sent": "/feedback/sent?service=renew",
    "accessibility": "/accessibility",
    "privacy": "/privacy",
    "cookies": "/cookies",
    "open-data": "/open-data",
}


def url_of(name: str, world) -> str:
    return NEW_PAGES[name].format(correction=world.correction.pk)


def open_all_details(page):
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")


@desktop_and_narrowest
@pytest.mark.parametrize("name", NEW_PAGES)
def test_the_new_pages_have_no_accessibility_violations_and_fit_the_screen(
    page, viewport, world, page_problems, name
):
    response = page.goto(url_of(name, world))
    assert response.status == 200
    open_all_details(page)

    assert_accessible(page, f"open-{name}-{viewport.name}")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]
    # Content-Security-Policy violations are console errors: there are none.
    assert page_problems == []


@desktop_and_narrowest
def test_feedback_with_errors_has_no_accessibility_violations(page, viewport, world):
    page.goto("/feedback?service=renew")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose yes or no, or tell us what you think"
    )
    assert_accessible(page, f"open-feedback-error-{viewport.name}")


@desktop_and_narrowest
def test_the_feedback_list_in_manage_has_no_accessibility_violations(
    page, viewport, world, live_server, settings
):
    from django.test import Client

    # The page, not two-factor sign-in (tests/browser/test_two_factor.py), is under test here.
    settings.PERFPLAT_TWO_FACTOR_REQUIRED = False

    admin = create_user(None, "admin@example.gov.uk", "platform-admin", password="x" * 12)
    submit_feedback(world.renew, "no", "The costs are hard to find", "/services/renew")
    client = Client()
    client.force_login(admin)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page.goto("/manage/feedback")
    expect(page.get_by_role("table")).to_contain_text("The costs are hard to find")
    assert_accessible(page, f"open-manage-feedback-{viewport.name}")


# no Content-Security-Policy violation anywhere

EXISTING_PAGES = [
    "/",
    "/services",
    "/services?digital_take_up_min=lots",
    "/organisations/transport",
    "/compare?services=renew,book,jab",
    "/manage/sign-in",
]


@desktop_only
def test_no_page_logs_a_content_security_policy_violation(page, world, page_problems):
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    for url in EXISTING_PAGES + [url_of(name, world) for name in NEW_PAGES]:
        # Every sub-resource (the icons too) loads before the next page cancels it.
        page.goto(url, wait_until="networkidle")
        open_all_details(page)
        # GOV.UK Frontend ran (its scripts are files the policy allows).
        if not url.startswith("/embed/"):
            assert "govuk-frontend-supported" in page.evaluate("() => document.body.className")
    assert violations == []
    assert page_problems == []


# framing: embed pages from another origin, every other page refused


def framing_page(urls: list[str]) -> str:
    """A page of another site that frames `urls`."""
    frames = "".join(
        f'<iframe src="{url}" title="frame {i}" width="600" height="400"></iframe>'
        for i, url in enumerate(urls)
    )
    return f"<!DOCTYPE html><html lang='en'><title>Other site</title><body>{frames}</body>"


@desktop_only
def test_embed_pages_load_in_an_iframe_of_another_origin_and_other_pages_are_refused(
    page, world, live_server
):
    # The live server answers on localhost; the other site is 127.0.0.1: another origin.
    base = live_server.url.replace("127.0.0.1", "localhost")
    embeds = [f"{base}/embed/services/renew", f"{base}/embed/services/renew/modules/2"]
    refused = [f"{base}/services/renew", f"{base}/services/renew/modules/2", f"{base}/"]
    refusals = []
    page.on(
        "console",
        lambda message: refusals.append(message.text) if "frame" in message.text else None,
    )
    with PageServer(framing_page(embeds + refused)) as other:
        assert not other.url.startswith(base)
        page.goto(other.url)
        page.wait_for_load_state("load")
        frames = {frame.url: frame for frame in page.frames if frame is not page.main_frame}
        for url, title in zip(
            embeds, ["Key performance indicators", "Transactions per week"], strict=True
        ):
            frame = frames[url]
            expect(frame.locator("h1")).to_have_text(title)
            expect(
                frame.get_by_role("link", name="See the full dashboard of Renew a licence")
            ).to_be_visible()
        # A refused frame shows the browser's error page, never the platform's content.
        shown = [
            frame.evaluate("() => document.body ? document.body.innerText : ''")
            for frame in page.frames
            if frame is not page.main_frame
        ]
        assert sum("Renew a licence" in text for text in shown) == 2
    assert any("frame-ancestors" in text or "X-Frame-Options" in text for text in refusals)


@desktop_only
def test_embed_pages_and_feedback_work_without_javascript(page_without_javascript, world):
    page = page_without_javascript
    page.goto("/embed/services/renew/modules/2")
    page.get_by_text("Show the data as a table").click()
    expect(page.get_by_role("table", name="Transactions per week")).to_be_visible()

    page.goto("/services/renew")
    page.get_by_role("link", name="Tell the Renew a licence team").click()
    page.get_by_label("No").check()
    page.get_by_label("Tell us more").fill("Where are the costs per channel?")
    page.get_by_role("button", name="Send feedback").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Feedback sent")
