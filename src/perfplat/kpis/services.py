"""KPIs of services, organisations and all of government, from their published data sets.

A thin layer: it asks the read pipeline (`parse_query` -> `run_query`, every sum computed in SQL)
for each standard data set's monthly sums, and hands them to `kpis.maths`, which holds every
rule (see its docstring). Records are bucketed by the month of their `_timestamp`, so a weekly
record counts in the month (and quarter) its week starts in. A record's `period` field says how
long a stretch it describes: records of an hour, day, week or month count in their month; those
of a quarter or year are kept whole (maths counts them only in periods that contain them).
Records without a `period` (or, for transactions and cost, without a `channel`) are not counted,
as the standard data set types require both.

Only public services (`registry.services.public_services`) and their published data sets count.
"""

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime

from perfplat.datasets.engine import run_query
from perfplat.datasets.models import DataSet
from perfplat.datasets.queries import parse_query
from perfplat.errors import InvalidQuery, NotFound
from perfplat.registry.models import Organisation, Service
from perfplat.registry.services import public_services

from . import maths
from .maths import COMPLETION, COST, SATISFACTION, SOURCES, TRANSACTIONS
from .periods import MONTH, PERIOD_KINDS, block_start

# What each standard data set is asked for: the fields it is grouped by (besides `period`) and
# the fields summed.
GROUPS = {TRANSACTIONS: ("channel",), COST: ("channel",), SATISFACTION: (), COMPLETION: ()}
SUMMED = {
    TRANSACTIONS: ("count",),
    COST: ("amount",),
    SATISFACTION: maths.RATINGS,
    COMPLETION: (maths.STARTED, maths.COMPLETED),
}
# How many months a record describes, from its `period` field.
MONTHS_DESCRIBED = {"hour": 1, "day": 1, "week": 1, "month": 1, "quarter": 3, "year": 12}


def current_time() -> int:
    """Now, in epoch seconds (tests replace this to fix the latest complete period)."""
    return int(time.time())


def check_period(kind: str) -> str:
    if kind not in PERIOD_KINDS:
        raise InvalidQuery(f"period must be one of {', '.join(PERIOD_KINDS)}, not {kind!r}")
    return kind


def _today(now: int) -> date:
    return datetime.fromtimestamp(now, UTC).date()


# finding what is public


def public_service(slug: str) -> Service:
    service = public_services().select_related("organisation").filter(slug=slug).first()
    if service is None:
        raise NotFound(f"No published service {slug!r}")
    return service


def public_organisation(slug: str) -> Organisation:
    """An organisation is public when it or a body under it has a public service."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None or not _services_under(organisation).exists():
        raise NotFound(f"No organisation {slug!r} with published services")
    return organisation


def _services_under(organisation: Organisation):
    return public_services().filter(organisation_id__in=organisation.descendant_ids())


def kpi_data_sets(service: Service) -> dict[str, DataSet]:
    """The service's published data set of each standard type. Should a service have two of a
    type, the one in its own data group (named after the service) counts, else the first."""
    found: dict[str, DataSet] = {}
    # Filtered here rather than in SQL, so that prefetched data sets serve a roll-up.
    candidates = [d for d in service.data_sets.all() if d.published and d.data_type in SOURCES]
    for data_set in sorted(
        candidates, key=lambda d: (d.data_group != service.slug, d.data_group, d.pk)
    ):
        found.setdefault(data_set.data_type, data_set)
    return found


# fetching sums through the read pipeline


def source_sums(data_set: DataSet, now: int) -> maths.Source:
    """A standard data set's sums per month (and per quarter or year for records describing
    one), computed in SQL by the read pipeline."""
    data_type = data_set.data_type
    params = {
        "period": [MONTH],
        "group_by": ["period", *GROUPS[data_type]],
        "collect": [f"{name}:sum" for name in SUMMED[data_type]],
        "flatten": ["true"],
    }
    try:
        query = parse_query(params, raw_queries_allowed=data_set.raw_queries_allowed, now=now)
        rows = run_query(data_set, query)
    except InvalidQuery as error:
        # A free-form data set may hold text where numbers belong.
        return maths.Source(unavailable=f"the {data_type} data cannot be added up: {error}")
    blocks: dict[tuple[date, int], dict[str, maths.Exact]] = {}
    for row in rows:
        described = row["period"]
        months = MONTHS_DESCRIBED.get(described) if isinstance(described, str) else None
        if months is None:
            continue
        month = date.fromisoformat(row["_start_at"][:10])
        sums = blocks.setdefault((block_start(month, months), months), {})
        for name in SUMMED[data_type]:
            key = str(row["channel"]) if GROUPS[data_type] else name
            sums[key] = sums.get(key, 0) + maths.exact(row[f"{name}:sum"])
    return maths.Source(
        tuple(
            maths.Block(start, months, tuple(sums.items()))
            for (start, months), sums in sorted(blocks.items())
        )
    )


def service_data(service: Service, now: int) -> maths.ServiceData:
    """What the service's published standard data sets add up to."""
    data_sets = kpi_data_sets(service)
    sources = {}
    for data_type in SOURCES:
        data_set = data_sets.get(data_type)
        sources[data_type] = (
            source_sums(data_set, now)
            if data_set is not None
            else maths.Source(unavailable=f"no published {data_type} data")
        )
    return maths.ServiceData(
        transactions=sources[TRANSACTIONS],
        cost=sources[COST],
        satisfaction=sources[SATISFACTION],
        completion=sources[COMPLETION],
    )


# KPIs


@dataclass(frozen=True)
class ServiceKpis:
    service: Service
    kind: str
    periods: tuple[maths.PeriodKpis, ...]  # in time order: the last is the latest complete

    @property
    def latest(self) -> maths.PeriodKpis:
        return self.periods[-1]


@dataclass(frozen=True)
class RollUpKpis:
    organisation: Organisation | None  # None: all of government
    kind: str
    periods: tuple[maths.PeriodKpis, ...]  # the roll-up, in time order
    services: tuple[ServiceKpis, ...]  # each service with its latest complete period only

    @property
    def latest(self) -> maths.PeriodKpis:
        return self.periods[-1]


def service_kpis(service: Service, kind: str = MONTH, now: int | None = None) -> ServiceKpis:
    """A service's KPIs for every period of `kind` (month, quarter, rolling-year) from its first
    data to the last period that ended before `now`."""
    check_period(kind)
    now = current_time() if now is None else now
    data = service_data(service, now)
    return ServiceKpis(service, kind, tuple(maths.service_kpis(data, kind, _today(now))))


def _roll_up(organisation, services, kind: str, now: int | None) -> RollUpKpis:
    check_period(kind)
    now = current_time() if now is None else now
    today = _today(now)
    services = list(services.select_related("organisation").prefetch_related("data_sets"))
    data = [service_data(service, now) for service in services]
    rows = tuple(
        ServiceKpis(service, kind, tuple(maths.service_kpis(d, kind, today, only_latest=True)))
        for service, d in zip(services, data, strict=True)
    )
    return RollUpKpis(organisation, kind, tuple(maths.rolled_up_kpis(data, kind, today)), rows)


def organisation_kpis(
    organisation: Organisation, kind: str = MONTH, now: int | None = None
) -> RollUpKpis:
    """The KPIs of the organisation's public services and those of every body under it, added
    up; with each service's latest period."""
    return _roll_up(organisation, _services_under(organisation), kind, now)


def government_kpis(kind: str = MONTH, now: int | None = None) -> RollUpKpis:
    """The KPIs of every public service added up; with each service's latest period."""
    return _roll_up(None, public_services(), kind, now)
