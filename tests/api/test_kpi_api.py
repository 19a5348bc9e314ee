"""The public KPI API: /api/services/<slug>/kpis, /api/organisations/<slug>/kpis, /api/kpis.

Data is written through the real write path (write_records) to typed, published data sets, and
read back anonymously through the Django test client. `now` is fixed at 10 February 2025, so the
latest complete month is January 2025 and the latest complete quarter October-December 2024.
"""

import csv
import io
import random
from fractions import Fraction

import pytest

from helpers import body
from perfplat.dashboards.services import publish_directly
from perfplat.datasets.models import WriteBatch
from perfplat.datasets.periods import parse_datetime
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.kpis import schemas
from perfplat.kpis import services as kpi_services
from perfplat.registry.services import create_organisation, create_service, public_services

NOW = parse_datetime("2025-02-10T12:00:00Z")
JANUARY = ("2025-01-01T00:00:00+00:00", "2025-02-01T00:00:00+00:00")


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch):
    monkeypatch.setattr(kpi_services, "current_time", lambda: NOW)


def week(day: str, **fields) -> dict:
    return {"_timestamp": f"{day}T00:00:00Z", "period": "week", **fields}


def month(day: str, **fields) -> dict:
    return {"_timestamp": f"{day}T00:00:00Z", "period": "month", **fields}


def data_set(service, data_type: str, records: list, published=True):
    # Records shaped as the standard types require (period, channel); the demo test below
    # covers typed data sets.
    found, _token = create_data_set(
        None, data_type, service=service, settings=DataSetSettings(published=published)
    )
    if records:
        write_records(found, records, WriteSource(WriteBatch.API))
    return found


def channels(maker, day, **counts) -> list[dict]:
    return [maker(day, channel=c, count=n) for c, n in counts.items()]


@pytest.fixture
def registry(db):
    """transport (a department) with the agency licensing; health; culture (no public service).

    renew (live, licensing): every KPI for January 2025, transactions since January 2024.
    book (beta, transport): transactions only, and an unpublished completion data set.
    jab (live, health): monthly transactions from January 2024 to January 2025.
    pothole (discovery, transport) and secret (live, culture): no published dashboard, not
    public.
    """
    transport = create_organisation(None, slug="transport", name="Department for Transport")
    licensing = create_organisation(
        None, slug="licensing", name="Licensing Agency", type="agency", parent=transport
    )
    health = create_organisation(None, slug="health", name="Department of Health")
    culture = create_organisation(None, slug="culture", name="Department for Culture")

    renew = create_service(
        None, slug="renew", name="Renew a licence", organisation=licensing, phase="live"
    )
    renew_transactions = data_set(
        renew,
        "transactions-by-channel",
        [
            *channels(week, "2024-01-08", digital=100, phone=100),
            *channels(week, "2024-10-07", digital=50, phone=50),
            *channels(week, "2024-11-04", digital=70, phone=30),
            *channels(week, "2024-12-02", digital=60, phone=40),
            # A week starting on Monday 30 December counts in December.
            *channels(week, "2024-12-30", digital=30, phone=10),
            *channels(week, "2025-01-06", digital=200, phone=50),
            *channels(week, "2025-01-27", digital=100, phone=50),
            # February is not over on 10 February: not counted.
            *channels(week, "2025-02-03", digital=1000),
        ],
    )
    data_set(
        renew,
        "cost",
        [
            month("2024-12-01", channel="all", amount=280),
            month("2025-01-01", channel="digital", amount=150.0),
            month("2025-01-01", channel="phone", amount=250.5),
        ],
    )
    data_set(
        renew,
        "user-satisfaction",
        [
            week("2025-01-06", rating_1=1, rating_2=1, rating_3=2, rating_4=6, rating_5=10),
            week("2025-01-13", rating_1=0, rating_2=1, rating_3=0, rating_4=4, rating_5=4),
        ],
    )
    data_set(renew, "completion", [week("2025-01-06", started=500, completed=400)])
    publish_directly(renew)

    book = create_service(
        None, slug="book", name="Book a test", organisation=transport, phase="beta"
    )
    data_set(book, "transactions-by-channel", channels(month, "2025-01-01", digital=10, phone=90))
    publish_directly(book)
    # Made after publishing, so the published dashboard does not show (and publish) it.
    data_set(book, "completion", [month("2025-01-01", started=100, completed=1)], published=False)

    jab = create_service(None, slug="jab", name="Book a jab", organisation=health, phase="live")
    jab_months = [f"{year}-{m:02d}-01" for year, m in [(2024, m) for m in range(1, 13)]]
    jab_months.append("2025-01-01")
    jab_records = []
    for index, day in enumerate(jab_months):
        jab_records += channels(month, day, digital=10 * index, phone=200 - 10 * index)
    data_set(jab, "transactions-by-channel", jab_records)
    publish_directly(jab)

    pothole = create_service(
        None, slug="pothole", name="Report a pothole", organisation=transport, phase="discovery"
    )
    data_set(pothole, "transactions-by-channel", channels(month, "2025-01-01", digital=5))
    secret = create_service(None, slug="secret", name="Secret", organisation=culture, phase="live")
    data_set(secret, "transactions-by-channel", channels(month, "2025-01-01", digital=5), False)
    return {"renew_transactions": renew_transactions}


