"""What the KPI API replies: the response schemas (documented in OpenAPI) and the functions that
turn `kpis.services` results into that JSON and into the flat CSV.

Each figure says how it was made (`made_from`: "monthly data", "cost: monthly data; transactions:
weekly data shared between months by day") and the days its numerator and denominator cover
(`first_day`, `last_day`, both included); each period whether it is complete (kpis.maths).

Numbers: a KPI's value in pounds is rounded to the penny; shares (satisfaction, completion, take-up)
are fractions from 0 to 1 at full float precision (0.8125 is 81.25%); a relative change is a
fraction of the earlier value (0.1 is 10% more); an absolute change is in the KPI's unit.
"""

from datetime import date
from decimal import Decimal

from ninja import Schema

from perfplat import csvfiles

from . import maths
from .services import RollUpKpis, ServiceKpis

Number = int | float


class ChangeOut(Schema):
    start_at: str  # the earlier period compared with
    end_at: str
    absolute: float | None
    relative: float | None
    not_enough_data: str | None


class KpiOut(Schema):
    unit: str  # "pounds" or "share"
    value: float | None
    not_enough_data: str | None  # why value is null
    numerator: Number | None
    denominator: Number | None
    # How the figure was made from the records, e.g. "weekly data shared between months by
    # day"; null when there is not enough data.
    made_from: str | None
    first_day: str | None  # the first and last day both sides cover (YYYY-MM-DD)
    last_day: str | None
    services: int | None  # a roll-up: how many services it adds up; null for a service
    previous_period: ChangeOut
    year_earlier: ChangeOut


class KpisOut(Schema):
    cost_per_transaction: KpiOut
    user_satisfaction: KpiOut  # share of responses rated 4 or 5
    user_satisfaction_score: KpiOut  # mean rating, 1 -> 0 ... 5 -> 1
    completion_rate: KpiOut
    digital_take_up: KpiOut


class PeriodOut(Schema):
    start_at: str
    end_at: str
    # Ended, and every data set describing part of it describes its last day. The latest is
    # false only when no period is complete yet; an earlier one may be false too (its known
    # figures are final all the same: each covers every day of the period).
    complete: bool
    kpis: KpisOut
    cost_per_transaction_by_channel: dict[str, KpiOut]


class ServiceRef(Schema):
    slug: str
    name: str
    organisation: str
    phase: str


class OrganisationRef(Schema):
    slug: str
    name: str
    abbreviation: str


class ServiceKpisOut(Schema):
    service: ServiceRef
    period: str  # week, month, quarter or rolling-year
    periods: list[PeriodOut]  # in time order; the last is the latest complete period


class ServiceRowOut(Schema):
    service: ServiceRef
    latest: PeriodOut  # the service's figures for the roll-up's latest period


class OrganisationKpisOut(Schema):
    organisation: OrganisationRef
    period: str
    periods: list[PeriodOut]  # the roll-up of every service under the organisation
    services: list[ServiceRowOut]


class GovernmentKpisOut(Schema):
    period: str
    periods: list[PeriodOut]  # the roll-up of every public service
    services: list[ServiceRowOut]


# JSON


def timestamp(day: date) -> str:
    """A period boundary as the read API writes times: `2025-01-01T00:00:00+00:00`."""
    return f"{day.isoformat()}T00:00:00+00:00"


def _number(value):
    # JSON has no decimals: pounds already rounded to the penny read back exactly as floats.
    return float(value) if isinstance(value, Decimal) else value


def change_json(kpi: str, change: maths.Change) -> dict:
    return {
        "start_at": timestamp(change.compared_with.start),
        "end_at": timestamp(change.compared_with.end),
        "absolute": _number(maths.rounded_value(kpi, change.absolute)),
        "relative": maths.rounded_share(change.relative),
        "not_enough_data": change.not_enough_data,
    }


