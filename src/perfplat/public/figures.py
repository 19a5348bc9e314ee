"""The KPIs the public pages show, computed by `kpis` and kept in the cache (see caching.py).

The read pipeline sums each standard data set per (period described, day, channel)
(`kpis.services.source_sums`, all in SQL); `kpis.maths` turns the sums into KPIs. Each step is
cached: the sums by data set and version; a service's KPIs, its numerators and denominators for a
period, and whether each recent period is complete for it, by the versions of the data sets they
come from (its "sources key") and by the day (completeness depends on it: a record still running
may end); a roll-up by its services' sources keys.

Pages listing many services find every sources key with one light query (`sources_keys`) and
load a service's data sets only when one of its entries is missing.
"""

import logging
from datetime import UTC, date, datetime

from django.db import DatabaseError, transaction
from django.db.models import Prefetch

from perfplat.datasets.models import DataSet
from perfplat.kpis import maths
from perfplat.kpis import services as kpi_services
from perfplat.kpis.maths import COMPLETION, COST, SATISFACTION, SOURCES, TRANSACTIONS
from perfplat.kpis.periods import Period, days_period, latest_period
from perfplat.registry.services import public_services

from .caching import cached, data_set_key

logger = logging.getLogger(__name__)

# What pages need of a data set to find it and key its cache entries; the rest (field types,
# used only when a query runs) is loaded when a cache misses.
DATA_SET_FIELDS = (
    "pk",
    "service_id",
    "data_group",
    "data_type",
    "standard_type",
    "published",
    "version",
    "created_at",
    "last_write_at",
    "max_age_expected",
    "raw_queries_allowed",
)


def now() -> int:
    """Now, in epoch seconds: the KPI API's clock, which tests fix."""
    return kpi_services.current_time()


def today_of(moment: int) -> date:
    return datetime.fromtimestamp(moment, UTC).date()


def public_services_with_data_sets():
    """Every public service with its organisation and (a light copy of) its data sets."""
    return (
        public_services()
        .select_related("organisation")
        .prefetch_related(
            Prefetch("data_sets", queryset=DataSet.objects.only(*DATA_SET_FIELDS).order_by("pk"))
        )
    )


def sources_key(service) -> tuple:
    """The standard data sets a service's KPIs come from (kpis.services.kpi_data_sets), with
    their versions."""
    found = kpi_services.kpi_data_sets(service)
    return tuple((data_type, data_set_key(found[data_type])) for data_type in sorted(found))


def sources_keys(services) -> dict[int, tuple]:
    """`sources_key` of each of the services, from one query of plain values (no model
    objects), choosing the data sets as kpis.services.kpi_data_sets does."""
    slugs = {service.pk: service.slug for service in services}
    rows = (
        DataSet.objects.filter(
            service__in=public_services(), published=True, standard_type__in=SOURCES
        )
        .order_by("pk")
        .values_list("service_id", "pk", "data_group", "standard_type", "created_at", "version")
    )
    candidates: dict[int, list] = {pk: [] for pk in slugs}
    for row in rows:
        if row[0] in candidates:
            candidates[row[0]].append(row)
    keys = {}
    for pk, found in candidates.items():
        chosen: dict[str, tuple] = {}
        for _, data_set, _group, data_type, created, version in sorted(
            found, key=lambda row: (row[2] != slugs[pk], row[2], row[1])
        ):
            created_at = created.timestamp() if created else 0
            chosen.setdefault(data_type, (data_set, created_at, version))
        keys[pk] = tuple((data_type, chosen[data_type]) for data_type in sorted(chosen))
    return keys


def source(data_set, moment: int | None = None) -> maths.Source:
    """A standard data set's sums (they do not depend on the time)."""
    return cached(
        ("sums", data_set.standard_type, *data_set_key(data_set)),
        lambda: _isolated_sums(data_set),
    )


def _isolated_sums(data_set) -> maths.Source:
    """The data set's sums, or, should its data make the database or the arithmetic fail in
    a way the read pipeline did not foresee, a source that says so: one service's data may
    only take down its own figures, never a page that lists many services."""
    try:
        # A savepoint: on PostgreSQL a failed statement would otherwise end the transaction.
        with transaction.atomic():
            return kpi_services.source_sums(data_set)
    except (DatabaseError, ArithmeticError, ValueError, TypeError):
        logger.exception("The sums of data set %s could not be computed", data_set.pk)
        return maths.Source(unavailable=f"the {data_set.standard_type} data cannot be added up")