def get(client, url, status=200, **params):
    response = client.get(url, params)
    assert response.status_code == status, response.content
    return response


def latest(payload: dict) -> dict:
    return payload["periods"][-1]


def share(numerator: int, denominator: int) -> float:
    return float(Fraction(numerator, denominator))


# one service


def test_a_service_answers_every_kpi_of_the_latest_complete_month(client, registry):
    payload = body(get(client, "/api/services/renew/kpis"))
    assert payload["service"] == {
        "slug": "renew",
        "name": "Renew a licence",
        "organisation": "licensing",
        "phase": "live",
    }
    assert payload["period"] == "month"
    january = latest(payload)
    assert (january["start_at"], january["end_at"]) == JANUARY
    kpis = january["kpis"]
    # 400.50 of costs over 300 digital + 100 phone transactions: 1.00125, to the penny.
    assert kpis["cost_per_transaction"] | {"previous_period": None, "year_earlier": None} == {
        "unit": "pounds",
        "value": 1.0,
        "not_enough_data": None,
        "numerator": 400.5,
        "denominator": 400,
        "previous_period": None,
        "year_earlier": None,
    }
    assert kpis["digital_take_up"]["value"] == 0.75
    assert kpis["digital_take_up"]["unit"] == "share"
    # Ratings 1..5: 1, 2, 2, 10, 14 responses.
    assert kpis["user_satisfaction"]["value"] == share(24, 29)
    assert kpis["user_satisfaction_score"]["value"] == share(23, 29)
    assert kpis["user_satisfaction_score"]["numerator"] == 23
    assert kpis["completion_rate"]["value"] == 0.8
    by_channel = january["cost_per_transaction_by_channel"]
    assert by_channel["digital"]["value"] == 0.5
    assert by_channel["phone"]["value"] == 2.51  # 2.505 exactly, halves away from zero


def test_changes_from_the_previous_month_and_a_year_earlier(client, registry):
    kpis = latest(body(get(client, "/api/services/renew/kpis")))["kpis"]
    take_up = kpis["digital_take_up"]
    # December: 90 of 140 digital (the week of 30 December included); January 2024: 100 of 200.
    assert take_up["previous_period"] == {
        "start_at": "2024-12-01T00:00:00+00:00",
        "end_at": "2025-01-01T00:00:00+00:00",
        "absolute": float(Fraction(3, 4) - Fraction(9, 14)),  # exact, then rounded once
        "relative": float((Fraction(3, 4) - Fraction(9, 14)) / Fraction(9, 14)),
        "not_enough_data": None,
    }
    assert take_up["year_earlier"]["absolute"] == 0.25
    assert take_up["year_earlier"]["relative"] == 0.5
    cost = kpis["cost_per_transaction"]["previous_period"]
    # From 280 / 140 = 2.00 to 1.00125.
    assert (cost["absolute"], cost["relative"]) == (-1.0, -0.499375)
    assert kpis["completion_rate"]["previous_period"] == {
        "start_at": "2024-12-01T00:00:00+00:00",
        "end_at": "2025-01-01T00:00:00+00:00",
        "absolute": None,
        "relative": None,
        "not_enough_data": "not enough data in the earlier period",
    }


