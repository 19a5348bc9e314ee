"""The public KPI API: /api/services/<slug>/kpis, /api/organisations/<slug>/kpis, /api/kpis.

Data is written through the real write path (write_records) to typed, published data sets, and
read back anonymously through the Django test client. `now` is fixed at 10 February 2025, so the
latest complete month is January 2025 and the latest complete quarter October-December 2024.
"""

import csv
import io
import random
from datetime import date, timedelta
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
from perfplat.kpis.maths import plain, pounds
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


def data_set(service, data_type: str, records: list, published=True, standard_type=None):
    """A data set of the standard type `data_type` (unless `standard_type` says otherwise: ""
    for a free-form one), with its records written through the write path."""
    found, _token = create_data_set(
        None,
        data_type,
        service=service,
        settings=DataSetSettings(
            published=published,
            standard_type=data_type if standard_type is None else standard_type,
        ),
    )
    if records:
        write_records(found, records, WriteSource(WriteBatch.API))
    return found


def channels(maker, day, **counts) -> list[dict]:
    return [maker(day, channel=c, count=n) for c, n in counts.items()]


def mondays(first: str, last: str) -> list[str]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return [str(start + timedelta(weeks=n)) for n in range((end - start).days // 7 + 1)]


@pytest.fixture
def registry(db):
    """transport (a department) with the agency licensing; health; culture (no public service).

    renew (live, licensing): transactions sent weekly from Monday 1 January 2024, 8 digital and
    4 phone a day until Sunday 22 December 2024, then 10 and 2 a day; no weeks in June 2024 from
    the 3rd; the week of 3 February 2025 (not a whole month yet) 1000 digital. Cost monthly for
    December (£744, all channels) and January (£155 digital, £155.31 phone); satisfaction weekly
    from 30 December (a day: 1, 1, 1, 2 and 4 responses rating 1 to 5); completion daily from 1
    January to 9 February (20 started, 16 completed a day).
    book (beta, transport): January's transactions, monthly; an unpublished completion data set
    and a free-form data set named cost.
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
    transactions = []
    for monday in mondays("2024-01-01", "2024-12-16"):
        if not "2024-06-03" <= monday <= "2024-06-24":
            transactions += channels(week, monday, digital=56, phone=28)
    for monday in mondays("2024-12-23", "2025-01-27"):
        transactions += channels(week, monday, digital=70, phone=14)
    transactions += channels(week, "2025-02-03", digital=1000, phone=0)
    renew_transactions = data_set(renew, "transactions-by-channel", transactions)
    data_set(
        renew,
        "cost",
        [
            month("2024-12-01", channel="all", amount=744),
            month("2025-01-01", channel="digital", amount=155.0),
            month("2025-01-01", channel="phone", amount=155.31),
        ],
    )
    data_set(
        renew,
        "user-satisfaction",
        [
            week(monday, rating_1=7, rating_2=7, rating_3=7, rating_4=14, rating_5=28)
            for monday in mondays("2024-12-30", "2025-01-27")
        ],
    )
    first = date(2025, 1, 1)
    data_set(
        renew,
        "completion",
        [
            {**week(str(first + timedelta(days=n)), started=20, completed=16), "period": "day"}
            for n in range(40)
        ],
    )
    publish_directly(renew)

    book = create_service(
        None, slug="book", name="Book a test", organisation=transport, phase="beta"
    )
    data_set(book, "transactions-by-channel", channels(month, "2025-01-01", digital=10, phone=90))
    publish_directly(book)
    # Made after publishing, so the published dashboard does not show (and publish) it.
    data_set(book, "completion", [month("2025-01-01", started=100, completed=1)], published=False)
    # Named like the standard type, but free-form: the KPIs never read it.
    data_set(book, "cost", [month("2025-01-01", channel="all", amount=50)], standard_type="")

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

# January 2025 of renew: 310 digital and 62 phone transactions (31 days of 10 and 2).
JANUARY_COST = Fraction("310.31")


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
    assert (january["start_at"], january["end_at"], january["complete"]) == (*JANUARY, True)
    kpis = january["kpis"]
    # £310.31 of costs over 372 transactions: 0.834..., to the penny.
    assert kpis["cost_per_transaction"] | {"previous_period": None, "year_earlier": None} == {
        "unit": "pounds",
        "value": 0.83,
        "not_enough_data": None,
        "numerator": 310.31,
        "denominator": 372,
        "made_from": "cost: monthly data; transactions: weekly data shared between months by day",
        "first_day": "2025-01-01",
        "last_day": "2025-01-31",
        "services": None,
        "previous_period": None,
        "year_earlier": None,
    }
    assert kpis["digital_take_up"]["value"] == share(5, 6)
    assert kpis["digital_take_up"]["unit"] == "share"
    assert kpis["digital_take_up"]["made_from"] == "weekly data shared between months by day"
    # Ratings 1..5 in January: 31, 31, 31, 62 and 124 responses (the weeks from 30 December
    # and to 2 February shared by day).
    assert kpis["user_satisfaction"]["value"] == share(186, 279)
    assert kpis["user_satisfaction_score"]["numerator"] == 193.75
    assert kpis["user_satisfaction_score"]["value"] == float(Fraction("193.75") / 279)
    assert kpis["completion_rate"]["value"] == 0.8
    assert kpis["completion_rate"]["made_from"] == "daily data"
    by_channel = january["cost_per_transaction_by_channel"]
    assert by_channel["digital"]["value"] == 0.5
    assert by_channel["phone"]["value"] == 2.51  # 155.31 / 62 = 2.505 exactly: away from zero


def test_changes_from_the_previous_month_and_a_year_earlier(client, registry):
    kpis = latest(body(get(client, "/api/services/renew/kpis")))["kpis"]
    take_up = kpis["digital_take_up"]
    # December: 22 days of 8 of 12 digital and 9 days of 10 of 12: 266 of 372. January 2024:
    # 248 of 372.
    now, december = Fraction(5, 6), Fraction(266, 372)
    assert take_up["previous_period"] == {
        "start_at": "2024-12-01T00:00:00+00:00",
        "end_at": "2025-01-01T00:00:00+00:00",
        "absolute": float(now - december),  # exact, then rounded once
        "relative": float((now - december) / december),
        "not_enough_data": None,
    }
    assert take_up["year_earlier"]["absolute"] == float(now - Fraction(2, 3))
    assert take_up["year_earlier"]["relative"] == 0.25
    cost = kpis["cost_per_transaction"]["previous_period"]
    # From 744 / 372 = 2.00 to 310.31 / 372.
    assert (cost["absolute"], cost["relative"]) == (
        -1.17,
        float((JANUARY_COST / 372 - 2) / 2),
    )
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
    assert periods[2]["kpis"]["digital_take_up"]["value"] == share(2, 3)
    june = periods[5]["kpis"]["digital_take_up"]
    assert june["value"] is None
    assert june["not_enough_data"] == (
        "transactions-by-channel data is missing for 28 days of the 30 (3 to 30 June 2024)"
    )
    assert (june["made_from"], june["first_day"], june["last_day"]) == (None, None, None)


def test_a_kpi_without_data_is_null_with_the_reason(client, registry):
    kpis = latest(body(get(client, "/api/services/book/kpis")))["kpis"]
    assert kpis["cost_per_transaction"]["value"] is None
    assert kpis["cost_per_transaction"]["not_enough_data"] == "no published cost data"
    assert kpis["digital_take_up"]["value"] == 0.1


def test_a_data_set_named_like_a_standard_type_does_not_feed_the_kpis(client, registry):
    # book has a published free-form data set called cost (with £50 in January).
    kpis = latest(body(get(client, "/api/services/book/kpis")))["kpis"]
    assert kpis["cost_per_transaction"]["numerator"] is None


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
    # 83 days of 8 of 12 digital and 9 days of 10 of 12.
    assert (take_up["numerator"], take_up["denominator"]) == (754, 1104)
    assert take_up["value"] == share(754, 1104)
    # July to September: 2/3.
    assert take_up["previous_period"]["absolute"] == float(Fraction(754, 1104) - Fraction(2, 3))
    cost = quarter["kpis"]["cost_per_transaction"]
    assert cost["value"] is None
    assert cost["not_enough_data"] == (
        "cost data is missing for 61 days of the 92 (1 October to 30 November 2024)"
    )
    assert [p["start_at"][:7] for p in payload["periods"]] == [
        "2024-01",
        "2024-04",
        "2024-07",
        "2024-10",
    ]


def test_period_week_gives_weeks_from_monday(client, registry):
    payload = body(get(client, "/api/services/renew/kpis", period="week"))
    week = latest(payload)
    # On Monday 10 February the week of 3 to 9 February has ended, and every data set with
    # data for it describes its last day.
    assert (week["start_at"], week["end_at"], week["complete"]) == (
        "2025-02-03T00:00:00+00:00",
        "2025-02-10T00:00:00+00:00",
        True,
    )
    assert week["kpis"]["digital_take_up"]["value"] == 1.0
    assert week["kpis"]["digital_take_up"]["made_from"] == "weekly data"
    assert week["kpis"]["completion_rate"]["value"] == 0.8
    assert week["kpis"]["cost_per_transaction"]["not_enough_data"] == (
        "no cost data for this period"
    )


def test_period_day_gives_each_day_of_the_last_year_from_daily_data(client, registry):
    payload = body(get(client, "/api/services/renew/kpis", period="day"))
    day = latest(payload)
    # Sunday 9 February is the last day that has ended on the 10th; completion is sent daily.
    assert (day["start_at"], day["end_at"], day["complete"]) == (
        "2025-02-09T00:00:00+00:00",
        "2025-02-10T00:00:00+00:00",
        True,
    )
    rate = day["kpis"]["completion_rate"]
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (16, 20, 0.8)
    assert rate["made_from"] == "daily data"
    # A week's transactions are shared by day: 1000 digital over 7 days.
    take_up = day["kpis"]["digital_take_up"]
    assert take_up["value"] == 1.0
    assert take_up["made_from"] == "weekly data shared between periods by day"
    # Days reach back 366 days at most (the data starts on 1 January 2024).
    assert payload["periods"][0]["start_at"] == "2024-02-10T00:00:00+00:00"
    assert len(payload["periods"]) == 366


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
    assert take_up["made_from"] == "monthly data"
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
    # renew 310 of 372 (83%) and book 10 of 100 (10%): 320 of 472, not the average 46.7%.
    assert (take_up["numerator"], take_up["denominator"], take_up["value"]) == (
        320,
        472,
        share(320, 472),
    )
    assert take_up["services"] == 2
    assert take_up["made_from"] == (
        "2 services added up (monthly data; weekly data shared between months by day)"
    )
    # Only renew has costs: book's transactions do not dilute them.
    assert kpis["cost_per_transaction"]["denominator"] == 372
    assert kpis["cost_per_transaction"]["services"] == 1
    # book's completion data set is unpublished.
    assert kpis["completion_rate"]["value"] == 0.8
    rows = payload["services"]
    assert [row["service"]["slug"] for row in rows] == ["book", "renew"]
    assert rows[1]["latest"]["kpis"]["digital_take_up"]["value"] == share(5, 6)
    assert (rows[1]["latest"]["start_at"], rows[1]["latest"]["end_at"]) == JANUARY


def test_an_agency_rolls_up_only_its_own_services(client, registry):
    payload = body(get(client, "/api/organisations/licensing/kpis"))
    assert [row["service"]["slug"] for row in payload["services"]] == ["renew"]
    assert latest(payload)["kpis"]["digital_take_up"]["value"] == share(5, 6)


def test_government_adds_up_every_public_service(client, registry):
    payload = body(get(client, "/api/kpis"))
    assert "organisation" not in payload
    assert [row["service"]["slug"] for row in payload["services"]] == ["jab", "book", "renew"]
    take_up = latest(payload)["kpis"]["digital_take_up"]
    # renew 310 of 372, book 10 of 100, jab 120 of 200.
    assert (take_up["numerator"], take_up["denominator"]) == (440, 672)
    assert take_up["value"] == share(440, 672)


def test_public_services_are_past_discovery_with_a_published_data_set(registry):
    assert sorted(public_services().values_list("slug", flat=True)) == ["book", "jab", "renew"]


def test_government_quarters(client, registry):
    payload = body(get(client, "/api/kpis", period="quarter"))
    take_up = latest(payload)["kpis"]["digital_take_up"]
    # renew 754 of 1104; jab October to December 2024: 90 + 100 + 110 of 600; book has no Q4.
    assert (take_up["numerator"], take_up["denominator"]) == (1054, 1704)


def test_a_roll_up_waits_for_every_service_with_data_for_the_month(client, registry):
    # late's weeks reach only 26 January: January is not complete for it, nor for government.
    health = public_services().get(slug="jab").organisation
    late = create_service(None, slug="late", name="Late", organisation=health, phase="beta")
    data_set(
        late,
        "transactions-by-channel",
        [
            record
            for monday in mondays("2024-11-25", "2025-01-20")
            for record in channels(week, monday, digital=7)
        ],
    )
    publish_directly(late)
    assert latest(body(get(client, "/api/services/late/kpis")))["start_at"][:7] == "2024-12"
    government = latest(body(get(client, "/api/kpis")))
    assert government["start_at"][:7] == "2024-12"
    # December: renew 266 of 372, jab 110 of 200, late 31 of 31; book has no December.
    take_up = government["kpis"]["digital_take_up"]
    assert (take_up["numerator"], take_up["denominator"], take_up["services"]) == (407, 603, 3)
    # Each service's row is for the same period.
    rows = body(get(client, "/api/kpis"))["services"]
    assert {row["latest"]["start_at"][:7] for row in rows} == {"2024-12"}


# what the KPIs use (the readiness report's evidence)


def test_the_records_the_kpis_use_per_data_set(registry):
    renew = public_services().get(slug="renew")
    used = kpi_services.kpi_records_used(renew, date(2025, 1, 1), date(2025, 1, 31))
    assert {
        data_type: (use.records, use.days, use.first_day, use.last_day, use.missing_days)
        for data_type, use in used.items()
    } == {
        # The weeks of 30 December to 27 January, digital and phone.
        "transactions-by-channel": (10, 31, date(2025, 1, 1), date(2025, 1, 31), 0),
        "cost": (2, 31, date(2025, 1, 1), date(2025, 1, 31), 0),
        "user-satisfaction": (5, 31, date(2025, 1, 1), date(2025, 1, 31), 0),
        "completion": (31, 31, date(2025, 1, 1), date(2025, 1, 31), 0),
    }
    cost = kpi_services.kpi_records_used(renew)["cost"]
    assert (cost.records, cost.days, cost.first_day, cost.missing_days) == (
        3,
        62,
        date(2024, 12, 1),
        None,
    )
    june = kpi_services.kpi_records_used(renew, date(2024, 6, 1), date(2024, 6, 30))
    assert june["transactions-by-channel"].missing_days == 28


def test_only_data_sets_that_feed_the_kpis_are_counted(registry):
    book = public_services().get(slug="book")
    # Its free-form "cost" and its unpublished completion data set are no KPI sources.
    assert list(kpi_services.kpi_records_used(book)) == ["transactions-by-channel"]


def test_a_record_counts_when_it_describes_a_day_asked_about(registry):
    write_records(
        registry["renew_transactions"],
        [{"_timestamp": "2025-01-08T00:00:00Z", "period": "day", "channel": "post", "count": 1}],
        WriteSource(WriteBatch.API),
    )
    renew = public_services().get(slug="renew")
    used = kpi_services.kpi_records_used(renew, date(2025, 1, 8), date(2025, 1, 8))
    # The week of 6 January (digital and phone) and the day's record.
    assert (used["transactions-by-channel"].records, used["transactions-by-channel"].days) == (
        3,
        1,
    )


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
        "value": "0.83",
        "not_enough_data": "",
        "numerator": "310.31",
        "denominator": "372",
        "made_from": "cost: monthly data; transactions: weekly data shared between months by day",
        "first_day": "2025-01-01",
        "last_day": "2025-01-31",
        "previous_period_absolute_change": "-1.17",
        "previous_period_relative_change": str(float((JANUARY_COST / 372 - 2) / 2)),
        "previous_period_not_enough_data": "",
        "year_earlier_absolute_change": "",
        "year_earlier_relative_change": "",
        "year_earlier_not_enough_data": "not enough data in the earlier period",
    }
    assert january[-1]["value"] == str(share(5, 6))
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
    assert take_up[0]["value"] == str(share(320, 472))


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
            {"period": "fortnight"},
            "period must be one of day, week, month, quarter, rolling-year, not 'fortnight'",
        ),
        (
            "/api/services/renew/kpis",
            {"period": "year"},
            "period must be one of day, week, month, quarter, rolling-year, not 'year'",
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
    assert latest(body(get(client, url)))["kpis"]["digital_take_up"]["value"] == share(5, 6)
    # The week of 13 January's digital count goes from 70 to 100 (same week, same channel).
    write_records(
        registry["renew_transactions"],
        channels(week, "2025-01-13", digital=100),
        WriteSource(WriteBatch.API),
    )
    assert latest(body(get(client, url)))["kpis"]["digital_take_up"]["value"] == share(340, 402)


def test_the_latest_period_follows_the_clock(client, registry, monkeypatch):
    def at(moment):
        monkeypatch.setattr(kpi_services, "current_time", lambda: parse_datetime(moment))
        return latest(body(get(client, "/api/services/renew/kpis")))

    # On 1 January the week of 30 December is still running: December is not complete.
    november = at("2025-01-01T00:00:00Z")
    assert november["start_at"] == "2024-11-01T00:00:00+00:00"
    assert november["kpis"]["digital_take_up"]["value"] == share(2, 3)
    december = at("2025-01-06T00:00:00Z")
    assert december["start_at"] == "2024-12-01T00:00:00+00:00"
    assert december["kpis"]["digital_take_up"]["value"] == share(266, 372)


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


def by_day(records: list[dict], field: str, channel: str | None = None) -> dict[date, Fraction]:
    """Each record's `field` spread evenly over the days it describes, added up per day: the
    sharing rule worked out the long way, from the raw records."""
    lengths = {"day": lambda d: 1, "week": lambda d: 7}
    found: dict[date, Fraction] = {}
    for record in records:
        if channel is not None and record["channel"] != channel:
            continue
        start = date.fromisoformat(record["_timestamp"][:10])
        if record["period"] in lengths:
            days = lengths[record["period"]](start)
        else:
            months = 1 if record["period"] == "month" else 3
            index = start.year * 12 + start.month - 1 + months
            end = date(index // 12, index % 12 + 1, 1).replace(day=start.day)
            days = (end - start).days
        for n in range(days):
            day = start + timedelta(days=n)
            found[day] = found.get(day, 0) + Fraction(str(record[field])) / days
    return found


def in_january(per_day: dict) -> Fraction:
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(31)]
    assert all(day in per_day for day in days)
    return sum(per_day[day] for day in days)


@pytest.mark.django_db
def test_the_demo_services_kpis_match_their_records(client):
    from perfplat.demo import load_demo

    list(load_demo(now=NOW))
    payload = body(get(client, "/api/kpis"))
    slugs = {row["service"]["slug"] for row in payload["services"]}
    assert len(slugs) == 12
    assert latest(payload)["start_at"] == JANUARY[0]
    for slug in ("vehicle-tax", "self-assessment", "rural-payments"):
        records = demo_records(slug, NOW)
        transactions = records["transactions-by-channel"]
        digital = in_january(by_day(transactions, "count", "digital"))
        total = in_january(by_day(transactions, "count"))
        cost = in_january(by_day(records["cost"], "amount"))
        kpis = latest(body(get(client, f"/api/services/{slug}/kpis")))["kpis"]
        assert kpis["digital_take_up"]["value"] == float(digital / total), slug
        assert kpis["cost_per_transaction"]["value"] == float(pounds(cost / total)), slug
        assert kpis["cost_per_transaction"]["numerator"] == float(pounds(cost)), slug
        assert kpis["cost_per_transaction"]["denominator"] == plain(total), slug
    rows = {row["service"]["slug"]: row["latest"]["kpis"] for row in payload["services"]}
    assert rows["carers-allowance"]["cost_per_transaction"]["not_enough_data"] == (
        "no published cost data"
    )
    assert rows["register-to-vote"]["completion_rate"]["value"] is None
    assert rows["civil-money-claims"]["user_satisfaction"]["value"] is None
    assert rows["vehicle-tax"]["user_satisfaction"]["value"] is not None


@pytest.mark.django_db
def test_the_demo_shows_its_trends_not_the_calendar(client):
    # Weekly, daily, monthly, tax-monthly and quarterly records of one smooth model: from month
    # to month, digital take-up only creeps up and cost per transaction moves a few percent
    # (a month with five Mondays counting five weeks would move it by 11 to 13%).
    from perfplat.datasets.models import Record
    from perfplat.demo import SERVICES, load_demo

    list(load_demo(now=NOW))
    records = Record.objects.count()
    list(load_demo(now=NOW))
    assert Record.objects.count() == records
    for service in SERVICES:
        periods = body(get(client, f"/api/services/{service.slug}/kpis"))["periods"]
        assert periods[-1]["start_at"] == JANUARY[0], service.slug
        take_up = [p["kpis"]["digital_take_up"]["value"] for p in periods[-13:]]
        assert None not in take_up, service.slug
        assert take_up == sorted(take_up), service.slug
        if "cost" in service.missing:
            continue
        changes = [
            p["kpis"]["cost_per_transaction"]["previous_period"]["relative"] for p in periods[-12:]
        ]
        assert None not in changes, service.slug
        assert max(abs(change) for change in changes) < 0.05, (service.slug, changes)