def day_json(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def kpi_json(kpi: maths.KpiValue) -> dict:
    return {
        "unit": kpi.unit,
        "value": _number(maths.rounded_value(kpi.kpi, kpi.value)),
        "not_enough_data": kpi.not_enough_data,
        "numerator": _number(maths.rounded_numerator(kpi.kpi, kpi.numerator)),
        "denominator": None if kpi.denominator is None else maths.plain(kpi.denominator),
        "made_from": kpi.made_from,
        "first_day": day_json(kpi.first_day),
        "last_day": day_json(kpi.last_day),
        "services": kpi.services,
        "previous_period": change_json(kpi.kpi, kpi.previous_period),
        "year_earlier": change_json(kpi.kpi, kpi.year_earlier),
    }


def period_json(period: maths.PeriodKpis) -> dict:
    return {
        "start_at": timestamp(period.period.start),
        "end_at": timestamp(period.period.end),
        "complete": period.complete,
        "kpis": {name: kpi_json(kpi) for name, kpi in period.main.items()},
        "cost_per_transaction_by_channel": {
            channel: kpi_json(kpi) for channel, kpi in period.cost_by_channel.items()
        },
    }


def service_ref(service) -> dict:
    return {
        "slug": service.slug,
        "name": service.name,
        "organisation": service.organisation.slug,
        "phase": service.phase,
    }


def service_json(result: ServiceKpis) -> dict:
    return {
        "service": service_ref(result.service),
        "period": result.kind,
        "periods": [period_json(period) for period in result.periods],
    }


def roll_up_json(result: RollUpKpis) -> dict:
    payload = {}
    if result.organisation is not None:
        organisation = result.organisation
        payload["organisation"] = {
            "slug": organisation.slug,
            "name": organisation.name,
            "abbreviation": organisation.abbreviation,
        }
    payload["period"] = result.kind
    payload["periods"] = [period_json(period) for period in result.periods]
    payload["services"] = [
        {"service": service_ref(row.service), "latest": period_json(row.latest)}
        for row in result.services
    ]
    return payload


# CSV: one row per subject x period x KPI (and channel, for cost per transaction by channel)

CSV_COLUMNS = (
    "subject",  # service, organisation or government
    "slug",  # the service's or organisation's slug; empty for government
    "period",
    "start_at",
    "end_at",
    "kpi",
    "channel",  # empty: all channels
    "unit",
    "value",
    "not_enough_data",
    "numerator",
    "denominator",
    "made_from",
    "first_day",
    "last_day",
    "previous_period_absolute_change",
    "previous_period_relative_change",
    "previous_period_not_enough_data",
    "year_earlier_absolute_change",
    "year_earlier_relative_change",
    "year_earlier_not_enough_data",
)


def _csv_rows(subject: str, slug: str, kind: str, periods) -> list[list]:
    rows = []
    for period in periods:
        for kpi in period.kpis:
            shaped = kpi_json(kpi)
            rows.append(
                [
                    subject,
                    slug,
                    kind,
                    timestamp(period.period.start),
                    timestamp(period.period.end),
                    kpi.kpi,
                    kpi.channel or "",
                    kpi.unit,
                    maths.rounded_value(kpi.kpi, kpi.value),
                    kpi.not_enough_data,
                    maths.rounded_numerator(kpi.kpi, kpi.numerator),
                    shaped["denominator"],
                    kpi.made_from,
                    shaped["first_day"],
                    shaped["last_day"],
                    maths.rounded_value(kpi.kpi, kpi.previous_period.absolute),
                    shaped["previous_period"]["relative"],
                    kpi.previous_period.not_enough_data,
                    maths.rounded_value(kpi.kpi, kpi.year_earlier.absolute),
                    shaped["year_earlier"]["relative"],
                    kpi.year_earlier.not_enough_data,
                ]
            )
    return rows


def _csv(rows: list[list]) -> str:
    # Pounds keep their two decimals ("0.50"); None is an empty cell.
    return csvfiles.csv_text([CSV_COLUMNS, *rows])


def service_csv(result: ServiceKpis) -> str:
    return _csv(_csv_rows("service", result.service.slug, result.kind, result.periods))


def roll_up_csv(result: RollUpKpis) -> str:
    if result.organisation is None:
        rows = _csv_rows("government", "", result.kind, result.periods)
    else:
        rows = _csv_rows("organisation", result.organisation.slug, result.kind, result.periods)
    for row in result.services:
        rows += _csv_rows("service", row.service.slug, result.kind, row.periods)
    return _csv(rows)