def test_periods_run_from_the_first_data_to_the_latest_complete_month(client, registry):
    periods = body(get(client, "/api/services/renew/kpis"))["periods"]
    assert [p["start_at"][:7] for p in periods] == [
        "2024-01",
        "2024-02",
        "2024-03",
        "2024-04",
        "2024-05",
        "2024-06",
        "2024-07",
        "2024-08",
        "2024-09",
        "2024-10",
        "2024-11",
        "2024-12",
        "2025-01",
    ]
    march = periods[2]["kpis"]["digital_take_up"]
    assert march["value"] is None
    assert march["not_enough_data"] == "no transactions-by-channel data for this period"


def test_a_kpi_without_data_is_null_with_the_reason(client, registry):
    kpis = latest(body(get(client, "/api/services/book/kpis")))["kpis"]
    assert kpis["cost_per_transaction"]["value"] is None
    assert kpis["cost_per_transaction"]["not_enough_data"] == "no published cost data"
    assert kpis["digital_take_up"]["value"] == 0.1


def test_unpublished_data_sets_are_ignored(client, registry):
    kpis = latest(body(get(client, "/api/services/book/kpis")))["kpis"]
    assert kpis["completion_rate"]["value"] is None
    assert kpis["completion_rate"]["not_enough_data"] == "no published completion data"


def test_period_quarter_gives_calendar_quarters(client, registry):
    payload = body(get(client, "/api/services/renew/kpis", period="quarter"))
    assert payload["period"] == "quarter"
    quarter = latest(payload)
    assert (quarter["start_at"], quarter["end_at"]) == (
        "2024-10-01T00:00:00+00:00",
        "2025-01-01T00:00:00+00:00",
    )
    take_up = quarter["kpis"]["digital_take_up"]
    assert (take_up["numerator"], take_up["denominator"]) == (210, 340)
    assert take_up["value"] == share(21, 34)
    assert take_up["previous_period"]["not_enough_data"] == "not enough data in the earlier period"
    cost = quarter["kpis"]["cost_per_transaction"]
    assert cost["value"] is None
    assert cost["not_enough_data"] == "cost data is missing for 2 of the 3 months"
    assert [p["start_at"][:7] for p in payload["periods"]] == [
        "2024-01",
        "2024-04",
        "2024-07",
        "2024-10",
    ]


def test_period_rolling_year_gives_the_12_months_ending_with_each_month(client, registry):
    payload = body(get(client, "/api/services/jab/kpis", period="rolling-year"))
    year = latest(payload)
    assert (year["start_at"], year["end_at"]) == (
        "2024-02-01T00:00:00+00:00",
        "2025-02-01T00:00:00+00:00",
    )
    take_up = year["kpis"]["digital_take_up"]
    # Digital 10, 20, ..., 120 of 200 a month.
    assert (take_up["numerator"], take_up["denominator"]) == (780, 2400)
    assert take_up["value"] == 0.325
    assert take_up["previous_period"]["start_at"] == "2024-01-01T00:00:00+00:00"
    assert take_up["previous_period"]["absolute"] == share(120, 2400)
    assert take_up["previous_period"]["relative"] == share(2, 11)
    assert take_up["year_earlier"]["not_enough_data"] == "not enough data in the earlier period"
    assert len(payload["periods"]) == 2


# roll-ups


def test_an_organisation_adds_up_its_services_and_those_of_its_bodies(client, registry):
    payload = body(get(client, "/api/organisations/transport/kpis"))
    assert payload["organisation"] == {
        "slug": "transport",
        "name": "Department for Transport",
        "abbreviation": "",
    }
    kpis = latest(payload)["kpis"]
    take_up = kpis["digital_take_up"]
    # renew 300 of 400 (75%) and book 10 of 100 (10%): 310 of 500, not the average 42.5%.
    assert (take_up["numerator"], take_up["denominator"], take_up["value"]) == (310, 500, 0.62)
    # Only renew has costs: book's transactions do not dilute them.
    assert kpis["cost_per_transaction"]["denominator"] == 400
    # book's completion data set is unpublished.
    assert kpis["completion_rate"]["value"] == 0.8
    rows = payload["services"]
    assert [row["service"]["slug"] for row in rows] == ["book", "renew"]
    assert rows[1]["latest"]["kpis"]["digital_take_up"]["value"] == 0.75
    assert (rows[1]["latest"]["start_at"], rows[1]["latest"]["end_at"]) == JANUARY


def test_an_agency_rolls_up_only_its_own_services(client, registry):
    payload = body(get(client, "/api/organisations/licensing/kpis"))
    assert [row["service"]["slug"] for row in payload["services"]] == ["renew"]
    assert latest(payload)["kpis"]["digital_take_up"]["value"] == 0.75


