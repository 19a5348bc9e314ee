"""The metric catalogue and the support check in chromium: a team checks its planned metrics
(one supported, one with a problem), adds them to the catalogue, connects one to its data set,
uploads a spreadsheet with a mistake, fixes it, commits it, and sees the metric labelled manual.
The upload progress page follows background work with its script. axe checks the check form,
its results, the catalogue and the progress page."""

import pytest
from playwright.sync_api import expect

from browser.axe import assert_accessible
from browser.viewports import desktop_only
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.uploads import services as uploads
from perfplat.uploads.models import Upload
from spreadsheets import csv_file

pytestmark = pytest.mark.browser

PLAN = [
    ["name", "type", "fields", "period", "data_period", "query", "kpi"],
    [
        "Cost per transaction",
        "cost",
        "amount",
        "month",
        "month",
        "period=month&collect=amount:sum",
        "cost-per-transaction",
    ],
    ["Cost by region", "cost", "amount, region", "quarter", "month", "", ""],
]
COSTS = [
    ["Month starting", "Period", "Amount"],
    ["01/01/2024", "month", "£1,200.50"],
    ["01/02/2024", "month", "lots"],
]


@pytest.fixture
def cost(signed_in, world):
    # The signed-in editor works for the Department for Transport, whose service road-tax has
    # a cost data set.
    signed_in.organisation = world.department
    signed_in.save()
    data_set, _ = create_data_set(
        None, "cost", service=world.service, settings=DataSetSettings(standard_type="cost")
    )
    return data_set


def card(page, title):
    return page.locator(".govuk-summary-card").filter(
        has=page.get_by_role("heading", name=title, exact=True)
    )


@desktop_only
def test_a_team_checks_its_metrics_then_uploads_their_data(page, cost, tmp_path, viewport):
    page.goto("/manage/services/road-tax")
    page.get_by_role("link", name="Check the platform can support your metrics").click()
    assert_accessible(page, f"metric-check-{viewport.name}")
    plan = tmp_path / "plan.csv"
    plan.write_bytes(csv_file(PLAN))
    page.get_by_label("Planned metrics").set_input_files(plan)
    page.get_by_role("button", name="Check the file").click()

    # One supported, one with its exact problem; nothing stored yet.
    expect(page).to_have_title("Can the platform support your metrics? - Performance Platform")
    expect(card(page, "Cost per transaction")).to_contain_text("Supported")
    problem = card(page, "Cost by region")
    expect(problem).to_contain_text("Not supported")
    expect(problem.get_by_role("listitem")).to_have_text(
        [
            "missing field: 'region' is not part of the cost type (its fields are period, "
            "amount, channel)"
        ]
    )
    assert_accessible(page, f"metric-check-results-{viewport.name}")

    page.get_by_role("button", name="Add to the metric catalogue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Metric catalogue")
    expect(page.get_by_role("alert")).to_contain_text("2 metrics added to the metric catalogue")
    assert_accessible(page, f"metric-catalogue-{viewport.name}")

    # The supported metric's numbers will come from the cost data set.
    page.get_by_role("link", name="Change Cost per transaction").click()
    page.get_by_label("Data set").select_option("road-tax/cost")
    page.get_by_role("button", name="Save changes").click()
    expect(card(page, "Cost per transaction")).to_contain_text("No data")

    # A spreadsheet with a mistake: the row error, then the corrected file, committed.
    card(page, "Cost per transaction").get_by_role("link", name="road-tax/cost").click()
    page.get_by_role("link", name="Uploads", exact=True).click()
    page.get_by_role("button", name="Upload a spreadsheet").click()
    costs = tmp_path / "costs.csv"
    costs.write_bytes(csv_file(COSTS))
    page.get_by_label("Upload a file").set_input_files(costs)
    page.get_by_role("button", name="Check the file").click()
    errors = page.get_by_role("table", name="Every problem, by row")
    expect(errors.locator("tbody tr td")).to_have_text(
        ["3", "Amount", "lots", "'lots' is not a number"]
    )
    page.get_by_role("button", name="Upload a corrected file").click()
    costs.write_bytes(csv_file([*COSTS[:2], ["01/02/2024", "month", "£1,180"]]))
    page.get_by_label("Upload a file").set_input_files(costs)
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Commit 2 rows").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload committed")

    page.goto("/manage/services/road-tax/metrics")
    expect(card(page, "Cost per transaction").locator(".govuk-tag").first).to_have_text("Manual")
    expect(card(page, "Cost by region").locator(".govuk-tag").first).to_have_text("No data")


def test_the_progress_page_follows_background_work_without_a_timed_reload(
    page, cost, tmp_path, viewport, settings, page_problems
):
    # Every file is large enough to be checked in the background, which no worker runs here.
    settings.PERFPLAT_UPLOAD_BACKGROUND_BYTES = 10
    page.goto(f"/manage/data-sets/{cost.pk}/uploads/new")
    costs = tmp_path / "costs.csv"
    costs.write_bytes(csv_file(COSTS[:2]))
    page.get_by_label("Upload a file").set_input_files(costs)
    page.get_by_role("button", name="Check the file").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Checking costs.csv")
    expect(page.get_by_role("link", name="Check again now")).to_be_visible()
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    assert_accessible(page, f"upload-progress-{viewport.name}")

    # The worker's part, done here: the page's script sees it and shows the preview.
    uploads.check_upload(Upload.objects.get(data_set=cost))
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your spreadsheet")
    expect(page.get_by_role("button", name="Commit 1 row")).to_be_visible()
    assert page_problems == []
