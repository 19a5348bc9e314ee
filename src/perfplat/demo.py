"""Realistic demo data: services sending a year of weekly performance data.

Idempotent: data sets are created once and records carry auto_ids, so loading again replaces
records instead of adding copies. Everything is written through the same write path as the API.
"""

import random
import time
from dataclasses import dataclass

from perfplat.datasets.models import DataSet, DataSetToken, WriteBatch
from perfplat.datasets.periods import WEEK, add_periods, format_timestamp, period_start
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.datasets.writes import WriteSource, write_records

WEEKS = 52


@dataclass(frozen=True)
class DemoService:
    slug: str
    name: str
    weekly_transactions: int
    digital_share: float
    cost_per_transaction: float
    satisfaction: float  # share of satisfied or very satisfied responses
    completion: float
    # Data sets this service does not send yet: its KPIs show "not enough data".
    missing: tuple[str, ...] = ()


SERVICES = [
    DemoService("vehicle-tax", "Tax your vehicle", 410_000, 0.86, 0.62, 0.91, 0.83),
    DemoService(
        "driving-licence-renewal", "Renew your driving licence", 95_000, 0.71, 4.10, 0.87, 0.76
    ),
    DemoService("book-driving-test", "Book your driving test", 38_000, 0.93, 2.35, 0.72, 0.68),
    DemoService(
        "self-assessment", "File your Self Assessment tax return", 240_000, 0.92, 3.05, 0.81, 0.79
    ),
    DemoService("child-benefit", "Claim Child Benefit", 14_000, 0.58, 11.80, 0.78, 0.64),
    DemoService(
        "carers-allowance",
        "Apply for Carer's Allowance",
        6_200,
        0.64,
        19.50,
        0.84,
        0.71,
        missing=("cost",),
    ),
    DemoService("passport-renewal", "Renew your passport", 120_000, 0.79, 15.20, 0.88, 0.74),
    DemoService(
        "lasting-power-of-attorney",
        "Make a lasting power of attorney",
        18_500,
        0.41,
        24.00,
        0.83,
        0.59,
    ),
    DemoService(
        "civil-money-claims",
        "Make a money claim",
        9_800,
        0.67,
        31.40,
        0.69,
        0.61,
        missing=("user-satisfaction",),
    ),
    DemoService("rural-payments", "Claim rural payments", 3_100, 0.88, 45.00, 0.66, 0.57),
    DemoService(
        "file-company-accounts", "File your company accounts", 76_000, 0.97, 0.95, 0.86, 0.88
    ),
    DemoService(
        "register-to-vote",
        "Register to vote",
        52_000,
        0.95,
        0.40,
        0.93,
        0.90,
        missing=("completion",),
    ),
]

CHANNELS = ("digital", "phone", "paper")
DATA_SET_TYPES = {
    "transactions-by-channel": ("_timestamp", "period", "channel"),
    "cost": ("_timestamp", "period", "channel"),
    "user-satisfaction": ("_timestamp", "period"),
    "completion": ("_timestamp", "period"),
}


def _weeks(now: int) -> list[int]:
    last = period_start("week", now) - WEEK
    return [last - WEEK * i for i in range(WEEKS - 1, -1, -1)]


def _months(now: int) -> list[int]:
    last = add_periods("month", period_start("month", now), -1)
    return [add_periods("month", last, -i) for i in range(11, -1, -1)]


def _seasonal(rng: random.Random, week_index: int) -> float:
    # A gentle yearly cycle plus noise, so charts look like real services.
    return 1 + 0.12 * ((week_index % 52) / 52 - 0.5) + rng.uniform(-0.06, 0.06)


def transactions(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    records = []
    for index, week in enumerate(_weeks(now)):
        total = service.weekly_transactions * _seasonal(rng, index)
        # Digital take-up creeps up over the year.
        digital = min(0.99, service.digital_share + 0.04 * index / WEEKS)
        shares = {"digital": digital, "phone": (1 - digital) * 0.6, "paper": (1 - digital) * 0.4}
        for channel in CHANNELS:
            records.append(
                {
                    "_timestamp": format_timestamp(week),
                    "period": "week",
                    "channel": channel,
                    "count": round(total * shares[channel]),
                }
            )
    return records


def costs(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    # Non-digital transactions cost several times more to handle.
    unit = {"digital": 0.5, "phone": 3.0, "paper": 6.0}
    records = []
    monthly = service.weekly_transactions * 52 / 12
    for month in _months(now):
        for channel in CHANNELS:
            share = (
                service.digital_share if channel == "digital" else (1 - service.digital_share) / 2
            )
            amount = monthly * share * service.cost_per_transaction * unit[channel] / 1.5
            records.append(
                {
                    "_timestamp": format_timestamp(month),
                    "period": "month",
                    "channel": channel,
                    "amount": round(amount * rng.uniform(0.93, 1.07), 2),
                }
            )
    return records


def satisfaction(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    records = []
    for week in _weeks(now):
        responses = max(40, int(service.weekly_transactions * 0.02 * rng.uniform(0.8, 1.2)))
        satisfied = min(0.98, service.satisfaction + rng.uniform(-0.03, 0.03))
        very = satisfied * 0.55
        counts = [
            (1 - satisfied) * 0.35,
            (1 - satisfied) * 0.35,
            (1 - satisfied) * 0.30,
            satisfied - very,
            very,
        ]
        record = {"_timestamp": format_timestamp(week), "period": "week"}
        for rating, share in enumerate(counts, start=1):
            record[f"rating_{rating}"] = round(responses * share)
        records.append(record)
    return records


def completion(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    records = []
    for index, week in enumerate(_weeks(now)):
        started = round(
            service.weekly_transactions
            * service.digital_share
            / service.completion
            * _seasonal(rng, index)
        )
        rate = min(0.99, service.completion + rng.uniform(-0.02, 0.02))
        records.append(
            {
                "_timestamp": format_timestamp(week),
                "period": "week",
                "started": started,
                "completed": round(started * rate),
            }
        )
    return records


BUILDERS = {
    "transactions-by-channel": transactions,
    "cost": costs,
    "user-satisfaction": satisfaction,
    "completion": completion,
}


def _demo_data_set(group: str, data_type: str) -> DataSet:
    data_set = DataSet.objects.filter(data_group=group, data_type=data_type).first()
    if data_set is None:
        data_set, _token = create_data_set(
            group,
            data_type,
            settings=DataSetSettings(
                auto_ids=DATA_SET_TYPES[data_type], published=True, max_age_expected=8 * 86400
            ),
        )
    return data_set


def load_demo(now: int | None = None):
    """Create the demo data sets and write their records; yields progress lines."""
    now = now or int(time.time())
    for service in SERVICES:
        # The same service always gets the same numbers.
        rng = random.Random(service.slug)
        written = 0
        for data_type, build in BUILDERS.items():
            if data_type in service.missing:
                continue
            data_set = _demo_data_set(service.slug, data_type)
            token = DataSetToken.objects.filter(data_set=data_set, revoked_at=None).first()
            source = WriteSource(WriteBatch.API, token_id=token.pk if token else None)
            written += write_records(data_set, build(service, rng, now), source)
        yield f"{service.name}: {written} records"
    yield f"Demo data loaded: {len(SERVICES)} services."
