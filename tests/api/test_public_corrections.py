"""The public corrections log, its JSON, CSV and Atom twins, the feeds of publications and
corrections, and "Revised on" next to a revised KPI figure (SPEC section 13).

The platform is tests/public_fixtures.py; now is 10 February 2025, so figures are for January.
"""

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from helpers import body
from perfplat.datasets.models import Correction
from perfplat.kpis import services as kpi_services
from perfplat.public import caching
from perfplat.public.pages.corrections import PER_PAGE
from perfplat.public.revisions import latest_revision
from perfplat.publishing.assessments import record_assessment
from public_fixtures import NOW, build_public_world, correct_renew, month

HTML = "text/html,application/xhtml+xml"
ATOM = "{http://www.w3.org/2005/Atom}"


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


def page(client, url, status=200):
    response = client.get(url, HTTP_ACCEPT=HTML)
    assert response.status_code == status, response.content[:2000]
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def day(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


# the log


def test_the_log_lists_each_correction_with_period_change_path_organisation_and_reason(
    client, world
):
    correction = correct_renew(world, reason="Late returns")
    text = text_of(page(client, "/corrections"))
    assert f"{day(correction.created_at)}: Renew a licence, renew/transactions-by-channel" in text
    assert "Period 6 January 2025" in text
    assert "count : 200 → changed to 210" in text
    assert "Made through Write API" in text
    assert "By Licensing Agency" in text
    assert "Reason Late returns" in text


def test_a_correction_without_a_reason_says_so(client, world):
    correct_renew(world, reason="")
    assert "Reason No reason given" in text_of(page(client, "/corrections"))


def test_the_service_log_shows_only_that_services_corrections(client, world):
    from perfplat.datasets.writes import WriteSource, write_records

    correct_renew(world)
    write_records(
        world.book.data_sets.get(),
        [month("2025-01-01", channel="digital", count=11)],
        WriteSource("api"),
    )
    renew = body(client.get("/services/renew/corrections.json"))
    book = body(client.get("/services/book/corrections.json"))
    everything = body(client.get("/corrections.json"))
    assert [c["service"] for c in renew["corrections"]] == ["renew"]
    assert [c["service"] for c in book["corrections"]] == ["book"]
    assert [c["service"] for c in everything["corrections"]] == ["book", "renew"]


def test_the_json_twin_has_everything_the_page_shows(client, world):
    correction = correct_renew(world)
    payload = body(client.get("/corrections.json"))
    assert (payload["page"], payload["pages"], payload["total"], payload["service"]) == (
        1,
        1,
        1,
        None,
    )
    [entry] = payload["corrections"]
    assert entry == {
        "id": correction.pk,
        "url": f"/corrections/{correction.pk}",
        "made_at": correction.created_at.isoformat(),
        "service": "renew",
        "data_set": "renew/transactions-by-channel",
        "action": "replace",
        "record_id": correction.record_id,
        "records": 1,
        "period": "6 January 2025",
        "starts_at": "2025-01-06T00:00:00+00:00",
        "ends_at": "2025-01-07T00:00:00+00:00",
        "changes": [{"field": "count", "before": 200, "after": 210}],
        "before": correction.before,
        "after": correction.after,
        "path": "api",
        "organisation": "Licensing Agency",
        "reason": "Late returns",
    }


def test_the_csv_twin_has_a_row_per_field_changed(client, world):
    correction = correct_renew(world, reason="")
    response = client.get("/corrections.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    [row] = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert row == {
        "id": str(correction.pk),
        "made_at": correction.created_at.isoformat(),
        "service": "renew",
        "data_set": "renew/transactions-by-channel",
        "action": "replace",
        "record_id": correction.record_id,
        "period": "6 January 2025",
        "starts_at": "2025-01-06T00:00:00+00:00",
        "ends_at": "2025-01-07T00:00:00+00:00",
        "field": "count",
        "before": "200",
        "after": "210",
        "path": "api",
        "organisation": "Licensing Agency",
        "reason": "No reason given",
    }


def test_an_emptying_is_one_entry_for_all_its_records(client, world):
    from perfplat.datasets.services import empty

    empty(world.renew_cost, reason="Wrong currency")
    text = text_of(page(client, "/services/renew/corrections"))
    assert "All 2 records of the data set were removed." in text
    assert "Period 1 December 2024 to 31 January 2025" in text
    assert "Made through Management pages" in text
    # The command line: no person, so no organisation.
    assert "By The platform&#x27;s administrators" in text
    [row] = list(csv.DictReader(io.StringIO(client.get("/corrections.csv").content.decode())))
    assert (row["action"], row["before"], row["after"]) == ("empty", "2 records", "0 records")


def test_user_text_is_escaped(client, world):
    correct_renew(world, reason="<script>alert(1)</script>")
    html = page(client, "/corrections")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_corrections_of_unpublished_services_and_data_sets_are_not_public(client, world):
    from perfplat.datasets.services import update_data_set
    from perfplat.datasets.writes import WriteSource, write_records

    # secret has no published dashboard; its data set is published.
    write_records(
        world.secret.data_sets.get(),
        [month("2025-01-01", channel="digital", count=6)],
        WriteSource("api"),
    )
    assert Correction.objects.count() == 1
    correction = correct_renew(world)
    update_data_set(None, world.renew_transactions, published=False)
    assert body(client.get("/corrections.json"))["corrections"] == []
    page(client, f"/corrections/{correction.pk}", status=404)
    page(client, "/services/secret/corrections", status=404)


def test_the_log_is_paged(client, world):
    for count in range(PER_PAGE + 1):
        correct_renew(world, digital=300 + count)
    first = body(client.get("/corrections.json"))
    second = body(client.get("/corrections.json?page=2"))
    assert (first["pages"], len(first["corrections"]), len(second["corrections"])) == (
        2,
        PER_PAGE,
        1,
    )
    assert second["corrections"][0]["changes"] == [{"field": "count", "before": 200, "after": 300}]
    assert 'href="?page=2"' in page(client, "/corrections")


def test_a_bad_page_number_is_refused_by_the_data_and_ignored_by_the_page(client, world):
    response = client.get("/corrections.json?page=0")
    assert response.status_code == 400
    assert body(response)["message"] == "page must be a whole number from 1 to 10000"
    assert "Corrections to published data" in page(client, "/corrections?page=abc")


def test_a_corrections_own_page(client, world):
    correction = correct_renew(world)
    text = text_of(page(client, f"/corrections/{correction.pk}"))
    assert f"Correction of {day(correction.created_at)}" in text
    assert "Every correction to Renew a licence" in text
    assert body(client.get(f"/corrections/{correction.pk}.json"))["id"] == correction.pk


# Atom


def parse_atom(response) -> ET.Element:
    """The feed, checked as Atom (RFC 4287): well-formed XML, a feed with id, title and
    updated, each entry with id, title, updated and a link, every id unique."""
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(response.content)  # noqa: S314 - our own server's answer
    assert feed.tag == f"{ATOM}feed"
    for element in (feed, *feed.findall(f"{ATOM}entry")):
        for name in ("id", "title", "updated"):
            found = element.find(f"{ATOM}{name}")
            assert found is not None and found.text, f"{element.tag} has no {name}"
        datetime.fromisoformat(element.find(f"{ATOM}updated").text)
    for entry in feed.findall(f"{ATOM}entry"):
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/")
    ids = [entry.find(f"{ATOM}id").text for entry in feed.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids))
    return feed


