"""Browser tests: Debian's chromium, driven by Playwright, against pytest-django's live server.

One browser for the whole session (starting chromium is the slow part); a new context, so fresh
cookies and storage, for every test. Every test using `page` runs at a phone and a desktop width;
a test that is about one width parametrizes `viewport` itself (`indirect=True`).
"""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from browser.viewports import VIEWPORTS

# Playwright's sync API runs an asyncio event loop in the main thread, and Django refuses database
# access from a thread with a running loop. The loop only drives the browser, so it is safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser download cannot work here (no internet): always Debian's chromium,
# kept off the network except for the live server.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium), so browser tests cannot run"
        # scripts/test sets PERFPLAT_REQUIRE_BROWSER=1 under CI, where a skip would hide this.
        if os.environ.get("PERFPLAT_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(params=VIEWPORTS, ids=lambda viewport: viewport.name)
def viewport(request):
    return request.param


def open_page(browser, viewport, live_server, **options):
    context = browser.new_context(viewport=viewport.size, base_url=live_server.url, **options)
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def page(browser, viewport, live_server, transactional_db):
    """A page of a fresh browser context, its relative URLs resolved against the live server.
    The live server answers from another thread, so tests need transactional_db to share data
    with it."""
    page = open_page(browser, viewport, live_server)
    yield page
    page.context.close()


@pytest.fixture
def page_without_javascript(browser, viewport, live_server, transactional_db):
    """Like `page`, with JavaScript off: every page must work without it (SPEC.md section 6)."""
    page = open_page(browser, viewport, live_server, java_script_enabled=False)
    yield page
    page.context.close()


@pytest.fixture(autouse=True)
def _two_factor_required(settings):
    # As in production: admins sign in with a code (see `world` and signing_in.give_code).
    settings.PERFPLAT_TWO_FACTOR_REQUIRED = True


@pytest.fixture
def world(world):
    """The registry's world, with its admins' authenticator apps set up."""
    from two_factor_helpers import enrol

    for admin in (world.platform_admin, world.org_admin, world.other_admin):
        enrol(admin)
    return world


@pytest.fixture
def signed_in(page, live_server, django_user_model):
    """Signs a user in, in the page's browser context, without going through the sign-in page
    (tests of the sign-in page itself are in test_manage.py)."""
    client = Client()
    user = django_user_model.objects.create_user("editor")
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return user


@pytest.fixture
def page_problems(page):
    """What went wrong while the page loaded: JavaScript errors, console errors, and
    sub-resources (styles, scripts, fonts, images) that did not load."""
    problems = []

    def on_console(message):
        if message.type == "error":
            problems.append(f"console: {message.text}")

    def on_response(response):
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.status} for {response.url}")

    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    return problems
