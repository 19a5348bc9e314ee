"""The journey beacon's pages: /manage/services/<slug>/beacon (turning it on, the snippet, the
counts, changing and turning it off) and /privacy/beacon, through Django's test client."""

import html
import re

import pytest
from django.test import Client

from perfplat.beacon import counting, events
from perfplat.beacon.models import Beacon
from perfplat.beacon.services import configure
from perfplat.datasets.periods import parse_datetime

NOW = parse_datetime("2025-01-15T10:30:00Z")
SITE = "https://www.example.gov.uk"


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(events, "current_time", lambda: NOW)


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    """The page's text, tags removed and spaces collapsed."""
    content = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html.unescape(content)).strip()


def summary_errors(response) -> list[str]:
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', response.content.decode(), re.S)
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S) if found else []
    return [html.unescape(re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def test_the_service_page_links_to_the_beacon(world):
    response = as_user(world.editor).get("/manage/services/road-tax")
    assert 'href="/manage/services/road-tax/beacon"' in response.content.decode()


def test_a_beacon_that_is_off_offers_the_form_to_turn_it_on(world):
    response = as_user(world.editor).get("/manage/services/road-tax/beacon")
    assert response.status_code == 200
    page = text(response)
    assert "Turn on the beacon" in page
    assert "Counts" not in page
    assert re.search(
        r'<textarea name="steps"[^>]*>\s*start\ndone</textarea>', response.content.decode()
    )


def test_turning_the_beacon_on_from_the_page(world):
    client = as_user(world.editor)
    response = client.post(
        "/manage/services/road-tax/beacon",
        {"steps": "start\r\n details \r\n\r\ndone", "origins": f"{SITE}\r\nhttp://127.0.0.1:8001"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/manage/services/road-tax/beacon"
    beacon = Beacon.objects.get()
    assert (beacon.steps, beacon.origins) == (
        ["start", "details", "done"],
        [SITE, "http://127.0.0.1:8001"],
    )
    page = client.get(response["Location"])
    assert "The journey beacon is on" in text(page)
    content = page.content.decode()
    base = "http://testserver/beacon/road-tax"
    for step in ("start", "details", "done"):
        assert (
            f"&lt;img src=&quot;{base}/{step}.gif&quot; alt=&quot;&quot; width=&quot;1&quot; "
            "height=&quot;1&quot; referrerpolicy=&quot;origin&quot;&gt;"
        ) in content
    assert (
        f"navigator.sendBeacon(&quot;{base}&quot;, JSON.stringify({{step: &quot;start&quot;}}))"
    ) in content
    assert "Data set road-tax/completion (not published: the KPIs count only published data)" in (
        text(page)
    )


@pytest.mark.parametrize(
    "data, message",
    [
        ({"steps": "", "origins": SITE}, "Enter the steps of the journey, from start to done"),
        ({"steps": "start\ndone", "origins": ""}, "Enter where your pages are served from"),
        (
            {"steps": "begin\ndone", "origins": SITE},
            'The steps must begin with "start" and end with "done"',
        ),
        (
            {"steps": "start\ndone", "origins": "example.gov.uk"},
            "'example.gov.uk' is not an origin: give the scheme and host only, like "
            "https://www.example.gov.uk",
        ),
    ],
)
def test_form_errors_are_shown_and_nothing_is_turned_on(world, data, message):
    response = as_user(world.editor).post("/manage/services/road-tax/beacon", data)
    assert response.status_code == 200
    assert summary_errors(response) == [message]
    assert not Beacon.objects.exists()


def test_the_page_shows_todays_yesterdays_and_the_weeks_counts(world):
    beacon = configure(None, world.service, ["start", "details", "done"], [SITE])
    hour = NOW - NOW % 3600
    service_id = world.service.pk
    for key, events_counted in (
        ((service_id, "start", hour, "counted"), 9),
        ((service_id, "done", hour, "counted"), 4),
        ((service_id, "start", hour - 86400, "counted"), 2),
        ((service_id, "done", hour - 86400, "counted"), 3),
        ((service_id, "details", hour - 3 * 86400, "counted"), 7),
        ((service_id, "start", hour, "bot"), 5),
        ((service_id, "start", hour, "prefetch"), 1),
        ((service_id, "", hour, "unlisted-origin"), 6),
        ((service_id, "", hour - 86400, "unknown-step"), 2),
    ):
        counting.tally.add(key, events_counted)
    counting.flusher.flush()
    response = as_user(world.editor).get("/manage/services/road-tax/beacon")
    rows = re.findall(
        r'<th scope="row" class="govuk-table__header">(.*?)</th>\s*'
        r"<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>",
        response.content.decode(),
    )
    assert rows == [
        ("start", "9", "2", "11"),
        ("details", "0", "0", "7"),
        ("done", "4", "3", "7"),
        ("Bots (counted apart)", "5", "0", "5"),
        ("Prefetches (counted apart)", "1", "0", "1"),
        ("Rejected", "6", "2", "8"),
    ]
    assert (
        "More journeys reached “done” than “start” on 14 January 2025: the completion data set "
        "counts as many completed as started on those days"
    ) in text(response)
    written = beacon.data_set.record_set.order_by("timestamp")
    assert [(row.data["started"], row.data["completed"]) for row in written] == [
        (0, 0),  # 12 January: a step between, no journey started or completed
        (0, 0),  # 13 January: nothing counted, a quiet day
        (2, 2),  # 14 January: clamped
        (9, 4),
    ]


def test_the_page_warns_when_the_data_set_also_gets_other_data(world):
    from perfplat.datasets.models import WriteBatch
    from perfplat.datasets.writes import WriteSource, write_records

    beacon = configure(None, world.service, ["start", "done"], [SITE])
    write_records(
        beacon.data_set,
        [{"_timestamp": "2024-12-01T00:00:00Z", "period": "month", "started": 5, "completed": 4}],
        WriteSource(WriteBatch.UPLOAD),
    )
    response = as_user(world.editor).get("/manage/services/road-tax/beacon")
    assert (
        "The data set road-tax/completion also received data from: Spreadsheet upload."
    ) in text(response)


def test_turning_the_beacon_off_asks_first(world):
    configure(None, world.service, ["start", "done"], [SITE])
    client = as_user(world.editor)
    confirm = client.get("/manage/services/road-tax/beacon/turn-off")
    assert "Turn off the journey beacon?" in text(confirm)
    assert Beacon.objects.exists()
    response = client.post("/manage/services/road-tax/beacon/turn-off")
    assert response["Location"] == "/manage/services/road-tax/beacon"
    assert not Beacon.objects.exists()
    assert "The journey beacon is off" in text(client.get(response["Location"]))


def test_the_privacy_page_says_what_is_and_is_not_stored(client, db):
    response = client.get("/privacy/beacon")
    assert response.status_code == 200
    page = text(response)
    assert "The journey beacon and your privacy" in page
    for line in (
        "how many times each step of each service was reached in each hour",
        "cookies: it sets none and reads none",
        "your IP address",
        "your browser’s user agent (its name and version)",
        "the address (URL) of the page you were on",
        "any identifier of you, your device or your visit",
    ):
        assert line in page


def test_the_site_privacy_notice_has_the_beacon_section(client, db):
    page = text(client.get("/privacy"))
    assert "The journey beacon" in page
    assert "cookies: it sets none and reads none" in page
