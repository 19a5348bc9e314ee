"""The public pages (perfplat.public) through the Django test client: each page type and its JSON
and CSV twins, the services list's filters and sorting, the dashboard's published content only,
"not enough data", freshness, 404s, escaping, caching (ETag, Cache-Control, a write invalidates).

The platform is tests/public_fixtures.py; now is 10 February 2025, so figures are for January.
"""

import csv
import io
import re

import pytest
from django.urls import URLPattern, get_resolver

from helpers import body
from perfplat.dashboards.services import (
    publish,
    publish_directly,
    save_draft,
    start_draft,
    submit,
)
from perfplat.datasets.models import DataSet, WriteBatch
from perfplat.datasets.periods import parse_datetime
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.kpis import services as kpi_services
from perfplat.public import caching
from perfplat.registry.services import create_service, update_service
from public_fixtures import NOW, build_public_world, channels, correct_renew, data_set, day, week

HTML = "text/html,application/xhtml+xml"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(kpi_services, "current_time", lambda: NOW)


@pytest.fixture(autouse=True)
def empty_cache():
    caching.cache().clear()
    yield
    caching.cache().clear()


@pytest.fixture
def world(db):
    return build_public_world()


def page(client, url, status=200, **headers):
    response = client.get(url, HTTP_ACCEPT=HTML, **headers)
    assert response.status_code == status, response.content[:2000]
    return response.content.decode()


