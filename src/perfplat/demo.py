"""Realistic demo data: services sending fifteen months of performance data, each data set
per day, week, month or quarter as real teams do (CADENCES), all added up from one day-by-day
model per service (trends and seasons, so the changes the dashboards show come from the data).

Idempotent: data sets are created once and records carry auto_ids, so loading again replaces
records instead of adding copies. Everything is written through the same write path as the API;
a few data sets arrive as spreadsheet uploads instead (UPLOADED), so their metrics show manual
or mixed.
"""

import math
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from perfplat.accounts.models import User
from perfplat.accounts.services import create_user
from perfplat.dashboards.services import publish_directly, published_version
from perfplat.datasets.models import DataSet, DataSetToken, WriteBatch
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.datasets.writes import WriteSource, write_records
from perfplat.kpis.periods import (
    MONTH,
    QUARTER,
    WEEK,
    add_months,
    described_end,
    quarter_start,
    week_start,
)
from perfplat.metrics.services import create_metric, record_support
from perfplat.registry.models import Organisation, Service
from perfplat.registry.services import create_organisation, create_service

# Fifteen whole months of data, so every KPI has a change from a year earlier.
MONTHS = 15


# (slug, name, abbreviation, type, parent slug)
ORGANISATIONS = [
    ("department-for-transport", "Department for Transport", "DfT", "department", None),
    ("dvla", "Driver and Vehicle Licensing Agency", "DVLA", "agency", "department-for-transport"),
    ("dvsa", "Driver and Vehicle Standards Agency", "DVSA", "agency", "department-for-transport"),
    ("hmrc", "HM Revenue & Customs", "HMRC", "department", None),
    ("dwp", "Department for Work and Pensions", "DWP", "department", None),
    ("home-office", "Home Office", "HO", "department", None),
    ("hm-passport-office", "HM Passport Office", "HMPO", "agency", "home-office"),
    ("ministry-of-justice", "Ministry of Justice", "MOJ", "department", None),
    (
        "office-of-the-public-guardian",
        "Office of the Public Guardian",
        "OPG",
        "agency",
        "ministry-of-justice",
    ),
    ("hmcts", "HM Courts & Tribunals Service", "HMCTS", "agency", "ministry-of-justice"),
    ("defra", "Department for Environment, Food & Rural Affairs", "Defra", "department", None),
    ("rural-payments-agency", "Rural Payments Agency", "RPA", "agency", "defra"),
    (
        "department-for-business-and-trade",
        "Department for Business and Trade",
        "DBT",
        "department",
        None,
    ),
    ("companies-house", "Companies House", "CH", "agency", "department-for-business-and-trade"),
    ("cabinet-office", "Cabinet Office", "CO", "department", None),
]


@dataclass(frozen=True)
class DemoService:
    slug: str
    name: str
    organisation: str
    phase: str
    weekly_transactions: int
    digital_share: float
    cost_per_transaction: float
    satisfaction: float  # share of satisfied or very satisfied responses
    completion: float
    audience: str
    # Data sets this service does not send yet: its KPIs show "not enough data".
    missing: tuple[str, ...] = ()


def _service(
    slug,
    name,
    organisation,
    phase,
    volume,
    digital,
    cost,
    satisfied,
    completed,
    audience,
    missing=(),
):
    return DemoService(
        slug,
        name,
        organisation,
        phase,
        volume,
        digital,
        cost,
        satisfied,
        completed,
        audience,
        missing,
    )


