"""Turning a service's beacon on, changing it and off (permission-checked, audited in the same
transaction), reading its counts, and writing them into the service's `completion` data set.

`actor` is the signed-in user, or None for the platform itself (the command line, the demo).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from django.db import transaction
from django.db.models import Max, Min, Sum

from perfplat.accounts.permissions import check
from perfplat.audit.services import record, snapshot
from perfplat.datasets import writes
from perfplat.datasets.models import DataSet, Record, WriteBatch
from perfplat.datasets.periods import format_timestamp
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.errors import InvalidRequest, NotFound

from .events import DONE, START, STEP_NAME, Route, origin
from .models import Beacon, BeaconCount

MAX_STEPS = 20
MAX_ORIGINS = 20
MAX_ORIGIN_LENGTH = 200
COMPLETION = "completion"
DAY = 86400
AUDITED = ["steps", "origins", "data_set"]


# settings


def check_steps(steps) -> list[str]:
    """The journey's steps in order: names of lower-case letters, digits, - and _ (at most 50
    characters), no name twice, the first "start" and the last "done"."""
    if not isinstance(steps, list) or not all(isinstance(step, str) for step in steps):
        raise InvalidRequest("steps must be a list of step names", field="steps")
    steps = [step.strip() for step in steps if step.strip()]
    for step in steps:
        if not STEP_NAME.fullmatch(step):
            raise InvalidRequest(
                f"The step {step[:60]!r} must be 1 to 50 lower-case letters, digits, '-' or "
                "'_', starting with a letter or digit",
                field="steps",
            )
    if len(steps) < 2 or steps[0] != START or steps[-1] != DONE:
        raise InvalidRequest('The steps must begin with "start" and end with "done"', field="steps")
    if len(steps) > MAX_STEPS:
        raise InvalidRequest(f"A journey has at most {MAX_STEPS} steps", field="steps")
    repeated = sorted({step for step in steps if steps.count(step) > 1})
    if repeated:
        raise InvalidRequest(f"The step {repeated[0]!r} is listed twice", field="steps")
    return steps


def check_origins(origins) -> list[str]:
    """The origins the service's pages are served from, like https://www.example.gov.uk: at
    least one, each an http or https address without a path."""
    if not isinstance(origins, list) or not all(isinstance(o, str) for o in origins):
        raise InvalidRequest("origins must be a list of addresses", field="origins")
    found = []
    for text in (o.strip() for o in origins):
        if not text:
            continue
        normal = _setting_origin(text)
        if normal is None:
            raise InvalidRequest(
                f"{text[:80]!r} is not an origin: give the scheme and host only, like "
                "https://www.example.gov.uk",
                field="origins",
            )
        if normal not in found:
            found.append(normal)
    if not found:
        raise InvalidRequest(
            "List at least one origin your pages are served from, like https://www.example.gov.uk",
            field="origins",
        )
    if len(found) > MAX_ORIGINS:
        raise InvalidRequest(f"List at most {MAX_ORIGINS} origins", field="origins")
    return found


def _setting_origin(text: str) -> str | None:
    """An origin as browsers send it, from what a team typed; None unless it is one."""
    if len(text) > MAX_ORIGIN_LENGTH:
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "@" in parts.netloc:
        return None
    return origin(text)


def beacon_of(service) -> Beacon | None:
    return Beacon.objects.select_related("data_set").filter(service=service).first()


def find_beacon(service) -> Beacon:
    beacon = beacon_of(service)
    if beacon is None:
        raise NotFound(f"The journey beacon of {service.slug} is off")
    return beacon


def _completion_data_set(actor, service) -> DataSet:
    """The service's completion data set (the one in its own data group first), or a new one:
    published when the service's dashboard is, as the KPIs only count published data."""
    from perfplat.registry.services import public_services

    typed = sorted(
        (d for d in service.data_sets.all() if d.standard_type == COMPLETION),
        key=lambda d: (d.data_group != service.slug, d.pk),
    )
    if typed:
        return typed[0]
    taken = DataSet.objects.filter(data_group=service.slug, data_type=COMPLETION).first()
    if taken is not None:
        raise InvalidRequest(
            f"The data set {taken} is not of the completion type, so the beacon cannot write "
            "its counts there: give it the completion type (while it is empty) first",
            field="steps",
        )
    published = public_services().filter(pk=service.pk).exists()
    data_set, _token = create_data_set(
        service.slug,
        COMPLETION,
        settings=DataSetSettings(standard_type=COMPLETION, published=published),
        service=service,
        actor=actor,
    )
    return data_set


