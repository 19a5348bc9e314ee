"""KPIs of services, organisations and all of government, from their published data sets.

A thin layer: it asks the read pipeline (`parse_query` -> `run_query`, every sum computed in SQL)
for each standard data set's sums per (period described, day it starts, channel): plain
`maths.Block`s (`record_blocks`), and hands them to `kpis.maths`, which holds every rule (see its
docstring): records are shared between periods by day, and only complete periods are headlines.
Records without a `period` the KPIs know (day, week, month, quarter), or, for transactions and
cost, without a `channel`, are not counted; the standard data set types require both.

A service's KPIs come from its published data sets of the four standard types
(`DataSet.standard_type`), never from a data set that only shares a type's name. Only public
services (`registry.services.public_services`) count.
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
from .periods import API_PERIOD_KINDS, DAY, DESCRIBED, MONTH, days_period

# What each standard data set is asked for: the fields it is grouped by (besides `period`) and
# the fields summed.
GROUPS = {TRANSACTIONS: ("channel",), COST: ("channel",), SATISFACTION: (), COMPLETION: ()}
SUMMED = {
    TRANSACTIONS: ("count",),
    COST: ("amount",),
    SATISFACTION: maths.RATINGS,
    COMPLETION: (maths.STARTED, maths.COMPLETED),
}


def current_time() -> int:
    """Now, in epoch seconds (tests replace this to fix the latest complete period)."""
    return int(time.time())


def check_period(kind: str) -> str:
    if kind not in API_PERIOD_KINDS:
        raise InvalidQuery(f"period must be one of {', '.join(API_PERIOD_KINDS)}, not {kind!r}")
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


def kpi_data_sets(service: Service, published_only: bool = True) -> dict[str, DataSet]:
    """The service's published data set of each standard type (`standard_type`, never the
    name); with `published_only` false, those that would be once published (what publishing
    the dashboard publishes). Should a service have two of a type, the one in its own data
    group (named after the service) counts, else the first."""
    found: dict[str, DataSet] = {}
    # Filtered here rather than in SQL, so that prefetched data sets serve a roll-up.
    candidates = [
        d
        for d in service.data_sets.all()
        if (d.published or not published_only) and d.standard_type in SOURCES
    ]
    for data_set in sorted(
        candidates, key=lambda d: (d.data_group != service.slug, d.data_group, d.pk)
    ):
        found.setdefault(data_set.standard_type, data_set)
    return found


# fetching sums through the read pipeline


def record_blocks(data_set: DataSet) -> list[maths.Block]:
    """A standard data set's records added up per (period they describe, day it starts,
    channel), in SQL by the read pipeline: one `maths.Block` per (day, period) with its sums by
    name (a channel's count or amount; ratings; started, completed) and how many records it
    adds up. Raises InvalidQuery when the data cannot be added up.

    This is the one place the KPIs read records: a summaries table kept on write (SPEC 16)
    can replace the record scan by returning the same blocks."""
    data_type = data_set.standard_type
    params = {
        "period": [DAY],
        "group_by": ["period", *GROUPS[data_type]],
        "collect": [f"{name}:sum" for name in SUMMED[data_type]],
        "flatten": ["true"],
    }
    query = parse_query(params, raw_queries_allowed=data_set.raw_queries_allowed, now=0)
    sums: dict[tuple[date, str], dict[str, maths.Exact]] = {}
    records: dict[tuple[date, str], int] = {}
    for row in run_query(data_set, query):
        described = row["period"]
        if described not in DESCRIBED:
            continue
        key = (date.fromisoformat(row["_start_at"][:10]), described)
        found = sums.setdefault(key, {})
        records[key] = records.get(key, 0) + row["_count"]
        for name in SUMMED[data_type]:
            total = str(row["channel"]) if GROUPS[data_type] else name
            found[total] = found.get(total, 0) + maths.exact(row[f"{name}:sum"])
    return [
        maths.Block(start, described, tuple(found.items()), records[(start, described)])
        for (start, described), found in sorted(sums.items())
    ]


def source_sums(data_set: DataSet, now: int | None = None) -> maths.Source:
    """A standard data set's blocks as a maths.Source, or why they cannot be added up. (`now`
    is not used: the sums do not depend on the time.)"""
    try:
        return maths.Source(tuple(record_blocks(data_set)))
    except InvalidQuery as error:
        return maths.Source(
            unavailable=f"the {data_set.standard_type} data cannot be added up: {error}"
        )


def service_data(service: Service, now: int | None = None) -> maths.ServiceData:
    """What the service's published standard data sets add up to."""
    data_sets = kpi_data_sets(service)
    sources = {}
    for data_type in SOURCES:
        data_set = data_sets.get(data_type)
        sources[data_type] = (
            source_sums(data_set)
            if data_set is not None
            else maths.Source(unavailable=f"no published {data_type} data")
        )
    return maths.ServiceData(
        transactions=sources[TRANSACTIONS],
        cost=sources[COST],
        satisfaction=sources[SATISFACTION],
        completion=sources[COMPLETION],
    )


