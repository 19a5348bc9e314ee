"""The KPIs the public pages show, computed by `kpis` and kept in the cache (see caching.py).

The read pipeline sums each standard data set per month (`kpis.services.source_sums`, all in
SQL); `kpis.maths` turns the sums into KPIs. Each step is cached: the sums by data set and
version; a service's KPIs, and its numerators and denominators for the latest periods, by the
versions of the data sets they come from (its "sources key") and by the latest complete period
(so a new month brings new keys); a roll-up by its services' sources keys.

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
from perfplat.kpis.periods import latest_period
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
        DataSet.objects.filter(service__in=public_services(), published=True, data_type__in=SOURCES)
        .order_by("pk")
        .values_list("service_id", "pk", "data_group", "data_type", "created_at", "version")
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


def source(data_set, moment: int) -> maths.Source:
    """A standard data set's monthly sums (its query takes no relative time, so `moment` does
    not change the answer and is not part of the key)."""
    return cached(
        ("sums", data_set.data_type, *data_set_key(data_set)),
        lambda: _isolated_sums(data_set, moment),
    )


def _isolated_sums(data_set, moment: int) -> maths.Source:
    """The data set's sums, or, should its data make the database or the arithmetic fail in
    a way the read pipeline did not foresee, a source that says so: one service's data may
    only take down its own figures, never a page that lists many services."""
    try:
        # A savepoint: on PostgreSQL a failed statement would otherwise end the transaction.
        with transaction.atomic():
            return kpi_services.source_sums(data_set, moment)
    except (DatabaseError, ArithmeticError, ValueError, TypeError):
        logger.exception("The sums of data set %s could not be computed", data_set.pk)
        return maths.Source(unavailable=f"the {data_set.data_type} data cannot be added up")


def service_data(service, moment: int) -> maths.ServiceData:
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
    """A service's KPIs per period of `kind`, in time order (the last is the latest complete
    period); only that one when `only_latest`. `key`: its sources key, when known."""
    today = today_of(moment)
    parts = (
        "service-kpis",
        service.pk,
        kind,
        latest_period(kind, today).start,
        only_latest,
        sources_key(service) if key is None else key,
    )
    return cached(
        parts,
        lambda: tuple(maths.service_kpis(service_data(service, moment), kind, today, only_latest)),
    )


def _latest_sides(service, kind: str, moment: int, key: tuple) -> dict:
    """A service's numerators and denominators for the latest complete period, the one before
    and a year earlier: what a roll-up of the latest period adds up."""
    latest = latest_period(kind, today_of(moment))

    def compute():
        data = service_data(service, moment)
        return {
            tuple(period.months): maths.service_sides(data, period.months)
            for period in (latest, latest.previous, latest.year_earlier)
        }

    return cached(("latest-sides", service.pk, kind, latest.start, key), compute)


def rolled_up_kpis(
    services, kind: str, moment: int, only_latest: bool = False
) -> tuple[maths.PeriodKpis, ...]:
    """The KPIs of several services added up (numerators and denominators, never averages)."""
    today = today_of(moment)
    keys = sources_keys(services)
    parts = (
        "roll-up",
        kind,
        latest_period(kind, today).start,
        only_latest,
        tuple((service.pk, keys[service.pk]) for service in services),
    )

    def compute():
        if only_latest:
            # From each service's cached sides, so a write to one service's data recomputes
            # only that service's.
            sides = [_latest_sides(s, kind, moment, keys[s.pk]) for s in services]
            return tuple(
                maths.kpis_over(
                    lambda months: maths.roll_up([found[tuple(months)] for found in sides]),
                    kind,
                    today,
                    None,
                    only_latest=True,
                )
            )
        return tuple(
            maths.rolled_up_kpis(
                [service_data(service, moment) for service in services], kind, today
            )
        )

    return cached(parts, compute)