def test_government_adds_up_every_public_service(client, registry):
    payload = body(get(client, "/api/kpis"))
    assert "organisation" not in payload
    assert [row["service"]["slug"] for row in payload["services"]] == ["jab", "book", "renew"]
    take_up = latest(payload)["kpis"]["digital_take_up"]
    assert (take_up["numerator"], take_up["denominator"]) == (430, 700)
    assert take_up["value"] == share(43, 70)


def test_public_services_are_past_discovery_with_a_published_data_set(registry):
    assert sorted(public_services().values_list("slug", flat=True)) == ["book", "jab", "renew"]


def test_government_quarters(client, registry):
    payload = body(get(client, "/api/kpis", period="quarter"))
    take_up = latest(payload)["kpis"]["digital_take_up"]
    # renew 210 of 340; jab October to December 2024: 90 + 100 + 110 of 600; book has no Q4.
    assert (take_up["numerator"], take_up["denominator"]) == (510, 940)


# CSV


def rows_of(response) -> list[dict]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_service_as_csv_has_a_row_per_period_and_kpi(client, registry):
    response = get(client, "/api/services/renew/kpis", format="csv")
    assert response["Content-Disposition"] == 'inline; filename="renew-kpis-month.csv"'
    rows = rows_of(response)
    assert list(rows[0]) == list(schemas.CSV_COLUMNS)
    january = [row for row in rows if row["start_at"] == JANUARY[0]]
    assert [(row["kpi"], row["channel"]) for row in january] == [
        ("cost_per_transaction", ""),
        ("cost_per_transaction", "digital"),
        ("cost_per_transaction", "phone"),
        ("user_satisfaction", ""),
        ("user_satisfaction_score", ""),
        ("completion_rate", ""),
        ("digital_take_up", ""),
    ]
    assert january[0] == {
        "subject": "service",
        "slug": "renew",
        "period": "month",
        "start_at": JANUARY[0],
        "end_at": JANUARY[1],
        "kpi": "cost_per_transaction",
        "channel": "",
        "unit": "pounds",
        "value": "1.00",
        "not_enough_data": "",
        "numerator": "400.50",
        "denominator": "400",
        "previous_period_absolute_change": "-1.00",
        "previous_period_relative_change": "-0.499375",
        "previous_period_not_enough_data": "",
        "year_earlier_absolute_change": "",
        "year_earlier_relative_change": "",
        "year_earlier_not_enough_data": "not enough data in the earlier period",
    }
    assert january[-1]["value"] == "0.75"
    assert len(rows) == 13 * 5 + 2  # 13 months of 5 KPIs, and January's 2 channels


def test_an_organisation_as_csv_has_the_roll_up_then_each_service(client, registry):
    rows = rows_of(get(client, "/api/organisations/transport/kpis", format="csv"))
    subjects = [(row["subject"], row["slug"]) for row in rows]
    assert subjects[0] == ("organisation", "transport")
    services = [row for row in rows if row["subject"] == "service"]
    assert {row["slug"] for row in services} == {"book", "renew"}
    assert {row["start_at"] for row in services} == {JANUARY[0]}
    take_up = [
        row
        for row in rows
        if row["subject"] == "organisation"
        and row["kpi"] == "digital_take_up"
        and row["start_at"] == JANUARY[0]
    ]
    assert take_up[0]["value"] == "0.62"


def test_government_as_csv(client, registry):
    rows = rows_of(get(client, "/api/kpis", format="csv", period="rolling-year"))
    assert rows[0]["subject"] == "government"
    assert rows[0]["slug"] == ""
    assert {row["period"] for row in rows} == {"rolling-year"}


# errors and access


@pytest.mark.parametrize(
    "url",
    [
        "/api/services/nothing/kpis",
        "/api/services/pothole/kpis",  # in discovery
        "/api/services/secret/kpis",  # no published data set
        "/api/organisations/nothing/kpis",
        "/api/organisations/culture/kpis",  # no public service
    ],
)
def test_unknown_or_non_public_services_and_organisations_are_404(client, registry, url):
    response = get(client, url, status=404)
    assert response["Content-Type"] == "application/json"
    assert body(response)["status"] == "error"


