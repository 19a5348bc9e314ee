"""A completion funnel module of every journey beacon step (source "beacon"): checking it in a
dashboard document, adding it in the editor, and its table on the public dashboard, with the
share of each step that goes on to the next."""

import pytest
from django.test import Client

from helpers import body
from perfplat.beacon import counting
from perfplat.beacon.services import configure
from perfplat.dashboards.content import clean_content, default_content
from perfplat.dashboards.models import DashboardVersion
from perfplat.dashboards.services import publish_directly, save_draft, start_draft
from perfplat.datasets.periods import parse_datetime
from perfplat.errors import InvalidRequest

SITE = "https://www.example.gov.uk"
JANUARY = "start_at=2025-01-01T00:00:00Z&end_at=2025-02-01T00:00:00Z"
FUNNEL = {
    "kind": "completion-funnel",
    "source": "beacon",
    "title": "Steps of the journey",
    "query": JANUARY,
}


@pytest.fixture
def beacon(world):
    return configure(None, world.service, ["start", "details", "check", "done"], [SITE])


def count(service, step, moment: str, events: int):
    hour = parse_datetime(moment)
    counting.tally.add((service.pk, step, hour - hour % 3600, "counted"), events)


def test_a_beacon_funnel_is_kept_with_its_source_and_range(world, beacon):
    content = clean_content({"modules": [FUNNEL]}, world.service)
    assert content["modules"] == [
        {
            "kind": "completion-funnel",
            "title": "Steps of the journey",
            "description": "",
            "source": "beacon",
            "query": JANUARY,
        }
    ]


@pytest.mark.parametrize(
    "module, message",
    [
        (
            {**FUNNEL, "kind": "time-series"},
            "modules[0].source: only a completion funnel has a source, and it can only be "
            "'beacon' (the journey beacon)",
        ),
        (
            {**FUNNEL, "source": "analytics"},
            "modules[0].source: only a completion funnel has a source, and it can only be "
            "'beacon' (the journey beacon)",
        ),
        (
            {**FUNNEL, "data_set": "road-tax/transactions"},
            "modules[0].data_set: a funnel of the journey beacon reads no data set",
        ),
        (
            {**FUNNEL, "query": "period=week&collect=count:sum"},
            "modules[0].query: a funnel of the journey beacon takes only a time range "
            "(like period=day&duration=28), not collect",
        ),
        (
            {**FUNNEL, "query": "period=fortnight&duration=2"},
            "modules[0].query: period must be one of hour, day, week, month, quarter, year, "
            "not 'fortnight'",
        ),
    ],
)
def test_a_bad_beacon_funnel_names_what_is_wrong(world, beacon, module, message):
    with pytest.raises(InvalidRequest) as raised:
        clean_content({"modules": [module]}, world.service)
    assert raised.value.message == message


def test_a_beacon_funnel_needs_the_beacon_on(world):
    with pytest.raises(InvalidRequest) as raised:
        clean_content({"modules": [FUNNEL]}, world.service)
    assert raised.value.message == (
        "modules[0].source: the service's journey beacon is off: turn it on first"
    )


def test_the_first_dashboard_of_a_service_with_a_beacon_has_its_funnel(world, beacon):
    funnels = [m for m in default_content(world.service)["modules"] if m.get("source")]
    assert funnels == [
        {
            "kind": "completion-funnel",
            "title": "Steps of the online journey over the last 28 days",
            "description": "How many people reached each step, and how many went on to the "
            "next, counted by the journey beacon.",
            "source": "beacon",
            "query": "period=day&duration=28",
        }
    ]


def test_the_editor_adds_a_funnel_of_the_beacon(world, beacon):
    editor = Client()
    editor.force_login(world.editor)
    editor.post("/manage/services/road-tax/dashboard/start")
    page = editor.get("/manage/services/road-tax/dashboard/modules/new/completion-funnel")
    assert '<option value="beacon">The journey beacon: every step</option>' in page.content.decode()
    response = editor.post(
        "/manage/services/road-tax/dashboard/modules/new/completion-funnel",
        {"title": "Steps", "data_set": "beacon", "query": "period=day&duration=28"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    version = DashboardVersion.objects.get(state=DashboardVersion.DRAFT)
    module = version.content["modules"][-1]
    assert module == {
        "kind": "completion-funnel",
        "title": "Steps",
        "description": "",
        "source": "beacon",
        "query": "period=day&duration=28",
    }
    number = len(version.content["modules"])
    edit = editor.get(f"/manage/services/road-tax/dashboard/modules/{number}")
    assert '<option value="beacon" selected>' in edit.content.decode()


def test_the_public_funnel_shows_every_step_and_the_share_going_on(world, beacon, client):
    service = world.service
    for step, events in (("start", 200), ("details", 150), ("check", 120), ("done", 90)):
        count(service, step, "2025-01-10T09:00:00Z", events)
    count(service, "start", "2025-01-31T23:59:00Z", 50)
    count(service, "start", "2025-02-01T00:00:00Z", 1000)  # after the range
    counting.tally.add((service.pk, "done", parse_datetime("2025-01-10T09:00:00Z"), "bot"), 70)
    counting.flusher.flush()
    version = start_draft(None, service)
    save_draft(None, version, {"modules": [FUNNEL]})
    publish_directly(service)
    payload = body(client.get("/services/road-tax/modules/2.json"))
    assert payload["source"] == "beacon"
    assert payload["not_available"] is None
    assert [c["key"] for c in payload["columns"]] == [
        "stage",
        "count",
        "share_of_first_stage",
        "share_going_on",
    ]
    assert payload["rows"] == [
        {"stage": "start", "count": 250, "share_of_first_stage": 1.0, "share_going_on": 0.6},
        {"stage": "details", "count": 150, "share_of_first_stage": 0.6, "share_going_on": 0.8},
        {"stage": "check", "count": 120, "share_of_first_stage": 0.48, "share_going_on": 0.75},
        {"stage": "done", "count": 90, "share_of_first_stage": 0.36, "share_going_on": None},
    ]
    html = client.get("/services/road-tax").content.decode()
    assert "Share going on to the next step" in html


def test_a_published_funnel_says_when_the_beacon_is_off(world, beacon, client):
    from perfplat.beacon.services import turn_off

    version = start_draft(None, world.service)
    save_draft(None, version, {"modules": [FUNNEL]})
    publish_directly(world.service)
    turn_off(None, world.service)
    html = client.get("/services/road-tax").content.decode()
    assert "The service&#x27;s journey beacon is off." in html
    # A module without data has no downloads.
    assert client.get("/services/road-tax/modules/2.json").status_code == 404