def data(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.content[:2000]
    return response


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def text_of(html: str) -> str:
    """The page's text, tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def table_services(html: str) -> list[str]:
    """The services of the /services table, in order."""
    body_ = html.split('<tbody class="govuk-table__body">', 1)[1].split("</tbody>", 1)[0]
    return re.findall(
        r'<th scope="row" class="govuk-table__header"><a class="govuk-link" '
        r'href="/services/([a-z0-9-]+)">',
        body_,
    )


# the overview


def test_home_page_shows_headline_figures_search_and_services_by_organisation(client, world):
    html = page(client, "/")

    text = text_of(html)
    assert "<title>Performance Platform</title>" in html
    # Across government, January 2025: digital take-up (300 + 10 + 50) / (400 + 100 + 100).
    assert "The key performance indicators of all 3 services, added up, for January 2025" in text
    assert "Digital take-up 60.0% January 2025" in text
    assert '<form action="/services" method="get" role="search"' in html
    assert '<input class="govuk-input govuk-!-width-two-thirds" id="search" name="q"' in html
    # Services grouped by their department; an agency's service names its agency.
    groups = re.findall(
        r'<h3 class="govuk-heading-m"><a class="govuk-link" '
        r'href="/organisations/([a-z-]+)">',
        html,
    )
    assert groups == ["transport", "health"]
    assert (
        'href="/services/renew">Renew a licence</a> <span class="govuk-body-s">'
        "(Licensing Agency)</span>" in html
    )
    for hidden in ("secret", "pothole"):
        assert f"/services/{hidden}" not in html


def test_home_page_twins_give_the_headline_figures(client, world):
    payload = body(data(client, "/index.json"))
    assert payload["headline"]["start_at"] == "2025-01-01T00:00:00+00:00"
    assert payload["headline"]["kpis"]["digital_take_up"]["value"] == 0.6
    assert payload["service_count"] == 3
    assert [g["organisation"]["slug"] for g in payload["organisations"]] == ["transport", "health"]
    assert [s["slug"] for s in payload["organisations"][0]["services"]] == ["book", "renew"]

    rows = csv_rows(data(client, "/index.csv"))
    take_up = next(r for r in rows if r["kpi"] == "digital_take_up" and not r["channel"])
    assert (take_up["subject"], take_up["value"], take_up["numerator"]) == (
        "government",
        "0.6",
        "360",
    )


@pytest.mark.parametrize(
    ("page_data", "api"),
    [
        ("/index.json", "/api/kpis"),
        ("/index.json?period=quarter", "/api/kpis?period=quarter"),
        ("/organisations/transport.json", "/api/organisations/transport/kpis"),
        (
            "/organisations/health.json?period=rolling-year",
            "/api/organisations/health/kpis?period=rolling-year",
        ),
    ],
)
def test_roll_ups_are_those_of_the_kpi_api(client, world, page_data, api):
    payload = body(data(client, page_data))
    expected = body(data(client, api))["periods"][-1]
    assert payload.get("headline", (payload.get("periods") or [None])[-1]) == expected


# the services list


def test_services_list_shows_each_public_service_with_phase_and_kpis(client, world):
    html = page(client, "/services")

    assert table_services(html) == ["jab", "book", "renew"]
    text = text_of(html)
    assert "3 services publish their performance" in text
    assert "Renew a licence Licensing Agency Live £2.00 80.0% 80.0% 75.0%" in text
    assert (
        "Book a test Department for Transport Beta Not enough data Not enough data "
        "Not enough data 10.0%"
    ) in text
    assert '<strong class="govuk-tag">Beta</strong>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("organisation=transport", ["book", "renew"]),  # a department includes its agencies
        ("organisation=licensing", ["renew"]),
        ("phase=beta", ["book"]),
        ("phase=beta&phase=live", ["jab", "book", "renew"]),
        ("q=licensing", ["renew"]),  # the organisation's name
        ("q=BOOK", ["jab", "book"]),
        ("q=DfT", ["book", "renew"]),  # an abbreviation
        ("digital_take_up_min=50", ["jab", "renew"]),
        ("digital_take_up_max=50", ["jab", "book"]),
        ("digital_take_up_min=50&digital_take_up_max=50", ["jab"]),
        # Services without enough data for a KPI filtered by are left out.
        ("cost_per_transaction_max=£5", ["renew"]),
        ("user_satisfaction_min=79%", ["renew"]),
        ("sort=digital_take_up&order=desc", ["renew", "jab", "book"]),
        ("sort=digital_take_up&order=asc", ["book", "jab", "renew"]),
        ("sort=organisation", ["book", "jab", "renew"]),
        ("sort=phase&order=desc", ["jab", "renew", "book"]),
        # Not enough data sorts last, whichever the order.
        ("sort=cost_per_transaction&order=asc", ["renew", "jab", "book"]),
        ("sort=cost_per_transaction&order=desc", ["renew", "jab", "book"]),
    ],
)
def test_services_list_filters_and_sorts_and_its_twins_give_exactly_that_list(
    client, world, query, expected
):
    assert table_services(page(client, f"/services?{query}")) == expected
    payload = body(data(client, f"/services.json?{query}"))
    assert [row["service"]["slug"] for row in payload["services"]] == expected
    assert payload["count"] == len(expected)
    assert [row["slug"] for row in csv_rows(data(client, f"/services.csv?{query}"))] == expected


def test_services_list_twins_hold_each_kpi_and_why_it_is_missing(client, world):
    rows = {row["slug"]: row for row in csv_rows(data(client, "/services.csv"))}

    assert list(rows["renew"])[:8] == [
        "slug",
        "name",
        "organisation",
        "organisation_name",
        "phase",
        "period",
        "start_at",
        "end_at",
    ]
    assert rows["renew"]["cost_per_transaction"] == "2.00"
    assert rows["renew"]["digital_take_up"] == "0.75"
    # (0 x 1 + 0.25 x 1 + 0.5 x 2 + 0.75 x 6 + 1 x 10) / 20 responses
    assert rows["renew"]["user_satisfaction_score"] == "0.7875"
    assert rows["book"]["cost_per_transaction"] == ""
    assert rows["book"]["cost_per_transaction_not_enough_data"] == "no published cost data"
    assert rows["book"]["start_at"] == "2025-01-01T00:00:00+00:00"


def test_sorted_column_states_its_order_for_assistive_technology(client, world):
    html = page(client, "/services?sort=digital_take_up&order=desc&phase=live")

    heading = re.search(r'<th scope="col"[^>]*aria-sort="descending"[^>]*>(.*?)</th>', html)
    assert heading is not None
    assert "Digital take-up" in heading.group(1)
    # Its link sorts the other way, keeping the filters.
    assert 'href="?sort=digital_take_up&amp;order=asc&amp;phase=live"' in heading.group(1)
    assert html.count("aria-sort=") == 1


def test_an_invalid_filter_is_shown_in_the_error_summary_and_left_out(client, world):
    html = page(client, "/services?digital_take_up_min=lots&phase=beta")

    assert "<title>Error: Services - Performance Platform</title>" in html
    assert (
        '<a href="#id_digital_take_up_min">Enter digital take-up at least as a number of per '
        "cent, like 75</a>"
    ) in html
    assert table_services(html) == ["book"]
    response = data(client, "/services.json?digital_take_up_min=lots", status=400)
    assert body(response)["message"] == (
        "Enter digital take-up at least as a number of per cent, like 75"
    )


def test_a_range_whose_most_is_below_its_least_is_refused(client, world):
    html = page(client, "/services?completion_rate_min=80&completion_rate_max=20")

    assert "Completion rate at most must be the same as or more than at least" in html
    assert table_services(html) == ["renew"]


# a service's dashboard


def test_dashboard_shows_the_four_kpi_tiles_with_their_changes(client, world):
    text = text_of(page(client, "/services/renew"))

    assert (
        "Cost per transaction £2.00 January 2025 Down £0.50 (20.0%) from December 2024 "
        "Not enough data to compare with January 2024"
    ) in text
    assert (
        "User satisfaction 80.0% Satisfaction score: 78.8% January 2025 "
        "Up 40.0 percentage points from December 2024"
    ) in text
    assert "Completion rate 80.0% January 2025 Up 30.0 percentage points from December 2024" in text
    assert "Digital take-up 75.0% January 2025 Up 25.0 percentage points from December 2024" in text


def test_dashboard_says_how_each_figure_was_made_and_the_rule(client, world):
    text = text_of(page(client, "/services/renew"))
    assert "a record whose days cross into the next period is shared between the two" in text
    assert (
        "Cost per transaction (January 2025): cost: monthly data; transactions: daily data, "
        "covering 1 to 31 January 2025."
    ) in text


def test_dashboard_by_week_shows_the_latest_complete_week(client, world):
    # renew's daily data ends on Friday 31 January: the week to 2 February is not complete.
    text = text_of(page(client, "/services/renew?period=week"))
    # 20 January: 100 digital, 50 phone.
    assert "Digital take-up 66.7% 20 to 26 January 2025" in text
    kpis = body(data(client, "/services/renew.json?period=week"))["kpis"]
    assert (kpis["start_at"], kpis["complete"]) == ("2025-01-20T00:00:00+00:00", True)
    assert kpis["kpis"]["cost_per_transaction"]["made_from"] == (
        "cost: monthly data shared between weeks by day; transactions: daily data"
    )


def with_baseline(world, baseline: str) -> None:
    draft = start_draft(None, world.renew)
    save_draft(None, draft, {**draft.content, "baseline": baseline})
    submit(None, draft)
    publish(None, draft)


def test_dashboard_gives_the_kpis_over_the_baseline_and_the_change_since(client, world):
    with_baseline(world, "2024-12-01/2024-12-31")
    text = text_of(page(client, "/services/renew"))
    assert (
        "The key performance indicators over the baseline period (1 to 31 December 2024) and "
        "for January 2025"
    ) in text
    assert (
        "Cost per transaction £2.50 £2.00 Down £0.50 (20.0%) from 1 to 31 December 2024"
    ) in text
    assert (
        "Digital take-up 50.0% 75.0% Up 25.0 percentage points from 1 to 31 December 2024"
    ) in text
    baseline = body(data(client, "/services/renew.json"))["baseline"]
    assert (baseline["first_day"], baseline["last_day"], baseline["complete"]) == (
        "2024-12-01",
        "2024-12-31",
        True,
    )
    assert baseline["compared_with"] == {
        "start_at": "2025-01-01T00:00:00+00:00",
        "end_at": "2025-02-01T00:00:00+00:00",
    }
    take_up = baseline["kpis"]["digital_take_up"]
    assert (take_up["value"], take_up["numerator"], take_up["denominator"]) == (0.5, 200, 400)
    assert take_up["change_since"] == {
        "absolute": 0.25,
        "relative": 0.5,
        "not_enough_data": None,
    }
    cost = baseline["kpis"]["cost_per_transaction"]
    assert (cost["value"], cost["change_since"]["absolute"]) == (2.5, -0.5)


def test_a_baseline_without_data_for_every_day_says_which_are_missing(client, world):
    with_baseline(world, "2024-11-25/2024-12-31")
    baseline = body(data(client, "/services/renew.json"))["baseline"]
    take_up = baseline["kpis"]["digital_take_up"]
    assert take_up["value"] is None
    assert take_up["not_enough_data"] == (
        "transactions-by-channel data is missing for 6 days of the 37 (25 to 30 November 2024)"
    )
    assert take_up["change_since"]["not_enough_data"] == "not enough data in the earlier period"
    assert "Not enough data to compare" in text_of(page(client, "/services/renew"))


def test_a_dashboard_without_a_baseline_has_none(client, world):
    assert body(data(client, "/services/renew.json"))["baseline"] is None
    assert "Since the baseline" not in page(client, "/services/renew")


def test_dashboard_shows_the_published_modules_in_order_with_charts_tables_and_downloads(
    client, world
):
    html = page(client, "/services/renew")

    headings = re.findall(
        r'<h2 class="govuk-heading-m" id="module-(\d+)-heading">'
        r'<span class="govuk-caption-m app-module__number">Module \d+</span>([^<]*)</h2>',
        html,
    )
    assert headings == [
        ("2", "Transactions per week"),
        ("3", "Transactions by channel"),
        ("4", "Transactions by channel per quarter"),
        ("5", "Completion over the last 12 weeks"),
        ("6", "User satisfaction over the last 12 weeks"),
        ("7", "Cost per month"),
        ("8", "About this data"),
    ]
    # Each chart is an SVG image named by its title and description, with its table and links.
    for number in (2, 3, 5, 6, 7):
        assert f'aria-labelledby="module-{number}-chart-title module-{number}-chart-desc"' in html
        assert f'href="/services/renew/modules/{number}.csv"' in html
        assert f'href="/services/renew/modules/{number}.json"' in html
    assert html.count("Show the data as a table") == 5
    # The KPI tiles and each module offer their embed code.
    assert html.count("Embed this") == 8
    # The table module is a table without a chart.
    assert 'aria-labelledby="module-4-chart-title' not in html
    assert "Started 600" in text_of(html)  # the funnel's table: 100 + 500 journeys started


def test_dashboard_shows_audience_usage_rationale_source_and_freshness(client, world):
    html = page(client, "/services/renew")
    text = text_of(html)

    assert "Who uses the service Drivers renewing their licence every 10 years" in text
    assert "How the team uses this dashboard The team reviews it every week." in text
    assert "Why it is measured Shows demand for the service." in text
    assert "Why it is measured Shows whether the service gets cheaper to run." in text
    assert "Source Automatic (sent by the service's systems)" in text.replace("&#x27;", "'")
    assert "Appointments booked" not in text  # planned, with no published data
    assert "Data last updated" in text
    assert "Out of date" not in text
    for link in ("/services/renew.csv", "/services/renew.json", "/api/services/renew/kpis"):
        assert f'href="{link}' in html


def test_stale_data_is_flagged(client, world):
    DataSet.objects.filter(pk=world.renew_cost.pk).update(
        last_write_at=world.renew_cost.created_at.replace(year=2025, month=1, day=1),
        max_age_expected=86400,
    )

    html = page(client, "/services/renew")

    assert "Some of this data is out of date" in html
    assert "renew/cost" in html
    assert html.count('<strong class="govuk-tag govuk-tag--red">Out of date</strong>') == 3
    assert "1 January 2025 at" in html
    payload = body(data(client, "/services/renew.json"))
    stale = {d["data_set"]: d["stale"] for d in payload["data_sets"]}
    assert stale["renew/cost"] is True
    assert stale["renew/transactions-by-channel"] is False


def test_a_kpi_without_enough_data_says_so_and_never_shows_zero(client, world):
    html = page(client, "/services/book")
    text = text_of(html)

    assert "Cost per transaction Not enough data Why: no published cost data." in text
    assert "£0.00" not in text
    assert "Completion rate Not enough data Why: no published completion data." in text
    payload = body(data(client, "/services/book.json"))
    cost = payload["kpis"]["kpis"]["cost_per_transaction"]
    assert (cost["value"], cost["not_enough_data"]) == (None, "no published cost data")


def test_a_draft_edit_never_appears_on_the_dashboard(client, world):
    before = page(client, "/services/renew")
    draft = start_draft(None, world.renew)
    content = dict(draft.content)
    content["audience"] = "A DRAFT AUDIENCE"
    content["modules"] = [{"kind": "text", "title": "A draft module", "text": "Not published yet"}]
    save_draft(None, draft, content)
    submit(None, draft)  # in review: still not published

    after = page(client, "/services/renew")
    assert "A DRAFT AUDIENCE" not in after
    assert "A draft module" not in after
    assert text_of(after) == text_of(before)
    assert "A draft module" not in data(client, "/services/renew.json").content.decode()

    publish(None, draft)
    published = page(client, "/services/renew")
    assert "A DRAFT AUDIENCE" in published and "A draft module" in published


def test_module_twins_hold_the_rows_of_the_chart_table(client, world):
    rows = csv_rows(data(client, "/services/renew/modules/5.csv"))
    assert rows == [
        {"stage": "Started", "count": "600", "share_of_first_stage": "1.0"},
        {"stage": "Completed", "count": "450", "share_of_first_stage": "0.75"},
    ]
    payload = body(data(client, "/services/renew/modules/6.json"))
    assert payload["title"] == "User satisfaction over the last 12 weeks"
    assert [(r["rating"], r["responses"]) for r in payload["rows"]] == [
        ("Very dissatisfied", 3),
        ("Dissatisfied", 3),
        ("Neither satisfied nor dissatisfied", 4),
        ("Satisfied", 8),
        ("Very satisfied", 12),
    ]
    grouped = body(data(client, "/services/renew/modules/3.json"))
    january = next(r for r in grouped["rows"] if r["_start_at"].startswith("2025-01"))
    assert (january["digital"], january["phone"]) == (300, 100)
    html = page(client, "/services/renew")
    assert "January 2025 300 100" in text_of(html)


def test_each_module_download_address_is_stable_and_others_are_404(client, world):
    data(client, "/services/renew/modules/2.json")
    # Module 1 is the KPI tiles: their figures.
    assert body(data(client, "/services/renew/modules/1.json"))["kind"] == "kpis"
    data(client, "/services/renew/modules/8.csv", status=404)  # text
    data(client, "/services/renew/modules/99.csv", status=404)
    data(client, "/services/secret/modules/2.csv", status=404)


def test_dashboard_twins_match_the_kpi_api(client, world):
    payload = body(data(client, "/services/renew.json"))
    api = body(data(client, "/api/services/renew/kpis"))

    assert payload["kpis"] == api["periods"][-1]
    assert payload["dashboard"]["audience"] == "Drivers renewing their licence every 10 years"
    assert [m["number"] for m in payload["modules"]] == list(range(1, 9))
    rows = csv_rows(data(client, "/services/renew.csv"))
    assert {r["kpi"] for r in rows} >= {"cost_per_transaction", "digital_take_up"}
    assert {r["start_at"] for r in rows} == {"2025-01-01T00:00:00+00:00"}


@pytest.mark.parametrize(
    "url",
    [
        "/services/nope",
        "/services/secret",  # no published dashboard
        "/services/pothole",  # a draft only
        "/organisations/nope",
        "/organisations/culture",  # no public service
    ],
)
def test_what_is_not_public_is_the_govuk_not_found_page(client, world, url):
    html = page(client, url, status=404)
    assert "<title>Page not found - Performance Platform</title>" in html
    assert body(data(client, f"{url}.json", status=404))["status"] == "error"


def test_unpublishing_takes_the_dashboard_down(client, world):
    from perfplat.dashboards.services import unpublish

    page(client, "/services/book")
    unpublish(None, world.book)

    page(client, "/services/book", status=404)
    assert "book" not in [r["slug"] for r in csv_rows(data(client, "/services.csv"))]


def test_csv_twins_neutralise_text_a_spreadsheet_would_run(client, world):
    update_service(None, world.renew, name='=HYPERLINK("http://evil","Renew")')
    listed = {row["slug"]: row for row in csv_rows(data(client, "/services.csv"))}
    assert listed["renew"]["name"] == '\'=HYPERLINK("http://evil","Renew")'


def test_user_text_is_escaped_everywhere(client, world):
    update_service(None, world.renew, name='<script>alert("name")</script>')
    draft = start_draft(None, world.renew)
    content = dict(draft.content)
    content["audience"] = "<b>bold</b>"
    content["modules"] = [dict(m) for m in content["modules"]]
    content["modules"][1]["title"] = "<img src=x onerror=alert(1)>"
    content["modules"][7]["text"] = "<script>evil()</script>"
    save_draft(None, draft, content)
    publish(None, submit(None, draft))

    for url in ("/services/renew", "/services", "/", "/organisations/licensing"):
        html = page(client, url)
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;" in html
    html = page(client, "/services/renew")
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>evil" not in html and "&lt;script&gt;evil()&lt;/script&gt;" in html
    compare = page(client, "/compare?services=renew,%3Cscript%3Ex")
    assert "<script>x" not in compare and "&lt;script&gt;x" in compare


# an organisation


def test_organisation_page_adds_up_its_services_and_its_bodies(client, world):
    html = page(client, "/organisations/transport")
    text = text_of(html)

    # renew (licensing) and book (transport): (300 + 10) / (400 + 100) digital.
    assert "Digital take-up 62.0% January 2025" in text
    # Cost: only renew has both sides, so 800 / 400.
    assert "Cost per transaction £2.00" in text
    assert "Bodies under Department for Transport Licensing Agency (1 service)" in text
    assert 'href="/services/renew"' in html and 'href="/services/book"' in html
    assert 'href="/services/pothole"' not in html

    payload = body(data(client, "/organisations/transport.json"))
    take_up = payload["periods"][-1]["kpis"]["digital_take_up"]
    assert (take_up["numerator"], take_up["denominator"]) == (310, 500)
    assert [s["service"]["slug"] for s in payload["services"]] == ["book", "renew"]
    assert payload["children"] == [
        {
            "organisation": {"slug": "licensing", "name": "Licensing Agency", "abbreviation": "LA"},
            "services": 1,
        }
    ]
    rows = csv_rows(data(client, "/organisations/transport.csv"))
    assert {r["subject"] for r in rows} == {"organisation", "service"}


def test_an_agency_page_links_back_to_its_department(client, world):
    html = page(client, "/organisations/licensing")
    assert '<a class="govuk-breadcrumbs__link" href="/organisations/transport">' in html
    assert "Agency of Department for Transport" in text_of(html)


# comparing services


def test_compare_shows_the_kpis_side_by_side_for_the_same_periods(client, world):
    html = page(client, "/compare?services=renew,book,jab")
    text = text_of(html)

    assert "Key performance indicators for January 2025" in text
    assert "Digital take-up 75.0% Up 25.0 percentage points from December 2024 10.0%" in text
    assert "Cost per transaction £2.00" in text
    assert text.count("Not enough data") >= 2
    assert 'aria-labelledby="compare-digital-take-up-title compare-digital-take-up-desc"' in html
    assert 'href="/compare.csv?services=renew%2Cbook%2Cjab&amp;kpi=digital_take_up"' in html

    payload = body(data(client, "/compare.json?services=renew,book,jab"))
    assert [s["service"]["slug"] for s in payload["services"]] == ["renew", "book", "jab"]
    assert len(payload["periods"]) == 12
    assert payload["periods"][-1]["start_at"] == "2025-01-01T00:00:00+00:00"
    january = [s["periods"][-1]["kpis"]["digital_take_up"]["value"] for s in payload["services"]]
    assert january == [0.75, 0.1, 0.5]
    rows = csv_rows(data(client, "/compare.csv?services=renew,jab&kpi=digital_take_up"))
    assert {(r["slug"], r["start_at"][:7], r["value"]) for r in rows} == {
        ("renew", "2024-12", "0.5"),
        ("renew", "2025-01", "0.75"),
        ("jab", "2025-01", "0.5"),
    }


def test_compare_also_takes_each_service_as_its_own_parameter(client, world):
    payload = body(data(client, "/compare.json?services=jab&services=renew&services="))
    assert [s["service"]["slug"] for s in payload["services"]] == ["jab", "renew"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("services=renew,nope", "There is no published service called ‘nope’"),
        ("services=renew,secret", "There is no published service called ‘secret’"),
        ("services=a,b,c,d,e,f", "Compare up to 5 services at a time: you chose 6"),
    ],
)
def test_compare_explains_unknown_or_too_many_services(client, world, query, message):
    html = page(client, f"/compare?{query}")
    assert "<title>Error: Compare services - Performance Platform</title>" in html
    assert f'<li><a href="#services-1">{message}</a></li>' in html
    assert message in body(data(client, f"/compare.json?{query}", status=400))["messages"]


# caching


@pytest.fixture
def counted_queries(monkeypatch):
    """How many read pipeline queries the pages run (the KPI sums and the modules)."""
    from perfplat.kpis import services as kpis
    from perfplat.public import modules

    calls = []

    def counting(original):
        def run(data_set, query):
            calls.append(str(data_set))
            return original(data_set, query)

        return run

    monkeypatch.setattr(kpis, "run_query", counting(kpis.run_query))
    monkeypatch.setattr(modules, "run_query", counting(modules.run_query))
    return calls


@pytest.mark.parametrize(
    "url",
    ["/", "/services", "/services/renew", "/organisations/transport", "/compare?services=renew"],
)
def test_pages_are_rendered_from_cached_query_results(client, world, counted_queries, url):
    page(client, url)
    assert counted_queries

    counted_queries.clear()
    page(client, url)
    assert counted_queries == []


def test_a_month_becomes_complete_when_its_last_week_ends_with_no_write(client, world, monkeypatch):
    # Weeks to the one of 27 January to 2 February, sent while it ran.
    service = create_service(
        None, slug="weekly", name="Weekly", organisation=world.health, phase="beta"
    )
    data_set(
        service,
        "transactions-by-channel",
        [
            record
            for monday in ("2024-12-30", "2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27")
            for record in channels(week, monday, digital=7)
        ],
    )
    publish_directly(service)

    def latest_at(moment: str) -> str:
        monkeypatch.setattr(kpi_services, "current_time", lambda: parse_datetime(moment))
        return body(data(client, "/services/weekly.json"))["kpis"]["start_at"][:7]

    assert latest_at("2025-02-01T12:00:00Z") == "2024-12"
    assert latest_at("2025-02-03T12:00:00Z") == "2025-01"


def test_a_write_to_a_data_set_invalidates_what_was_computed_from_it(
    client, world, counted_queries
):
    assert "Digital take-up 75.0%" in text_of(page(client, "/services/renew"))
    assert table_services(page(client, "/services?sort=digital_take_up")) == [
        "book",
        "jab",
        "renew",
    ]

    write_records(
        world.renew_transactions,
        channels(day, "2025-01-13", digital=0, phone=400),
        WriteSource(WriteBatch.API),
    )
    counted_queries.clear()

    # January: 300 digital of 800.
    assert "Digital take-up 37.5%" in text_of(page(client, "/services/renew"))
    # Only the data set written to is asked again.
    assert set(counted_queries) == {"renew/transactions-by-channel"}
    assert table_services(page(client, "/services?sort=digital_take_up")) == [
        "book",
        "renew",
        "jab",
    ]
    payload = body(data(client, "/services/renew/modules/3.json"))
    january = next(r for r in payload["rows"] if r["_start_at"].startswith("2025-01"))
    assert january["phone"] == 500


def test_pages_carry_an_etag_and_public_cache_control_for_visitors(client, world):
    response = client.get("/services/renew", HTTP_ACCEPT=HTML)

    assert response["Cache-Control"] == "public, max-age=60"
    assert "Cookie" in response["Vary"]
    etag = response["ETag"]
    again = client.get("/services/renew", HTTP_ACCEPT=HTML, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_data_twins_are_public_and_conditional_too(client, world):
    response = client.get("/services.csv")

    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert client.get("/services.csv", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_a_signed_in_users_pages_are_private(client, world, django_user_model):
    client.force_login(django_user_model.objects.create_user("editor@example.gov.uk"))

    response = client.get("/services/renew", HTTP_ACCEPT=HTML)

    assert response["Cache-Control"] == "private, no-cache"
    assert "Sign out" in response.content.decode()


def test_a_new_etag_after_a_write(client, world):
    first = client.get("/services/renew.json")["ETag"]
    write_records(
        world.renew_cost,
        [
            {
                "_timestamp": "2025-01-01T00:00:00Z",
                "period": "month",
                "channel": "all",
                "amount": 900,
            }
        ],
        WriteSource(WriteBatch.API),
    )
    second = client.get("/services/renew.json", HTTP_IF_NONE_MATCH=first)
    assert second.status_code == 200
    assert second["ETag"] != first


# every public page


def _public_routes():
    from perfplat.public import urls

    return [p for p in urls.urlpatterns if isinstance(p, URLPattern)]


@pytest.mark.parametrize("pattern", _public_routes(), ids=lambda p: str(p.pattern))
def test_every_public_page_is_open_to_everyone_and_answers_only_get(
    client, world, django_user_model, pattern
):
    assert pattern.callback.permission_rule == "public"
    assert pattern in get_resolver().url_patterns[0].url_patterns
    url = "/" + str(pattern.pattern)
    if "<int:correction_id>" in url:
        url = url.replace("<int:correction_id>", str(correct_renew(world).pk))
    for name, value in (
        ("<slug:service>", "renew"),
        ("<slug:organisation>", "transport"),
        ("<int:number>", "2"),
        ("<format:fmt>", "json"),
    ):
        url = url.replace(name, value)
    assert client.get(url, HTTP_ACCEPT=HTML).status_code == 200
    assert client.post(url, HTTP_ACCEPT=HTML).status_code == 405
    client.force_login(django_user_model.objects.create_user(f"{pattern.name}@example.gov.uk"))
    assert client.get(url, HTTP_ACCEPT=HTML).status_code == 200


def test_the_demo_has_twelve_public_services_with_a_year_of_kpis_some_with_gaps(client, db):
    from perfplat.demo import load_demo

    list(load_demo(now=NOW))

    payload = body(data(client, "/services.json"))
    rows = {row["service"]["slug"]: row["kpis"] for row in payload["services"]}
    assert len(rows) >= 12
    organisations = {row["service"]["organisation"] for row in payload["services"]}
    assert len(organisations) >= 6
    complete = [
        slug
        for slug, kpis in rows.items()
        if all(
            kpis[k]["value"] is not None
            for k in (
                "cost_per_transaction",
                "user_satisfaction",
                "completion_rate",
                "digital_take_up",
            )
        )
    ]
    gaps = [slug for slug in rows if slug not in complete]
    assert len(complete) >= 9 and len(gaps) >= 3
    # A year of data: the rolling year to January 2025 is known for all four KPIs.
    year = body(data(client, "/services/vehicle-tax.json?period=rolling-year"))["kpis"]["kpis"]
    assert all(
        year[k]["value"] is not None
        for k in ("cost_per_transaction", "digital_take_up", "user_satisfaction", "completion_rate")
    )
    assert year["digital_take_up"]["value"] > 0
    html = page(client, "/services/vehicle-tax")
    assert len(re.findall(r'id="module-\d+-heading"', html)) >= 7