def configure(actor, service, steps, origins) -> Beacon:
    """Turn the service's beacon on, or change its steps and origins. Takes effect in every
    server process within PERFPLAT_BEACON_CONFIG_SECONDS."""
    from . import counting

    check(actor, "beacon.manage", service)
    steps, origins = check_steps(steps), check_origins(origins)
    with transaction.atomic():
        beacon = Beacon.objects.select_for_update().filter(service=service).first()
        before = snapshot(beacon, AUDITED) if beacon else None
        if beacon is None:
            beacon = Beacon(service=service, data_set=_completion_data_set(actor, service))
        beacon.steps, beacon.origins = steps, origins
        beacon.save()
        record(
            actor,
            "beacon.configure" if before else "beacon.turn_on",
            beacon,
            before,
            snapshot(beacon, AUDITED),
            service=service,
            organisation=service.organisation,
        )
    counting.routes.forget()
    return beacon


def turn_off(actor, service) -> None:
    """Stop counting: the beacon's requests are then rejected. Counts made so far are kept."""
    from . import counting

    check(actor, "beacon.manage", service)
    with transaction.atomic():
        beacon = find_beacon(service)
        before = snapshot(beacon, AUDITED)
        record(
            actor,
            "beacon.turn_off",
            beacon,
            before,
            None,
            service=service,
            organisation=service.organisation,
        )
        beacon.delete()
    counting.routes.forget()


