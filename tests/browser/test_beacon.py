"""The journey beacon in chromium: an editor turns it on and reads the snippet (axe-checked),
the privacy page, and pages served from other origins (local HTTP servers) sending the pixel
and a sendBeacon call to the live server: a listed origin moves the counts, an unlisted one
does not."""

import re
import time

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.other_origin import PageServer
from browser.test_collectors import sign_in_as
from browser.viewports import desktop_only, phone_only
from perfplat.beacon import counting
from perfplat.beacon.models import BeaconCount
from perfplat.beacon.services import configure

pytestmark = pytest.mark.browser

# A desktop Chrome's user agent: Playwright's headless chromium says "HeadlessChrome", which
# the beacon counts apart as a bot.
VISITOR = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def service_page(platform: str) -> str:
    """A service's page with the snippet the beacon's page gives: the pixel of "start" and a
    sendBeacon of "done" (here, as the page loads)."""
    return f"""<!DOCTYPE html>
<html lang="en"><head><title>Apply for a permit</title></head>
<body>
<h1>Apply for a permit</h1>
<img src="{platform}/beacon/road-tax/start.gif" alt="" width="1" height="1" referrerpolicy="origin">
<p id="sent">not sent</p>
<script>
document.getElementById("sent").textContent = String(
  navigator.sendBeacon("{platform}/beacon/road-tax", JSON.stringify({{step: "done"}})));
</script>
</body></html>"""


def counts() -> dict:
    return {(row.step, row.kind): row.count for row in BeaconCount.objects.order_by("step", "kind")}


def wait_for_counts(expected: dict, seconds: float = 10) -> dict:
    """Flush the live server's tally (the same process) until the counts are as expected."""
    deadline = time.monotonic() + seconds
    while True:
        counting.flusher.flush()
        found = counts()
        if found == expected or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.fixture
def pages(live_server):
    listed = PageServer(service_page(live_server.url))
    unlisted = PageServer(service_page(live_server.url))
    yield listed, unlisted
    listed.close()
    unlisted.close()


def test_a_page_on_a_listed_origin_moves_the_counts_and_an_unlisted_one_does_not(
    browser, live_server, transactional_db, world, pages
):
    listed, unlisted = pages
    configure(None, world.service, ["start", "details", "done"], [listed.origin])
    context = browser.new_context(user_agent=VISITOR)
    page = context.new_page()

    page.goto(f"{listed.origin}/apply")
    expect(page.locator("#sent")).to_have_text("true")
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply for a permit")
    expected = {("done", "counted"): 1, ("start", "counted"): 1}
    assert wait_for_counts(expected) == expected

    page.goto(f"{unlisted.origin}/apply")
    # The browser sends both (sendBeacon's text/plain needs no preflight), and the platform
    # answers as usual, but counts them as rejected.
    expect(page.locator("#sent")).to_have_text("true")
    expected |= {("", "unlisted-origin"): 2}
    assert wait_for_counts(expected) == expected
    context.close()

    # Headless chromium as it is: a program that says so, counted apart.
    robot = browser.new_context()
    robot.new_page().goto(f"{listed.origin}/apply")
    expected |= {("done", "bot"): 1, ("start", "bot"): 1}
    assert wait_for_counts(expected) == expected
    robot.close()

    beacon_days = world.service.beacon.data_set.record_set.all()
    assert [(r.data["started"], r.data["completed"]) for r in beacon_days] == [(1, 1)]


@desktop_only
def test_an_editor_turns_the_beacon_on_and_reads_the_snippet(page, live_server, world):
    sign_in_as(page, live_server, world.editor)
    page.goto("/manage/services/road-tax")
    page.get_by_role("link", name=re.compile("^Journey beacon")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Journey beacon")
    assert_accessible(page, "beacon-off-desktop")

    page.get_by_label("Steps of the journey").fill("start\ndetails\ndone")
    page.get_by_role("button", name="Turn on the beacon").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter where your pages are served from")
    assert_accessible(page, "beacon-error-desktop")

    page.get_by_label("Where your pages are served from").fill("https://www.example.gov.uk")
    page.get_by_role("button", name="Turn on the beacon").click()
    expect(page.get_by_role("alert")).to_contain_text("The journey beacon is on")
    pixels = page.get_by_label("Images for each step")
    expect(pixels).to_contain_text(
        f'<img src="{live_server.url}/beacon/road-tax/details.gif" alt="" width="1" '
        'height="1" referrerpolicy="origin">'
    )
    expect(page.get_by_label("The sendBeacon call")).to_have_text(
        f'navigator.sendBeacon("{live_server.url}/beacon/road-tax", '
        'JSON.stringify({step: "start"}))'
    )
    table = page.get_by_role("table", name=re.compile("^Events in the last 7 days"))
    expect(table.get_by_role("row")).to_have_count(7)
    assert_accessible(page, "beacon-on-desktop")

    page.get_by_role("link", name="what the beacon stores").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The journey beacon and your privacy")
    assert_accessible(page, "beacon-privacy-desktop")


@phone_only
def test_the_beacon_page_fits_a_phone(page, live_server, world):
    configure(None, world.service, ["start", "check-your-answers", "done"], ["https://a.example"])
    sign_in_as(page, live_server, world.editor)
    page.goto("/manage/services/road-tax/beacon")
    expect(page.get_by_label("Images for each step")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(page, "beacon-on-phone")