def titles(feed) -> list[str]:
    return [entry.find(f"{ATOM}title").text for entry in feed.findall(f"{ATOM}entry")]


def test_the_corrections_feed_is_atom_with_an_entry_per_correction(client, world):
    correction = correct_renew(world, reason="Late returns")
    feed = parse_atom(client.get("/corrections.atom"))
    [entry] = feed.findall(f"{ATOM}entry")
    assert entry.find(f"{ATOM}id").text == f"http://testserver/corrections/{correction.pk}"
    assert entry.find(f"{ATOM}title").text == (
        "Correction to Renew a licence: renew/transactions-by-channel, 6 January 2025: replaced"
    )
    assert "count: 200 to 210" in entry.find(f"{ATOM}summary").text
    assert "Reason: Late returns." in entry.find(f"{ATOM}summary").text


def test_a_services_feed_has_its_publications_and_corrections(client, world):
    correct_renew(world)
    feed = parse_atom(client.get("/services/renew/feed.atom"))
    assert titles(feed) == [
        "Correction to Renew a licence: renew/transactions-by-channel, 6 January 2025: replaced",
        "Renew a licence: dashboard version 1 published",
    ]
    assert feed.find(f"{ATOM}id").text == "http://testserver/services/renew"


def test_the_feed_of_all_services_has_every_public_publication(client, world):
    feed = parse_atom(client.get("/feed.atom"))
    assert sorted(titles(feed)) == [
        "Book a jab: dashboard version 1 published",
        "Book a test: dashboard version 1 published",
        "Renew a licence: dashboard version 1 published",
    ]


def test_an_empty_feed_is_still_valid_atom(client, world):
    feed = parse_atom(client.get("/services/book/corrections.atom"))
    assert feed.findall(f"{ATOM}entry") == []


def test_the_feed_of_an_unpublished_service_is_404(client, world):
    assert client.get("/services/secret/feed.atom").status_code == 404


# Revised on