def other_sources(beacon: Beacon) -> list[str]:
    """How else data reached the beacon's completion data set in the last 90 days (the KPI
    would add those records to the beacon's), as the write kinds' names."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(days=90)
    kinds = (
        WriteBatch.objects.filter(data_set_id=beacon.data_set_id, created_at__gte=since)
        .exclude(kind=WriteBatch.BEACON)
        .values_list("kind", flat=True)
        .distinct()
    )
    names = dict(WriteBatch.KINDS)
    return sorted(names.get(kind, kind) for kind in kinds)


def routes() -> dict[str, Route]:
    """Every beacon, by service slug, as the counting needs it."""
    return {
        slug: Route(service_id, frozenset(steps), frozenset(origins))
        for slug, service_id, steps, origins in Beacon.objects.values_list(
            "service__slug", "service_id", "steps", "origins"
        )
    }


# counts


def day_start(moment: int) -> int:
    return moment - moment % DAY


def _sums(service_id: int, start: int, end: int, kinds=None) -> dict[tuple, int]:
    """{(step, kind, day start): events} over the hours in [start, end)."""
    rows = BeaconCount.objects.filter(service_id=service_id, hour__gte=start, hour__lt=end)
    if kinds is not None:
        rows = rows.filter(kind__in=kinds)
    sums: dict[tuple, int] = {}
    for step, kind, hour, count in rows.values_list("step", "kind", "hour", "count"):
        key = (step, kind, day_start(hour))
        sums[key] = sums.get(key, 0) + count
    return sums


def completion_records(service_id: int, days) -> list[dict]:
    """The completion data set's records for these days (UTC day starts): started = events at
    "start", completed = events at "done", both counted (not bots, prefetches or rejected).

    A day can have more "done" than "start" events (journeys started the day before, a start
    page that is skipped or cached): completed is then clamped to started, as the completion
    type requires completed <= started; the beacon's own counts keep both as they were, and
    the manage page lists such days."""
    days = sorted(set(days))
    if not days:
        return []
    sums = _sums(service_id, days[0], days[-1] + DAY, kinds=[BeaconCount.COUNTED])
    records = []
    for day in days:
        started = sums.get((START, BeaconCount.COUNTED, day), 0)
        done = sums.get((DONE, BeaconCount.COUNTED, day), 0)
        records.append(
            {
                "_timestamp": format_timestamp(day),
                "period": "day",
                "started": started,
                "completed": min(done, started),
            }
        )
    return records


def with_quiet_days(beacon: Beacon, days) -> set[int]:
    """The days to write: `days`, and every day without events between the beacon's last
    written day (or its first counted day) and the newest of them. A day the beacon counted
    nothing on is a day of 0 started, 0 completed, not a day without data: the KPIs need every
    day of a period covered before they call it complete."""
    days = set(days)
    if not days:
        return days
    written = Record.objects.filter(data_set_id=beacon.data_set_id, data__period="day").aggregate(
        newest=Max("timestamp")
    )["newest"]
    if written is not None:
        first = written + DAY
    else:
        counted = BeaconCount.objects.filter(service_id=beacon.service_id, kind=BeaconCount.COUNTED)
        first = day_start(counted.aggregate(first=Min("hour"))["first"] or min(days))
    return days | set(range(first, max(days), DAY))


def write_completion(service_id: int, days) -> int:
    """Write these days' started and completed counts into the beacon's completion data set
    through the write path (provenance: the journey beacon, automatic). The day's record is
    replaced (the data set's auto_ids are _timestamp and period), so any process may write any
    day again. Returns how many records were written; 0 if the beacon is off."""
    beacon = Beacon.objects.select_related("data_set").filter(service_id=service_id).first()
    if beacon is None:
        return 0
    with transaction.atomic():
        # Reading the counts after taking the data set's lock: whichever process writes a day
        # last has read every count committed before it, its own included.
        DataSet.objects.select_for_update().filter(pk=beacon.data_set_id).exists()
        records = completion_records(service_id, with_quiet_days(beacon, days))
        return writes.write_records(beacon.data_set, records, writes.WriteSource(WriteBatch.BEACON))


@dataclass(frozen=True)
class DayCounts:
    """A day of a beacon's counts: counted events per step (in the journey's order), and the
    events counted apart."""

    day: date
    steps: tuple[int, ...]
    bots: int
    prefetches: int
    rejected: int

    @property
    def clamped(self) -> bool:
        """More journeys reached "done" than "start" (the completion data set says
        completed = started for the day)."""
        return self.steps[-1] > self.steps[0]


def daily_counts(beacon: Beacon, first_day: int, last_day: int) -> list[DayCounts]:
    """Each day from `first_day` to `last_day` (UTC day starts), newest first."""
    sums = _sums(beacon.service_id, first_day, last_day + DAY)
    by_kind: dict[tuple, int] = {}
    for (_step, kind, day), events in sums.items():
        by_kind[(kind, day)] = by_kind.get((kind, day), 0) + events
    return [
        DayCounts(
            datetime.fromtimestamp(day, UTC).date(),
            tuple(sums.get((step, BeaconCount.COUNTED, day), 0) for step in beacon.steps),
            by_kind.get((BeaconCount.BOT, day), 0),
            by_kind.get((BeaconCount.PREFETCH, day), 0),
            sum(by_kind.get((kind, day), 0) for kind in BeaconCount.REJECTED),
        )
        for day in range(last_day, first_day - 1, -DAY)
    ]


def step_totals(beacon: Beacon, start: int | None, end: int | None) -> list[tuple[str, int]]:
    """(step, counted events) for each of the journey's steps, in order, over the hours in
    [start, end) (all time when None)."""
    rows = BeaconCount.objects.filter(service_id=beacon.service_id, kind=BeaconCount.COUNTED)
    if start is not None:
        rows = rows.filter(hour__gte=start)
    if end is not None:
        rows = rows.filter(hour__lt=end)
    totals = dict(rows.values("step").annotate(total=Sum("count")).values_list("step", "total"))
    return [(step, totals.get(step, 0)) for step in beacon.steps]
