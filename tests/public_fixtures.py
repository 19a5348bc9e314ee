"""A small public platform for the tests of the public pages (perfplat.public), built through
the same functions users call: organisations, services, typed data sets written through the
write path, metrics, and dashboards published through the publishing workflow.

`now` is fixed at 10 February 2025 (kpis.services.current_time), so the latest complete month
is January 2025:

- transport (department) with the agency licensing; health (department); culture (department,
  nothing public).
- renew (licensing, live): all four KPIs for December 2024 and January 2025. January:
  transactions digital 300 + phone 100, cost 800 (£2.00 a transaction), satisfaction 16 of 20
  responses satisfied (80%), completion 400 of 500 (80%), digital take-up 75%. December:
  digital 200 + phone 200 (50%). Its transactions, satisfaction and completion are sent per
  day (every day of December and January, so both months are complete), their counts all on
  Mondays 2 December, 6 and 20 January: the weekly modules show whole weeks.
- book (transport, beta): transactions only (digital 10, phone 90 in January): cost per
  transaction, satisfaction and completion are "not enough data".
- jab (health, live): transactions digital 50, phone 50 in January.
- secret (culture): data but no published dashboard; pothole (transport): a draft dashboard only.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from perfplat.dashboards.services import publish_directly, start_draft
from perfplat.datasets.models import WriteBatch
from perfplat.datasets.periods import parse_datetime
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.metrics.services import create_metric
from perfplat.registry.services import create_organisation, create_service

NOW = parse_datetime("2025-02-10T12:00:00Z")


def week(day: str, **fields) -> dict:
    return {"_timestamp": f"{day}T00:00:00Z", "period": "week", **fields}


def month(day: str, **fields) -> dict:
    return {"_timestamp": f"{day}T00:00:00Z", "period": "month", **fields}


def day(when: str, **fields) -> dict:
    return {"_timestamp": f"{when}T00:00:00Z", "period": "day", **fields}


def every_day(counts: dict[str, dict], zero: dict, channels_of=None) -> list[dict]:
    """A record per day of December 2024 and January 2025 (per channel, with `channels_of`):
    `counts` on the days it names, `zero` on the others."""
    records = []
    first = date(2024, 12, 1)
    for n in range(62):
        when = str(first + timedelta(days=n))
        fields = counts.get(when, zero)
        if channels_of:
            records += [day(when, channel=c, count=fields.get(c, 0)) for c in channels_of]
        else:
            records.append(day(when, **fields))
    return records


def channels(maker, day, **counts) -> list[dict]:
    return [maker(day, channel=channel, count=n) for channel, n in counts.items()]


def data_set(service, data_type: str, records: list, **settings):
    found, _token = create_data_set(
        None,
        data_type,
        service=service,
        settings=DataSetSettings(
            published=True, standard_type=data_type, max_age_expected=7 * 86400, **settings
        ),
    )
    if records:
        write_records(found, records, WriteSource(WriteBatch.API))
    return found


def correct_renew(world, reason: str = "Late returns", **counts):
    """A correction: renew's digital transactions of Monday 6 January 2025 (January, the
    latest complete month) sent again as 210 instead of 200. Returns the Correction."""
    from perfplat.datasets.models import Correction

    write_records(
        world.renew_transactions,
        channels(day, "2025-01-06", **(counts or {"digital": 210})),
        WriteSource(WriteBatch.API, reason=reason),
    )
    return Correction.objects.latest("pk")


@dataclass
class PublicWorld:
    transport: object
    licensing: object
    health: object
    culture: object
    renew: object
    book: object
    jab: object
    secret: object
    pothole: object
    renew_transactions: object
    renew_cost: object


def build_public_world() -> PublicWorld:
    transport = create_organisation(
        None, slug="transport", name="Department for Transport", abbreviation="DfT"
    )
    licensing = create_organisation(
        None,
        slug="licensing",
        name="Licensing Agency",
        abbreviation="LA",
        type="agency",
        parent=transport,
    )
    health = create_organisation(None, slug="health", name="Department of Health")
    culture = create_organisation(None, slug="culture", name="Department for Culture")

    renew = create_service(
        None,
        slug="renew",
        name="Renew a licence",
        organisation=licensing,
        phase="live",
        description="Renew a driving licence online.",
        audience="Drivers renewing their licence every 10 years",
        dashboard_usage="The team reviews it every week.",
        start_page_url="https://www.gov.uk/renew",
    )
    renew_transactions = data_set(
        renew,
        "transactions-by-channel",
        every_day(
            {
                "2024-12-02": {"digital": 200, "phone": 200},
                "2025-01-06": {"digital": 200, "phone": 50},
                "2025-01-20": {"digital": 100, "phone": 50},
            },
            {},
            channels_of=("digital", "phone"),
        ),
    )
    renew_cost = data_set(
        renew,
        "cost",
        [
            month("2024-12-01", channel="all", amount=1000),
            month("2025-01-01", channel="all", amount=800),
        ],
    )
    no_ratings = {f"rating_{n}": 0 for n in range(1, 6)}
    data_set(
        renew,
        "user-satisfaction",
        every_day(
            {
                "2024-12-02": {f"rating_{n}": 2 for n in range(1, 6)},
                "2025-01-06": {
                    "rating_1": 1,
                    "rating_2": 1,
                    "rating_3": 2,
                    "rating_4": 6,
                    "rating_5": 10,
                },
            },
            no_ratings,
        ),
    )
    data_set(
        renew,
        "completion",
        every_day(
            {
                "2024-12-02": {"started": 100, "completed": 50},
                "2025-01-06": {"started": 500, "completed": 400},
            },
            {"started": 0, "completed": 0},
        ),
    )
    create_metric(
        None,
        renew,
        slug="transactions",
        name="Transactions completed",
        unit="transactions",
        rationale="Shows demand for the service.",
        data_set=renew_transactions,
        query="period=month&collect=count:sum",
    )
    create_metric(
        None,
        renew,
        slug="cost-per-transaction",
        name="Cost per transaction",
        unit="£",
        kpi="cost-per-transaction",
        rationale="Shows whether the service gets cheaper to run.",
        data_set=renew_cost,
        query="period=month&collect=amount:sum",
    )
    # A planned metric without data: not on the public page.
    create_metric(None, renew, slug="planned", name="Appointments booked", rationale="Later.")
    publish_directly(renew)

    book = create_service(
        None, slug="book", name="Book a test", organisation=transport, phase="beta"
    )
    data_set(book, "transactions-by-channel", channels(month, "2025-01-01", digital=10, phone=90))
    publish_directly(book)

    jab = create_service(None, slug="jab", name="Book a jab", organisation=health, phase="live")
    data_set(jab, "transactions-by-channel", channels(month, "2025-01-01", digital=50, phone=50))
    publish_directly(jab)

    secret = create_service(None, slug="secret", name="Secret", organisation=culture, phase="live")
    data_set(secret, "transactions-by-channel", channels(month, "2025-01-01", digital=5))
    pothole = create_service(
        None, slug="pothole", name="Report a pothole", organisation=transport, phase="alpha"
    )
    data_set(pothole, "transactions-by-channel", channels(month, "2025-01-01", digital=5))
    start_draft(None, pothole)
    return PublicWorld(
        transport=transport,
        licensing=licensing,
        health=health,
        culture=culture,
        renew=renew,
        book=book,
        jab=jab,
        secret=secret,
        pothole=pothole,
        renew_transactions=renew_transactions,
        renew_cost=renew_cost,
    )
