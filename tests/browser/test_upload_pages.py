"""Uploading a spreadsheet in chromium: a mistake is shown by row and column, the corrected
file is checked and committed, and the data set counts its records; axe checks the upload form
and the preview pages at both widths."""

import re

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from perfplat.datasets.services import DataSetSettings, create_data_set
from spreadsheets import csv_file, xlsx

pytestmark = pytest.mark.browser

HEADER = ["Week starting", "Period", "Channel", "Count"]
MISTAKE = [
    HEADER,
    ["01/01/2024", "week", "digital", "1,234"],
    ["01/01/2024", "week", "phone", "many"],
    ["08/01/2024", "week", "digital", "1,300"],
]


def test_upload_a_spreadsheet_fix_its_mistake_and_commit(
    page, signed_in, world, tmp_path, viewport
):
    # The signed-in editor works for the Department for Transport, whose service has the data
    # set.
    signed_in.organisation = world.department
    signed_in.save()
    data_set, _ = create_data_set(
        None,
        "transactions-by-channel",
        service=world.service,
        settings=DataSetSettings(standard_type="transactions-by-channel"),
    )
    uploads = f"/manage/data-sets/{data_set.pk}/uploads/"

    page.goto(uploads)
    page.get_by_role("button", name="Upload a spreadsheet").click()
    expect(page).to_have_url(re.compile(r"/uploads/new$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload a spreadsheet")
    assert_accessible(page, f"upload-form-{viewport.name}")

    # A CSV file with a count that is not a number.
    mistake = tmp_path / "transactions.csv"
    mistake.write_bytes(csv_file(MISTAKE))
    page.get_by_label("Upload a file").set_input_files(mistake)
    page.get_by_role("button", name="Check the file").click()
    expect(page).to_have_title("Error: Check your spreadsheet - Performance Platform")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("1 problem in the spreadsheet")
    errors = page.get_by_role("table", name="Every problem, by row")
    expect(errors.locator("tbody tr")).to_have_count(1)
    expect(errors.locator("tbody tr").first.locator("td")).to_have_text(
        ["3", "Count", "many", "'many' is not a whole number"]
    )
    expect(page.get_by_role("button", name=re.compile("Commit"))).to_have_count(0)
    assert_accessible(page, f"upload-preview-errors-{viewport.name}")

    # The corrected file, as a workbook this time.
    page.get_by_role("button", name="Upload a corrected file").click()
    corrected = tmp_path / "transactions.xlsx"
    rows = [row[:3] + [row[3].replace("many", "56")] for row in MISTAKE]
    corrected.write_bytes(xlsx({"Transactions": rows}))
    page.get_by_label("Upload a file").set_input_files(corrected)
    page.get_by_role("button", name="Check the file").click()
    expect(page).to_have_title("Check your spreadsheet - Performance Platform")
    preview = page.get_by_role("table", name="The first rows of the file, as records")
    expect(preview.locator("tbody tr")).to_have_count(3)
    expect(preview.locator("tbody tr").nth(1)).to_contain_text("2024-01-01T00:00:00+00:00")
    expect(preview.locator("tbody tr").nth(1)).to_contain_text("phone")
    assert_accessible(page, f"upload-preview-{viewport.name}")

    page.get_by_role("button", name="Commit 3 rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload committed")
    expect(page.locator("main")).to_contain_text(
        "The data set road-tax/transactions-by-channel now has 3 records."
    )

    # The history has both uploads.
    page.goto(uploads)
    history = page.get_by_role("table", name="Upload history")
    expect(history.locator("tbody tr")).to_have_count(2)
    expect(history.locator("tbody tr").first).to_contain_text("Committed: added 3 records")
    expect(history.locator("tbody tr").nth(1)).to_contain_text("1 row error")
