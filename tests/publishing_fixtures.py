"""Data for the publishing tests, built through the functions users call: a service's four
standard KPI data sets, a month of their records, and a metric catalogue.

The KPI clock is fixed at 10 February 2025 by `fixed_now`, so the latest complete month is
January 2025. A month of records (`send_month`) gives, for that month: cost per transaction
£4.00 (400 / 100 transactions), user satisfaction 70.0%, completion rate 75.0%, digital take-up
80.0%.
"""

import pytest

from perfplat.datasets.models import WriteBatch
from perfplat.datasets.periods import parse_datetime
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.kpis import services as kpi_services
from perfplat.metrics.services import create_metric

NOW = parse_datetime("2025-02-10T12:00:00Z")
KPI_TYPES = ("transactions-by-channel", "cost", "user-satisfaction", "completion")


@pytest.fixture
def fixed_now(monkeypatch):
    monkeypatch.setattr(kpi_services, "current_time", lambda: NOW)
    return NOW


def kpi_data_sets(service, published=True, types=KPI_TYPES) -> dict:
    """The service's data set of each standard KPI type, by type."""
    return {
        data_type: create_data_set(
            None,
            data_type,
            service=service,
            settings=DataSetSettings(standard_type=data_type, published=published),
        )[0]
        for data_type in types
    }


def month_records(day: str = "2025-01-01", scale: int = 1) -> dict[str, list[dict]]:
    at = {"_timestamp": f"{day}T00:00:00Z", "period": "month"}
    return {
        "transactions-by-channel": [
            {**at, "channel": "digital", "count": 80 * scale},
            {**at, "channel": "phone", "count": 20 * scale},
        ],
        "cost": [{**at, "channel": "all", "amount": 400 * scale}],
        "user-satisfaction": [
            {**at, "rating_1": 5, "rating_2": 5, "rating_3": 20, "rating_4": 30, "rating_5": 40}
        ],
        "completion": [{**at, "started": 200, "completed": 150}],
    }


def write(data_set, records, kind=WriteBatch.API) -> int:
    return write_records(data_set, records, WriteSource(kind))


def send_month(data_sets: dict, day: str = "2025-01-01", **options) -> None:
    for data_type, records in month_records(day, **options).items():
        if data_type in data_sets:
            write(data_sets[data_type], records)


KPI_METRICS = {
    "transactions-by-channel": ("digital-take-up", "Digital take-up", "digital-take-up"),
    "cost": ("cost-per-transaction", "Cost per transaction", "cost-per-transaction"),
    "user-satisfaction": ("user-satisfaction", "User satisfaction", "user-satisfaction"),
    "completion": ("completion-rate", "Completion rate", "completion-rate"),
}
QUERIES = {
    "transactions-by-channel": "period=month&group_by=channel&collect=count:sum",
    "cost": "period=month&collect=amount:sum",
    "user-satisfaction": "period=month&collect=rating_4:sum&collect=rating_5:sum",
    "completion": "period=month&collect=started:sum&collect=completed:sum",
}


def catalogue(service, data_sets: dict, other_rationale="Shows demand for the service") -> dict:
    """A metric for each KPI data set, and one other metric (transactions), by slug."""
    metrics = {}
    for data_type, data_set in data_sets.items():
        slug, name, kpi = KPI_METRICS[data_type]
        metrics[slug] = create_metric(
            None,
            service,
            slug=slug,
            name=name,
            kpi=kpi,
            data_set=data_set,
            query=QUERIES[data_type],
            period="month",
            rationale=f"Why we measure {name.lower()}",
        )
    if "transactions-by-channel" in data_sets:
        metrics["transactions"] = create_metric(
            None,
            service,
            slug="transactions",
            name="Transactions",
            data_set=data_sets["transactions-by-channel"],
            query="period=month&collect=count:sum",
            period="month",
            rationale=other_rationale,
        )
    return metrics