# what the KPIs use (for the readiness report's evidence)


@dataclass(frozen=True)
class DataSetUse:
    """What the KPIs use of one data set: the records they count and the days those describe
    (within the days asked about, when given)."""

    data_set: DataSet
    records: int  # records the KPIs count
    days: int  # days those records describe
    first_day: date | None  # the first and last of them
    last_day: date | None
    missing_days: int | None  # days asked about that no record describes; None: none asked
    unavailable: str | None = None  # why nothing is counted (data that cannot be added up)


def kpi_records_used(
    service: Service, first: date | None = None, last: date | None = None
) -> dict[str, DataSetUse]:
    """Per standard type, the published data set the service's KPIs come from and what they use
    of it (`data_set_use`)."""
    return {
        data_type: data_set_use(data_set, first, last)
        for data_type, data_set in kpi_data_sets(service).items()
    }


def data_set_use(data_set: DataSet, first: date | None = None, last: date | None = None):
    """What the KPIs use of a standard data set: records with a period the KPIs know (and a
    channel where the type needs one); with `first` and `last` (both included), only those
    describing some of those days. The same blocks as the KPIs (`record_blocks`), so evidence
    counts exactly the records they use."""
    window = days_period(first, last) if first is not None and last is not None else None
    source = source_sums(data_set)
    used = [
        block
        for block in source.blocks
        if window is None or (block.start < window.end and block.end > window.start)
    ]
    days = sorted(
        {
            day
            for block in used
            for day in range(
                max(block.start, window.start if window else block.start).toordinal(),
                min(block.end, window.end if window else block.end).toordinal(),
            )
        }
    )
    return DataSetUse(
        data_set=data_set,
        records=sum(block.records for block in used),
        days=len(days),
        first_day=date.fromordinal(days[0]) if days else None,
        last_day=date.fromordinal(days[-1]) if days else None,
        missing_days=window.days - len(days) if window else None,
        unavailable=source.unavailable,
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
    services: tuple[ServiceKpis, ...]  # each service's figures for the latest period only

    @property
    def latest(self) -> maths.PeriodKpis:
        return self.periods[-1]


def service_kpis(service: Service, kind: str = MONTH, now: int | None = None) -> ServiceKpis:
    """A service's KPIs for every period of `kind` (week, month, quarter, rolling-year) from
    its first data to its latest complete period before `now`."""
    check_period(kind)
    now = current_time() if now is None else now
    data = service_data(service, now)
    return ServiceKpis(service, kind, tuple(maths.service_kpis(data, kind, _today(now))))


def baseline_kpis(
    service: Service, first: date, last: date, now: int | None = None
) -> maths.PeriodKpis:
    """A service's KPIs over a baseline's days (`first` to `last`, both included)."""
    now = current_time() if now is None else now
    return maths.kpis_for(service_data(service, now), days_period(first, last), _today(now))


def _roll_up(organisation, services, kind: str, now: int | None) -> RollUpKpis:
    check_period(kind)
    now = current_time() if now is None else now
    today = _today(now)
    services = list(services.select_related("organisation").prefetch_related("data_sets"))
    data = [service_data(service, now) for service in services]
    periods = tuple(maths.rolled_up_kpis(data, kind, today))
    # Each service's figures for the roll-up's latest period: what it adds up.
    rows = tuple(
        ServiceKpis(service, kind, (maths.kpis_for(d, periods[-1].period, today),))
        for service, d in zip(services, data, strict=True)
    )
    return RollUpKpis(organisation, kind, periods, rows)


def organisation_kpis(
    organisation: Organisation, kind: str = MONTH, now: int | None = None
) -> RollUpKpis:
    """The KPIs of the organisation's public services and those of every body under it, added
    up; with each service's figures for the latest period."""
    return _roll_up(organisation, _services_under(organisation), kind, now)


def government_kpis(kind: str = MONTH, now: int | None = None) -> RollUpKpis:
    """The KPIs of every public service added up; with each service's figures for the latest
    period."""
    return _roll_up(None, public_services(), kind, now)