SERVICES = [
    _service(
        "vehicle-tax",
        "Tax your vehicle",
        "dvla",
        "live",
        410_000,
        0.86,
        0.62,
        0.91,
        0.83,
        "Vehicle keepers in Great Britain taxing a car, motorbike or other vehicle",
    ),
    _service(
        "driving-licence-renewal",
        "Renew your driving licence",
        "dvla",
        "live",
        95_000,
        0.71,
        4.10,
        0.87,
        0.76,
        "Drivers renewing a photocard licence every 10 years",
    ),
    _service(
        "book-driving-test",
        "Book your driving test",
        "dvsa",
        "live",
        38_000,
        0.93,
        2.35,
        0.72,
        0.68,
        "Learner drivers booking or changing a practical driving test",
    ),
    _service(
        "self-assessment",
        "File your Self Assessment tax return",
        "hmrc",
        "live",
        240_000,
        0.92,
        3.05,
        0.81,
        0.79,
        "Self-employed people, landlords and others with untaxed income",
    ),
    _service(
        "child-benefit",
        "Claim Child Benefit",
        "hmrc",
        "beta",
        14_000,
        0.58,
        11.80,
        0.78,
        0.64,
        "Parents and carers responsible for a child under 16",
    ),
    _service(
        "carers-allowance",
        "Apply for Carer's Allowance",
        "dwp",
        "live",
        6_200,
        0.64,
        19.50,
        0.84,
        0.71,
        "People caring for someone for 35 hours a week or more",
        missing=("cost",),
    ),
    _service(
        "passport-renewal",
        "Renew your passport",
        "hm-passport-office",
        "live",
        120_000,
        0.79,
        15.20,
        0.88,
        0.74,
        "British citizens renewing an adult or child passport",
    ),
    _service(
        "lasting-power-of-attorney",
        "Make a lasting power of attorney",
        "office-of-the-public-guardian",
        "beta",
        18_500,
        0.41,
        24.00,
        0.83,
        0.59,
        "People planning who will make decisions for them, and their families",
    ),
    _service(
        "civil-money-claims",
        "Make a money claim",
        "hmcts",
        "beta",
        9_800,
        0.67,
        31.40,
        0.69,
        0.61,
        "People and businesses owed money",
        missing=("user-satisfaction",),
    ),
    _service(
        "rural-payments",
        "Claim rural payments",
        "rural-payments-agency",
        "live",
        3_100,
        0.88,
        45.00,
        0.66,
        0.57,
        "Farmers and land managers in England",
    ),
    _service(
        "file-company-accounts",
        "File your company accounts",
        "companies-house",
        "live",
        76_000,
        0.97,
        0.95,
        0.86,
        0.88,
        "Company directors and their accountants",
    ),
    _service(
        "register-to-vote",
        "Register to vote",
        "cabinet-office",
        "live",
        52_000,
        0.95,
        0.40,
        0.93,
        0.90,
        "UK residents aged 16 or over",
        missing=("completion",),
    ),
]

# Services that send no data yet, or no longer: they show the registry's other phases.
QUIET_SERVICES = [
    ("report-a-pothole", "Report a pothole", "department-for-transport", "discovery"),
    ("check-benefit-entitlement", "Check what benefits you can get", "dwp", "alpha"),
    ("extend-your-visa", "Extend your visa", "home-office", "alpha"),
    ("renew-tax-disc", "Renew a paper tax disc", "dvla", "retired"),
]

# One user per role, for local use only (the README lists them).
DEMO_PASSWORD = "perfplat-demo-2026"  # noqa: S105 - demo data, local use only
# The demo admins' authenticator key (platform and organisation admins must sign in with a
# code): public, like the password, so `perfplat demo-code` and any authenticator app given it
# make their codes. Local use only.
DEMO_TWO_FACTOR_KEY = "3132333435363738393031323334353637383930"  # noqa: S105 - RFC 6238's
DEMO_USERS = [
    ("admin@perfplat.example", "Pat Admin", "platform-admin", None),
    ("dft-admin@perfplat.example", "Dana Transport", "org-admin", "department-for-transport"),
    ("dvla-editor@perfplat.example", "Eddie Licensing", "editor", "dvla"),
]


CHANNELS = ("digital", "phone", "paper")

# Data sets a team sends as spreadsheets, uploaded by the DVLA's demo editor through the real
# upload path (perfplat.uploads): "manual" for all their data, "mixed" for the latest weeks only
# (the rest arrives through the API). Every other data set is automatic.
UPLOADED = {
    ("vehicle-tax", "cost"): "manual",
    ("driving-licence-renewal", "cost"): "manual",
    ("vehicle-tax", "user-satisfaction"): "mixed",
    ("driving-licence-renewal", "user-satisfaction"): "mixed",
}
UPLOADER = "dvla-editor@perfplat.example"
RECENT_RECORDS = 13  # the latest 13 weeks of a mixed data set are uploaded


