"""Declared fields in chromium: a CSV of numbers uploaded into a free-form data set proposes its
fields (shown with the preview), and the team checks and confirms them on the data set's page,
correcting a mistake on the way; axe checks every page at both widths."""

import re

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from perfplat.datasets.models import DataSet
from perfplat.datasets.services import DataSetSettings, create_data_set
from spreadsheets import csv_file

pytestmark = pytest.mark.browser

ROWS = [
    ["Date", "Channel", "Count"],
    ["01/01/2024", "digital", "1,200"],
    ["01/01/2024", "phone", "300"],
    ["08/01/2024", "digital", "1,000"],
]


def test_confirm_the_fields_proposed_by_a_first_upload(page, signed_in, world, tmp_path, viewport):
    signed_in.organisation = world.department
    signed_in.save()
    data_set, _ = create_data_set(
        None,
        "visits",
        service=world.service,
        settings=DataSetSettings(auto_ids=("_timestamp", "channel")),
    )

    # The first upload: its columns' types are proposed, and shown before the commit.
    page.goto(f"/manage/data-sets/{data_set.pk}/uploads/new")
    path = tmp_path / "visits.csv"
    path.write_bytes(csv_file(ROWS))
    page.get_by_label("Upload a file").set_input_files(path)
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_role("heading", name="New fields")).to_be_visible()
    expect(page.locator("main li")).to_have_text(
        ["channel: text, in every row", "count: whole number, in every row"]
    )
    assert_accessible(page, f"fields-upload-preview-{viewport.name}")
    page.get_by_role("button", name="Commit 3 rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload committed")

    # The data set's page: the fields are proposed, waiting for the team.
    page.goto(f"/manage/data-sets/{data_set.pk}")
    fields = page.get_by_role("table", name="Declared fields")
    expect(fields.locator("tbody tr")).to_have_count(2)
    expect(fields.locator("tbody tr").nth(1).locator("td")).to_have_text(
        ["count", "Whole number", "Yes", "", "Proposed"]
    )
    expect(page.locator(".govuk-inset-text")).to_contain_text("2 fields were proposed")
    assert_accessible(page, f"fields-data-set-proposed-{viewport.name}")
    page.get_by_role("button", name="Check and confirm the fields").click()
    expect(page).to_have_title("Check and confirm the fields - Performance Platform")
    assert_accessible(page, f"fields-form-{viewport.name}")

    # A mistake first: allowed values for a number.
    count = page.get_by_role("group", name=re.compile(r"^count"))
    expect(count.get_by_label("Type")).to_have_value("whole-number")
    count.get_by_label("Allowed values").fill("1, 2")
    page.get_by_role("button", name="Confirm the fields").click()
    expect(page).to_have_title("Error: Check and confirm the fields - Performance Platform")
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Only text fields can have allowed values, and 'count' is a whole number"
    )
    assert_accessible(page, f"fields-form-error-{viewport.name}")

    # Corrected: the channels are limited, and the count stays a required whole number.
    count = page.get_by_role("group", name=re.compile(r"^count"))
    count.get_by_label("Allowed values").fill("")
    channel = page.get_by_role("group", name=re.compile(r"^channel"))
    channel.get_by_label("Allowed values").fill("digital, phone")
    page.get_by_role("button", name="Confirm the fields").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Fields confirmed: every write is now checked against them"
    )
    fields = page.get_by_role("table", name="Declared fields")
    expect(fields.locator("tbody tr").first.locator("td")).to_have_text(
        ["channel", "Text", "Yes", "digital, phone", "Confirmed"]
    )
    expect(page.locator(".govuk-inset-text")).to_have_count(0)
    assert_accessible(page, f"fields-data-set-confirmed-{viewport.name}")
    assert [
        (d["name"], d["allowed_values"], d["confirmed"])
        for d in DataSet.objects.get(pk=data_set.pk).field_declarations
    ] == [("channel", ["digital", "phone"], True), ("count", [], True)]