def test_the_404_names_what_is_missing(client, registry):
    assert body(get(client, "/api/services/pothole/kpis", status=404)) == {
        "status": "error",
        "message": "No published service 'pothole'",
    }


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        (
            "/api/kpis",
            {"period": "week"},
            "period must be one of month, quarter, rolling-year, not 'week'",
        ),
        (
            "/api/services/renew/kpis",
            {"period": "year"},
            "period must be one of month, quarter, rolling-year, not 'year'",
        ),
        (
            "/api/organisations/transport/kpis",
            {"format": "xml"},
            "format must be json or csv, not 'xml'",
        ),
        (
            "/api/kpis",
            {"periods": "quarter"},
            "Unknown parameter(s): periods. The KPI API accepts: period, format",
        ),
        ("/api/kpis", {"period": ["month", "quarter"]}, "period may be given only once"),
    ],
)
def test_a_bad_parameter_is_a_400_json_error(client, registry, url, params, message):
    response = get(client, url, status=400, **params)
    assert body(response) == {"status": "error", "message": message}


def test_anyone_may_read_kpis_from_anywhere(client, registry):
    response = get(client, "/api/kpis")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_replies_match_the_documented_schemas(client, registry):
    schemas.ServiceKpisOut.model_validate(body(get(client, "/api/services/renew/kpis")))
    schemas.OrganisationKpisOut.model_validate(
        body(get(client, "/api/organisations/transport/kpis"))
    )
    schemas.GovernmentKpisOut.model_validate(body(get(client, "/api/kpis", period="quarter")))


def test_a_write_changes_the_next_answer(client, registry):
    url = "/api/services/renew/kpis"
    assert latest(body(get(client, url)))["kpis"]["digital_take_up"]["value"] == 0.75
    write_records(
        registry["renew_transactions"],
        channels(week, "2025-01-13", digital=100, phone=0),
        WriteSource(WriteBatch.API),
    )
    assert latest(body(get(client, url)))["kpis"]["digital_take_up"]["value"] == 0.8


def test_the_latest_period_follows_the_clock(client, registry, monkeypatch):
    monkeypatch.setattr(
        kpi_services, "current_time", lambda: parse_datetime("2025-01-01T00:00:00Z")
    )
    december = latest(body(get(client, "/api/services/renew/kpis")))
    assert december["start_at"] == "2024-12-01T00:00:00+00:00"
    assert december["kpis"]["digital_take_up"]["value"] == share(9, 14)


# the demo data


def demo_records(slug: str, now: int) -> dict[str, list[dict]]:
    """The records load_demo writes for a service, built again with the same random numbers."""
    from perfplat import demo

    service = next(s for s in demo.SERVICES if s.slug == slug)
    rng = random.Random(slug)
    return {
        data_type: build(service, rng, now)
        for data_type, build in demo.BUILDERS.items()
        if data_type not in service.missing
    }


def in_month(record: dict, month_start: str) -> bool:
    return record["_timestamp"][:7] == month_start[:7]


@pytest.mark.django_db
def test_the_demo_services_kpis_match_their_records(client):
    from perfplat.demo import load_demo

    list(load_demo(now=NOW))
    payload = body(get(client, "/api/kpis"))
    slugs = {row["service"]["slug"] for row in payload["services"]}
    assert len(slugs) == 12
    records = demo_records("vehicle-tax", NOW)
    january = [r for r in records["transactions-by-channel"] if in_month(r, "2025-01")]
    digital = sum(r["count"] for r in january if r["channel"] == "digital")
    total = sum(r["count"] for r in january)
    costs = [r for r in records["cost"] if in_month(r, "2025-01")]
    cost = sum(Fraction(str(r["amount"])) for r in costs)
    kpis = latest(body(get(client, "/api/services/vehicle-tax/kpis")))["kpis"]
    assert kpis["digital_take_up"]["value"] == share(digital, total)
    assert kpis["cost_per_transaction"]["numerator"] == float(cost)
    assert kpis["cost_per_transaction"]["denominator"] == total
    rows = {row["service"]["slug"]: row["latest"]["kpis"] for row in payload["services"]}
    assert rows["carers-allowance"]["cost_per_transaction"]["not_enough_data"] == (
        "no published cost data"
    )
    assert rows["register-to-vote"]["completion_rate"]["value"] is None
    assert rows["civil-money-claims"]["user_satisfaction"]["value"] is None
    assert rows["vehicle-tax"]["user_satisfaction"]["value"] is not None