# How each data set's records are cut, by service: each record describes a day, a week (Monday
# to Sunday), a calendar month, a "tax month" (6th to 5th, as HMRC reports), or quarters until
# six months ago and months since (a team that moved to monthly reporting). Unlisted: weekly
# transactions, satisfaction and completion, monthly cost. The KPIs share records between
# periods by day, so the mix shows no calendar artefacts.
DAILY, WEEKLY, MONTHLY, TAX_MONTHLY, QUARTERLY_THEN_MONTHLY = (
    "day",
    "week",
    "month",
    "tax-month",
    "quarter-then-month",
)
DEFAULT_CADENCE = {
    "transactions-by-channel": WEEKLY,
    "cost": MONTHLY,
    "user-satisfaction": WEEKLY,
    "completion": WEEKLY,
}
CADENCES = {
    "vehicle-tax": {"completion": DAILY},
    "book-driving-test": {"transactions-by-channel": DAILY, "completion": DAILY},
    "self-assessment": {"cost": TAX_MONTHLY, "user-satisfaction": MONTHLY},
    "child-benefit": {"cost": TAX_MONTHLY},
    "carers-allowance": {"user-satisfaction": MONTHLY},
    "passport-renewal": {"completion": DAILY},
    "lasting-power-of-attorney": {
        "transactions-by-channel": MONTHLY,
        "cost": QUARTERLY_THEN_MONTHLY,
        "user-satisfaction": MONTHLY,
    },
    "rural-payments": {
        "transactions-by-channel": MONTHLY,
        "cost": QUARTERLY_THEN_MONTHLY,
        "user-satisfaction": MONTHLY,
        "completion": MONTHLY,
    },
    "file-company-accounts": {"transactions-by-channel": DAILY, "completion": DAILY},
}
# Seasons: the day of the year demand peaks and how far it swings (self assessment peaks at
# the 31 January deadline). The KPIs share a quarter's cost evenly over its days, so the two
# services that report cost per quarter have a demand with almost no season, as a cost given per
# quarter only describes a month well when its days are alike.
PEAKS = {
    "self-assessment": (25, 0.45),
    "book-driving-test": (200, 0.15),
    "lasting-power-of-attorney": (60, 0.02),
    "rural-payments": (120, 0.02),
}


def _today(now: int) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def _first_month(now: int) -> date:
    """The first of MONTHS whole months before the current one."""
    return add_months(_today(now).replace(day=1), -MONTHS)


def _spans(cadence: str, now: int) -> list[tuple[date, date, str]]:
    """(first day, day after the last, period) of each record: every period that has ended by
    today, from one that starts on or before the first month (so that month is whole)."""
    today, first = _today(now), _first_month(now)
    if cadence == QUARTERLY_THEN_MONTHLY:
        switch = quarter_start(add_months(today.replace(day=1), -6))
        quarters = _cut(quarter_start(first), switch, QUARTER, switch)
        return quarters + _cut(switch, today, MONTH, today)
    if cadence == DAILY:
        return _cut(first, today, "day", today)
    if cadence == WEEKLY:
        return _cut(week_start(first), today, WEEK, today)
    if cadence == TAX_MONTHLY:
        return _cut(add_months(first, -1).replace(day=6), today, MONTH, today)
    return _cut(first, today, MONTH, today)


def _cut(start: date, until: date, period: str, ended_by: date) -> list[tuple[date, date, str]]:
    spans = []
    while True:
        end = described_end(start, period)
        if end > ended_by or start >= until:
            return spans
        spans.append((start, end, period))
        start = end


@dataclass(frozen=True)
class _Model:
    """A service's day-by-day truth, from which every record is added up: demand with a yearly
    season and slow growth; digital take-up, satisfaction and completion creeping up and the
    cost of a transaction creeping down over the MONTHS."""

    service: DemoService
    start: date
    peak_day: int
    swing: float

    def _progress(self, day: date) -> float:
        return (day - self.start).days / (MONTHS * 30.4)

    def volume(self, day: date) -> float:
        season = math.cos(2 * math.pi * (day.timetuple().tm_yday - self.peak_day) / 365.25)
        growth = 1 + 0.05 * self._progress(day)
        return self.service.weekly_transactions / 7 * growth * (1 + self.swing * season)

    def digital(self, day: date) -> float:
        # Up to 5 points more over the MONTHS, at most half the way to 99%.
        share = self.service.digital_share
        return share + min(0.05, (0.99 - share) / 2) * self._progress(day)

    def shares(self, day: date) -> dict[str, float]:
        digital = self.digital(day)
        return {"digital": digital, "phone": (1 - digital) * 0.6, "paper": (1 - digital) * 0.4}

    def cost_per_transaction(self, day: date) -> float:
        return self.service.cost_per_transaction * (1 - 0.08 * self._progress(day))

    def satisfied(self, day: date) -> float:
        return min(0.98, self.service.satisfaction + 0.03 * self._progress(day))

    def completes(self, day: date) -> float:
        return min(0.99, self.service.completion + 0.03 * self._progress(day))


