"""Collectors in chromium: an editor adds a collector to a data set, runs it now, and reads its
run history; axe-core checks each page on the way."""

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.viewports import desktop_only
from collector_fixtures import GOOD_CSV
from perfplat.datasets.models import Record

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("collecting")]


def sign_in_as(page, live_server, user):
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@desktop_only
def test_an_editor_adds_a_collector_runs_it_and_reads_its_history(
    page, live_server, world, typed, source
):
    url = source.answer(body=GOOD_CSV)
    sign_in_as(page, live_server, world.editor)

    page.goto(f"/manage/data-sets/{typed.pk}")
    expect(page.get_by_role("heading", name="Freshness and collectors")).to_be_visible()
    page.get_by_role("link", name="Collectors").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Collectors")
    assert_accessible(page, "collectors-list-desktop")

    page.get_by_role("button", name="Add a collector").click()
    expect(page).to_have_title("Add a collector - Performance Platform")
    page.get_by_label("Name").fill("Weekly export")
    page.get_by_label("Web address (URL) of the file").fill(url)
    page.get_by_label("CSV").check()
    page.get_by_label("How often to collect").select_option(label="Every hour")
    page.get_by_label("Columns and fields").fill("Transactions = count")
    assert_accessible(page, "collectors-new-desktop")
    page.get_by_role("button", name="Add collector").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Weekly export")
    expect(page.get_by_role("alert")).to_contain_text("Collector “Weekly export” added")
    expect(page.get_by_text("The collector has not run yet.")).to_be_visible()
    assert_accessible(page, "collector-desktop")

    page.get_by_role("button", name="Run now").click()
    expect(page).to_have_url(re.compile(r"/collectors/\d+/runs/\d+$"))
    expect(page.get_by_role("alert")).to_contain_text("Collected 3 records")
    expect(page.get_by_text("Records written")).to_be_visible()
    assert_accessible(page, "collector-run-desktop")
    assert Record.objects.filter(data_set=typed).count() == 3

    page.get_by_role("link", name="Back to the collector").click()
    history = page.get_by_role("table", name="Runs, newest first")
    expect(history.get_by_role("row")).to_have_count(2)
    expect(history.get_by_role("row").nth(1)).to_contain_text("Run now")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Succeeded")
    assert_accessible(page, "collector-history-desktop")

    page.get_by_role("button", name=re.compile("^Dry run")).click()
    expect(page.get_by_text("This was a dry run: nothing was written.")).to_be_visible()
    assert_accessible(page, "collector-dry-run-desktop")


@desktop_only
def test_the_emails_page_is_accessible(page, live_server, world, typed):
    from datetime import UTC, datetime, timedelta

    from perfplat.datasets.models import DataSet
    from perfplat.notifications.services import check_freshness

    DataSet.objects.filter(pk=typed.pk).update(last_write_at=datetime.now(UTC) - timedelta(days=1))
    check_freshness()
    sign_in_as(page, live_server, world.editor)
    page.goto("/manage/notifications")
    expect(page.get_by_role("heading", level=2)).to_have_text(
        "Data set road-tax/transactions-by-channel is out of date"
    )
    page.get_by_text("Read the email").click()
    expect(page.get_by_text("No data has reached the data set")).to_be_visible()
    assert_accessible(page, "notifications-desktop")