def test_a_revised_kpi_figure_says_when_and_links_to_the_correction(client, world):
    correction = correct_renew(world)
    html = page(client, "/services/renew")
    revised = f"Revised on {day(correction.created_at)}"
    # Transactions feed digital take-up and cost per transaction; not satisfaction.
    assert html.count(f'<a class="govuk-link" href="/corrections/{correction.pk}">{revised}') == 2
    payload = body(client.get("/services/renew.json"))
    assert payload["revisions"] == {
        kpi: {
            "revised_on": correction.created_at.isoformat(),
            "correction": f"/corrections/{correction.pk}",
        }
        for kpi in ("cost_per_transaction", "digital_take_up")
    }


def test_a_correction_of_another_period_revises_nothing(client, world):
    from perfplat.datasets.writes import WriteSource, write_records
    from public_fixtures import channels, week

    write_records(
        world.renew_transactions,
        channels(week, "2024-12-02", digital=201),
        WriteSource("api"),
    )
    assert body(client.get("/services/renew.json"))["revisions"] == {}


def test_a_correction_before_the_figure_was_published_revises_nothing(client, world):
    correction = correct_renew(world)
    # Made while January was still under way: its figure was not yet published.
    Correction.objects.filter(pk=correction.pk).update(created_at=datetime(2025, 1, 20, tzinfo=UTC))
    assert "Revised on" not in page(client, "/services/renew")


DAY = 86400
FEB_1 = 1738368000
JAN_1 = FEB_1 - 31 * DAY


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("corrections", "expected"),
    [
        # Made after the period ended, touching it: the newest one.
        (
            [
                (1, when("2025-03-01T00:00:00+00:00"), JAN_1, JAN_1 + 7 * DAY),
                (2, when("2025-03-05T00:00:00+00:00"), FEB_1 - DAY, FEB_1 + 6 * DAY),
            ],
            2,
        ),
        # Made before the period ended: not a revision of a published figure.
        ([(1, when("2025-01-20T00:00:00+00:00"), JAN_1, JAN_1 + 7 * DAY)], None),
        # Touching only the month before or after.
        ([(1, when("2025-03-01T00:00:00+00:00"), JAN_1 - 7 * DAY, JAN_1)], None),
        ([(1, when("2025-03-01T00:00:00+00:00"), FEB_1, FEB_1 + 7 * DAY)], None),
    ],
)
def test_latest_revision(corrections, expected):
    found = latest_revision(corrections, JAN_1, FEB_1, first_published=None)
    assert (found.correction_id if found else None) == expected


def test_a_correction_before_the_dashboard_was_first_published_is_no_revision():
    correction = [(1, when("2025-03-01T00:00:00+00:00"), JAN_1, JAN_1 + 7 * DAY)]
    assert latest_revision(correction, JAN_1, FEB_1, when("2025-04-01T00:00:00+00:00")) is None


# the dashboard's JSON and per-channel costs


def test_the_dashboard_json_has_the_assessment_comparison(client, world):
    record_assessment(None, world.renew, phase="live", assessed_on="2025-01-31", outcome="met")
    changes = body(client.get("/services/renew.json"))["how_the_service_has_changed"]
    [assessment] = changes["assessments"]
    assert (assessment["phase"], assessment["assessed_on"], assessment["outcome"]) == (
        "live",
        "2025-01-31",
        "met",
    )
    # The last complete month before the assessment: December 2024, digital take-up 50%.
    assert assessment["kpis"]["kpis"]["digital_take_up"]["value"] == 0.5
    # The page compares it with January 2025.
    assert changes["now"]["start_at"] == "2025-01-01T00:00:00+00:00"
    assert changes["now"]["kpis"]["digital_take_up"]["value"] == 0.75


def test_a_dashboard_without_assessments_says_so_in_its_json(client, world):
    changes = body(client.get("/services/renew.json"))["how_the_service_has_changed"]
    assert changes == {"assessments": [], "now": None}


def test_costs_per_channel_are_on_the_page_as_in_the_csv(client, world):
    from perfplat.datasets.writes import WriteSource, write_records

    write_records(
        world.renew_cost,
        [
            month("2025-01-01", channel="digital", amount=150),
            month("2025-01-01", channel="phone", amount=250),
        ],
        WriteSource("api"),
    )
    text = text_of(page(client, "/services/renew"))
    assert "Cost per transaction by channel, January 2025" in text
    # digital: £150 / 300 transactions; phone: £250 / 100.
    assert "digital £0.50 £150.00 300" in text
    assert "phone £2.50 £250.00 100" in text
    rows = list(csv.DictReader(io.StringIO(client.get("/services/renew.csv").content.decode())))
    assert {row.get("channel") for row in rows} >= {"digital", "phone"}