def _model(service: DemoService, now: int) -> _Model:
    # Its own seed: every builder sees the same truth, whatever the order they run in.
    rng = random.Random(f"{service.slug}-season")
    peak, swing = PEAKS.get(service.slug, (rng.randrange(365), rng.uniform(0.06, 0.12)))
    return _Model(service, _first_month(now), peak, swing)


def _days(start: date, end: date):
    return (start + timedelta(days=n) for n in range((end - start).days))


def _records(service: DemoService, data_type: str, now: int):
    """The model and the spans of a data set's records, with each record's common fields."""
    cadence = CADENCES.get(service.slug, {}).get(data_type, DEFAULT_CADENCE[data_type])
    model = _model(service, now)
    for start, end, period in _spans(cadence, now):
        stamp = f"{start.isoformat()}T00:00:00+00:00"
        yield model, start, end, {"_timestamp": stamp, "period": period}


def transactions(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    records = []
    for model, start, end, common in _records(service, "transactions-by-channel", now):
        noise = rng.uniform(0.98, 1.02)
        counts = dict.fromkeys(CHANNELS, 0.0)
        for day in _days(start, end):
            volume = model.volume(day)
            for channel, share in model.shares(day).items():
                counts[channel] += volume * share
        for channel in CHANNELS:
            records.append({**common, "channel": channel, "count": round(counts[channel] * noise)})
    return records


# Non-digital transactions cost several times more to handle.
UNIT_COSTS = {"digital": 0.5, "phone": 3.0, "paper": 6.0}


def costs(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    records = []
    for model, start, end, common in _records(service, "cost", now):
        amounts = dict.fromkeys(CHANNELS, 0.0)
        for day in _days(start, end):
            shares = model.shares(day)
            # Units weighted so that the cost of a transaction is the model's.
            weight = sum(UNIT_COSTS[c] * share for c, share in shares.items())
            per_unit = model.volume(day) * model.cost_per_transaction(day) / weight
            for channel, share in shares.items():
                amounts[channel] += per_unit * share * UNIT_COSTS[channel]
        for channel in CHANNELS:
            amount = amounts[channel] * rng.uniform(0.98, 1.02)
            records.append({**common, "channel": channel, "amount": round(amount, 2)})
    return records


def satisfaction(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    records = []
    for model, start, end, common in _records(service, "user-satisfaction", now):
        days = list(_days(start, end))
        responses = max(6 * len(days), sum(model.volume(d) * 0.003 for d in days))
        responses *= rng.uniform(0.9, 1.1)
        satisfied = sum(model.satisfied(d) for d in days) / len(days)
        satisfied = min(0.98, satisfied + rng.uniform(-0.01, 0.01))
        very = satisfied * 0.55
        shares = [
            (1 - satisfied) * 0.35,
            (1 - satisfied) * 0.35,
            (1 - satisfied) * 0.30,
            satisfied - very,
            very,
        ]
        record = dict(common)
        for rating, share in enumerate(shares, start=1):
            record[f"rating_{rating}"] = round(responses * share)
        records.append(record)
    return records


def completion(service: DemoService, rng: random.Random, now: int) -> list[dict]:
    records = []
    for model, start, end, common in _records(service, "completion", now):
        started = completed = 0.0
        for day in _days(start, end):
            online = model.volume(day) * model.digital(day)
            started += online / model.completes(day)
            completed += online
        noise = rng.uniform(0.99, 1.01)
        started_count = round(started)
        completed_count = min(started_count, round(completed * noise))
        records.append({**common, "started": started_count, "completed": completed_count})
    return records


BUILDERS = {
    "transactions-by-channel": transactions,
    "cost": costs,
    "user-satisfaction": satisfaction,
    "completion": completion,
}


def _cell(name: str, value) -> str:
    if name == "amount":
        return f"£{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _spreadsheet(records: list[dict]) -> bytes:
    """Records as a team's CSV export: UK dates, pounds and thousands separators."""
    import csv
    import io
    from datetime import datetime

    fields = [name for name in records[0] if name != "_timestamp"]
    rows = [["Period starting", *(name.replace("_", " ").capitalize() for name in fields)]]
    for record in records:
        day = datetime.fromisoformat(record["_timestamp"]).strftime("%d/%m/%Y")
        cells = [_cell(name, record[name]) for name in fields]
        rows.append([day, *cells])
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode()


def _upload(data_set, records: list[dict], uploader) -> int:
    """Upload the records as a spreadsheet and commit it, unless the same file is already the
    data set's last committed upload (loading the demo again uploads nothing new)."""
    from perfplat.uploads.models import Upload
    from perfplat.uploads.services import receive

    content = _spreadsheet(records)
    last = (
        Upload.objects.filter(data_set=data_set, status=Upload.COMMITTED)
        .values_list("content", flat=True)
        .first()
    )
    if last is not None and bytes(last) == content:
        return len(records)
    upload = receive(
        data_set,
        content,
        f"{data_set.data_type}.csv",
        actor=uploader,
        commit=True,
        background=False,
    )
    return upload.stored_count or 0


def _demo_data_set(service, data_type: str) -> DataSet:
    data_set = DataSet.objects.filter(data_group=service.slug, data_type=data_type).first()
    if data_set is None:
        data_set, _token = create_data_set(
            service.slug,
            data_type,
            service=service,
            settings=DataSetSettings(
                standard_type=data_type, published=True, max_age_expected=8 * 86400
            ),
        )
    return data_set


def load_registry() -> dict:
    """Create the demo organisations, services and users (those missing); returns services by
    slug."""
    organisations = {}
    for slug, name, abbreviation, kind, parent in ORGANISATIONS:
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            organisation = create_organisation(
                None,
                slug=slug,
                name=name,
                abbreviation=abbreviation,
                type=kind,
                parent=organisations.get(parent),
            )
        organisations[slug] = organisation
    services = {}
    described = [(s.slug, s.name, s.organisation, s.phase, s.audience) for s in SERVICES]
    described += [(*quiet, "") for quiet in QUIET_SERVICES]
    for slug, name, organisation, phase, audience in described:
        service = Service.objects.filter(slug=slug).first()
        if service is None:
            service = create_service(
                None,
                slug=slug,
                name=name,
                organisation=organisations[organisation],
                phase=phase,
                description=f"{name}: a service of {organisations[organisation].name}.",
                start_page_url=f"https://www.gov.uk/{slug}",
                audience=audience,
                dashboard_usage=(
                    "The service team reviews it every week to plan improvements; managers "
                    "use it to report to the department's board."
                    if audience
                    else ""
                ),
            )
        services[slug] = service
    for email, name, role, organisation in DEMO_USERS:
        if not User.objects.filter(email=email).exists():
            user = create_user(
                None, email, role, organisation=organisation, name=name, password=DEMO_PASSWORD
            )
            if role != "editor":
                _enrol_demo_admin(user)
    return services


def _enrol_demo_admin(user) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(
        user=user, name="Authenticator app", key=DEMO_TWO_FACTOR_KEY, confirmed=True
    )


def demo_code(now: float | None = None) -> str:
    """The code the demo admins' authenticator app would show now."""
    from django_otp.oath import TOTP

    totp = TOTP(bytes.fromhex(DEMO_TWO_FACTOR_KEY))
    if now is not None:
        totp.time = now
    return f"{totp.token():06d}"


def demo_key_text() -> str:
    import base64

    return base64.b32encode(bytes.fromhex(DEMO_TWO_FACTOR_KEY)).decode()


# (slug, name, unit, KPI, data type, query, rationale)
METRICS = [
    (
        "transactions",
        "Transactions completed",
        "transactions",
        "",
        "transactions-by-channel",
        "period=month&collect=count:sum",
        "Shows demand for the service, and the denominator of cost per transaction.",
    ),
    (
        "digital-take-up",
        "Digital take-up",
        "%",
        "digital-take-up",
        "transactions-by-channel",
        "period=month&group_by=channel&collect=count:sum",
        "Tells us how many people choose the online service over phone and paper.",
    ),
    (
        "cost-per-transaction",
        "Cost per transaction",
        "£",
        "cost-per-transaction",
        "cost",
        "period=month&collect=amount:sum",
        "Shows whether the service is getting cheaper to run as more people use it online.",
    ),
    (
        "user-satisfaction",
        "User satisfaction",
        "%",
        "user-satisfaction",
        "user-satisfaction",
        "period=month&collect=rating_4:sum&collect=rating_5:sum",
        "Tells us whether people can use the service easily, straight from their feedback.",
    ),
    (
        "completion-rate",
        "Completion rate",
        "%",
        "completion-rate",
        "completion",
        "period=month&collect=started:sum&collect=completed:sum",
        "Shows where people give up, so we know which part of the journey to fix first.",
    ),
]


def _catalogue(service) -> None:
    """The service's metric catalogue: one metric per data set it sends."""
    data_sets = {d.standard_type: d for d in service.data_sets.all()}
    existing = set(service.metrics.values_list("slug", flat=True))
    for slug, name, unit, kpi, data_type, query, rationale in METRICS:
        if slug in existing or data_type not in data_sets:
            continue
        metric = create_metric(
            None,
            service,
            slug=slug,
            name=name,
            unit=unit,
            kpi=kpi,
            rationale=rationale,
            data_set=data_sets[data_type],
            query=query,
            period="month",
        )
        # The alpha support check's verdict, which the readiness report reads.
        record_support(None, metric)


def _demo_assessment(service, now: int) -> str | None:
    """A live assessment six months ago (perfplat.publishing), so that the public dashboard's
    "How this service has changed" section has something to compare."""
    from datetime import UTC, datetime, timedelta

    from perfplat.publishing.assessments import record_assessment, update_evolution

    if service.snapshots.exists():
        return None
    today = datetime.fromtimestamp(now, UTC).date()
    taken = record_assessment(
        None,
        service,
        phase="live",
        assessed_on=today - timedelta(days=182),
        outcome="met",
        notes="The team reports its performance openly and acts on it.",
        today=today,
    )
    update_evolution(
        None,
        taken,
        "Since the beta assessment the team moved reminders online and simplified the payment "
        "page, so more people finish online and fewer phone the contact centre.",
    )
    return f"{service.name}: a live assessment recorded"


# Service Standard readiness (perfplat.publishing.readiness): one service fully ready at its
# phase, the others not, each for a reason a team would recognise. Kept apart from the data
# series: only metadata, catalogue entries and assessments change here.
BASELINED = (
    "vehicle-tax",
    "driving-licence-renewal",
    "register-to-vote",
    "carers-allowance",
    "child-benefit",
)


def _baseline_of(service) -> str | None:
    """Three months of the service's data from its first whole month: "2025-01-01/2025-03-31"."""
    from datetime import UTC, datetime, timedelta

    from django.db.models import Min

    from perfplat.datasets.models import Record
    from perfplat.datasets.periods import add_periods, period_start

    first = Record.objects.filter(data_set__service=service).aggregate(Min("timestamp"))
    if first["timestamp__min"] is None:
        return None
    start = add_periods("month", period_start("month", first["timestamp__min"] - 1), 1)
    end = add_periods("month", start, 3)
    day = lambda seconds: datetime.fromtimestamp(seconds, UTC).date()  # noqa: E731
    return f"{day(start).isoformat()}/{(day(end) - timedelta(days=1)).isoformat()}"


def _with_baseline(service) -> str | None:
    from perfplat.dashboards.services import save_draft, start_draft

    version = published_version(service)
    baseline = _baseline_of(service)
    if version is None or version.content.get("baseline") or baseline is None:
        return None
    draft = start_draft(None, service)
    save_draft(None, draft, {**draft.content, "baseline": baseline})
    publish_directly(service)
    return f"{service.name}: baseline {baseline}"


def _readiness_states(services: dict, now: int):
    """Yields what it changed; safe to repeat."""
    from datetime import UTC, datetime, timedelta

    from perfplat.metrics.services import PlannedMetric, save_plan, update_metric
    from perfplat.publishing.assessments import (
        evolution_note,
        record_assessment,
        write_evolution_note,
    )

    for slug in BASELINED:
        changed = _with_baseline(services[slug])
        if changed:
            yield changed
    # Ready at live: its note for the next assessment is written.
    vehicle_tax = services["vehicle-tax"]
    if evolution_note(vehicle_tax) is None:
        write_evolution_note(
            None,
            vehicle_tax,
            "Since the live assessment the team sends reminders by email and text, and fewer "
            "people phone to ask whether their vehicle is taxed.",
        )
        yield "Tax your vehicle: ready for its next live assessment"
    # Not ready at live: a metric nobody has said why the team measures.
    transactions = services["driving-licence-renewal"].metrics.filter(slug="transactions").first()
    if transactions is not None and transactions.rationale:
        update_metric(None, transactions, rationale="")
    # Not ready at beta: assessed at alpha, and the note for the beta assessment not written.
    child_benefit = services["child-benefit"]
    if not child_benefit.snapshots.exists():
        today = datetime.fromtimestamp(now, UTC).date()
        record_assessment(
            None,
            child_benefit,
            phase="alpha",
            assessed_on=today - timedelta(days=300),
            outcome="met",
            notes="Test the paper form's questions online before beta.",
            today=today,
        )
    # Not ready at alpha: a planned metric the platform cannot support as planned.
    visa = services["extend-your-visa"]
    if not visa.metrics.exists():
        save_plan(
            None,
            visa,
            [
                PlannedMetric(
                    "Applications completed",
                    data_set_type="transactions-by-channel",
                    fields=("channel", "count"),
                    query="period=month&group_by=channel&collect=count:sum",
                ),
                PlannedMetric(
                    "Applications by nationality",
                    data_set_type="transactions-by-channel",
                    fields=("nationality", "count"),
                ),
            ],
        )
    # Not ready when retired: a data set still expects data that will not come.
    tax_disc = services["renew-tax-disc"]
    if not tax_disc.data_sets.exists():
        create_data_set(
            None,
            "transactions-by-channel",
            service=tax_disc,
            settings=DataSetSettings(
                standard_type="transactions-by-channel", max_age_expected=8 * 86400
            ),
        )
    yield "Readiness: one service ready at live, the others not, each for its own reason"


def load_demo(now: int | None = None):
    """Create the demo registry and data sets and write their records; yields progress."""
    now = now or int(time.time())
    services = load_registry()
    uploader = User.objects.get(email=UPLOADER)
    yield f"Registry: {len(ORGANISATIONS)} organisations, {len(services)} services."
    for demo in SERVICES:
        # The same service always gets the same numbers.
        rng = random.Random(demo.slug)
        written = 0
        for data_type, build in BUILDERS.items():
            if data_type in demo.missing:
                continue
            data_set = _demo_data_set(services[demo.slug], data_type)
            records = build(demo, rng, now)
            uploaded = UPLOADED.get((demo.slug, data_type))
            if uploaded:
                # A spreadsheet of all the records (manual), or of the latest weeks (mixed).
                cut = len(records) - RECENT_RECORDS if uploaded == "mixed" else 0
                written += _upload(data_set, records[cut:], uploader)
                records = records[:cut]
            if records:
                token = DataSetToken.objects.filter(data_set=data_set, revoked_at=None).first()
                source = WriteSource(WriteBatch.API, token_id=token.pk if token else None)
                written += write_records(data_set, records, source)
        _catalogue(services[demo.slug])
        if published_version(services[demo.slug]) is None:
            publish_directly(services[demo.slug])
        yield f"{demo.name}: {written} records, dashboard published"
    assessed = _demo_assessment(services[SERVICES[0].slug], now)
    if assessed:
        yield assessed
    yield from _readiness_states(services, now)
    # The demo collector (perfplat.collectors.demo): pulls from `perfplat demo-source`.
    from perfplat.collectors.demo import load_demo_collector

    yield from load_demo_collector()
    yield (
        "The demo admins also give a code from an authenticator app: `perfplat demo-code` "
        f"prints it (their key, for an app: {demo_key_text()})."
    )
    yield f"Demo data loaded. Sign in at /manage/ as {DEMO_USERS[0][0]} ({DEMO_PASSWORD})."