def service_data(service, moment: int, memo: dict | None = None) -> maths.ServiceData:
    """What the service's KPI data sets add up to. `memo`: a dict shared by the steps of one
    computation (a page listing many services), so each service's sums are loaded, and their
    indexes built, once."""
    if memo is not None:
        if service.pk not in memo:
            memo[service.pk] = service_data(service, moment)
        return memo[service.pk]
    found = kpi_services.kpi_data_sets(service)

    def get(data_type):
        data_set = found.get(data_type)
        if data_set is None:
            return maths.Source(unavailable=f"no published {data_type} data")
        return source(data_set, moment)

    return maths.ServiceData(
        transactions=get(TRANSACTIONS),
        cost=get(COST),
        satisfaction=get(SATISFACTION),
        completion=get(COMPLETION),
    )


def service_kpis(
    service, kind: str, moment: int, only_latest: bool = False, key: tuple | None = None
) -> tuple[maths.PeriodKpis, ...]:
    """A service's KPIs per period of `kind`, in time order (the last is its latest complete
    period); only that one when `only_latest`. `key`: its sources key, when known."""
    today = today_of(moment)
    parts = (
        "service-kpis",
        service.pk,
        kind,
        # The day, not only the period: a period becomes complete when a record describing its
        # last day ends, which needs no write.
        today,
        only_latest,
        sources_key(service) if key is None else key,
    )
    return cached(
        parts,
        lambda: tuple(maths.service_kpis(service_data(service, moment), kind, today, only_latest)),
    )


def service_kpis_for(
    service,
    moment: int,
    periods: tuple[Period, ...],
    key: tuple | None = None,
    memo: dict | None = None,
) -> tuple[maths.PeriodKpis, ...]:
    """A service's KPIs for chosen periods (a roll-up's latest, the compared periods), each
    with its changes and whether it is complete for the service."""
    today = today_of(moment)
    key = sources_key(service) if key is None else key
    memo = {} if memo is None else memo

    def compute():
        data = service_data(service, moment, memo)
        figures = maths.Figures(lambda period: _period_sides(service, moment, period, key, memo))
        return tuple(
            figures.period_kpis(p, complete=data.status(p, today).complete) for p in periods
        )

    return cached(("service-kpis-for", service.pk, periods, today, key), compute)


def baseline_kpis(service, moment: int, first, last, key: tuple | None = None):
    """A service's KPIs over its baseline's days, `first` to `last` (both included)."""
    return service_kpis_for(service, moment, (days_period(first, last),), key)[0]


# Roll-ups of the latest period look this many periods back for one complete for every
# service before working it out from all the data.
RECENT_PERIODS = 6


def _recent_statuses(
    service, kind: str, moment: int, key: tuple, memo: dict
) -> tuple[maths.Status, ...]:
    """Whether each of the service's RECENT_PERIODS latest ended periods is complete for it,
    latest first."""
    today = today_of(moment)
    latest = latest_period(kind, today)

    def compute():
        data = service_data(service, moment, memo)
        found, period = [], latest
        for _ in range(RECENT_PERIODS):
            found.append(data.status(period, today))
            period = period.previous
        return tuple(found)

    return cached(("statuses", service.pk, kind, today, key), compute)


def _period_sides(service, moment: int, period: Period, key: tuple, memo: dict) -> dict:
    """A service's numerators and denominators for one period: what a roll-up adds up, and
    what its figures for the period are made of."""
    return cached(
        ("sides", service.pk, period, key),
        lambda: maths.service_sides(service_data(service, moment, memo), period),
    )


def rolled_up_kpis(
    services, kind: str, moment: int, only_latest: bool = False, memo: dict | None = None
) -> tuple[maths.PeriodKpis, ...]:
    """The KPIs of several services added up (numerators and denominators, never averages),
    up to the latest period complete for all of them."""
    today = today_of(moment)
    memo = {} if memo is None else memo
    keys = sources_keys(services)
    parts = (
        "roll-up",
        kind,
        today,
        only_latest,
        tuple((service.pk, keys[service.pk]) for service in services),
    )

    def from_all_data():
        return tuple(
            maths.rolled_up_kpis(
                [service_data(service, moment, memo) for service in services],
                kind,
                today,
                only_latest,
            )
        )

    def compute():
        if not only_latest or not services:
            return from_all_data()
        # From each service's cached statuses and sides, so a write to one service's data
        # recomputes only that service's.
        statuses = [_recent_statuses(s, kind, moment, keys[s.pk], memo) for s in services]
        period = latest_period(kind, today)
        for index in range(RECENT_PERIODS):
            combined = maths.roll_up_status([found[index] for found in statuses], True)
            if combined.complete:
                break
            period = period.previous
        else:
            return from_all_data()
        figures = maths.Figures(
            lambda p: maths.roll_up(
                [_period_sides(s, moment, p, keys[s.pk], memo) for s in services]
            )
        )
        return (figures.period_kpis(period),)

    return cached(parts, compute)
