"""The Service Standard readiness report (SPEC section 8): for a service's phase, each thing the
standard asks of its performance reporting, met, not met or not applicable, with the evidence,
what to do next (each step linking to the page that does it) or why it does not apply.

Everything is computed from the platform's own state (publishing.readiness_items says how,
with publishing.readiness_facts);
nothing is typed in. A phase's items include the earlier phases' items; later phases' items are
listed for the team to prepare. In discovery nothing is asked yet, and the report says so
instead of "ready"; a retired service is judged on what applies to a retired service.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from perfplat.kpis import services as kpi_services

from .readiness_facts import (
    ALPHA,
    BETA,
    LIVE,
    MET,
    NOT_APPLICABLE,
    NOT_MET,
    RETIRED,
    Evidence,
    Facts,
    Step,
    current_version,
    kpi_data_sets,
    kpi_records_between,
)
from .readiness_items import ITEMS, RETIRED_ITEMS, RETIRED_REASON

__all__ = [
    "MET",
    "NOT_APPLICABLE",
    "NOT_MET",
    "Evidence",
    "Item",
    "Report",
    "Step",
    "current_version",
    "kpi_data_sets",
    "kpi_records_between",
    "organisation_readiness",
    "readiness",
    "report_json",
]

# What the standard asks at each phase: the items of that phase and of those before it.
PHASE_RANK = {"discovery": 0, ALPHA: 1, BETA: 2, LIVE: 3}
READY, NOT_READY = "ready", "not ready"
DISCOVERY_REASON = (
    "In discovery the Service Standard asks nothing of a service's performance reporting: its "
    "first assessment is at the end of alpha. What that assessment asks is listed below, to "
    "prepare"
)

NOTHING_APPLIES = "Nothing asked at this phase applies to the service: each item says why"


@dataclass(frozen=True)
class Item:
    key: str  # stable: "beta.published"
    phase: str  # the phase whose assessment first asks for it (or "retired")
    title: str
    status: str  # met, not met or not applicable
    evidence: tuple[Evidence, ...]
    next_steps: tuple[Step, ...]  # what to do, each with the page that does it; () unless not met
    required: bool  # asked at the service's phase
    reason: str = ""  # why it does not apply, when it does not

    @property
    def met(self) -> bool:
        return self.status == MET

    @property
    def applies(self) -> bool:
        return self.status != NOT_APPLICABLE

    @property
    def next_step(self) -> str:
        return ". ".join(step.text for step in self.next_steps)


@dataclass(frozen=True)
class Report:
    service: object
    phase: str
    computed_at: datetime
    items: tuple[Item, ...]  # every item listed; `required` marks those asked at this phase
    reason: str = ""  # why nothing is asked at this phase, when nothing is

    @property
    def required(self) -> list[Item]:
        """The items asked at the service's phase that apply to it."""
        return [item for item in self.items if item.required and item.applies]

    @property
    def not_applicable(self) -> list[Item]:
        return [item for item in self.items if item.required and not item.applies]

    @property
    def upcoming(self) -> list[Item]:
        """Items of later phases, for the team to prepare (none for a retired service)."""
        if self.phase == RETIRED:
            return []
        return [item for item in self.items if not item.required]

    @property
    def met_count(self) -> int:
        return sum(1 for item in self.required if item.met)

    @property
    def status(self) -> str:
        """ready, not ready, or not applicable (nothing is asked at this phase)."""
        if not self.required:
            return NOT_APPLICABLE
        return READY if all(item.met for item in self.required) else NOT_READY

    @property
    def ready(self) -> bool | None:
        """Whether every item asked is met; None when nothing is asked."""
        return None if self.status == NOT_APPLICABLE else self.status == READY

    @property
    def next_steps(self) -> tuple[Step, ...]:
        """What to do first: the steps of the first item asked that is not met."""
        return next((item.next_steps for item in self.required if not item.met), ())

    @property
    def next_step(self) -> str:
        return ". ".join(step.text for step in self.next_steps)


def readiness(service, now: int | None = None) -> Report:
    """The service's readiness report, from the platform's state at `now` (epoch seconds)."""
    now = kpi_services.current_time() if now is None else now
    facts = Facts(service, now)
    retired = service.phase == RETIRED
    rank = PHASE_RANK.get(service.phase, 0)
    items = []
    # A retired service's own items first: they are what it is judged on.
    for key, phase, title, judge in RETIRED_ITEMS + ITEMS if retired else ITEMS:
        if retired and phase != RETIRED:
            items.append(Item(key, phase, title, NOT_APPLICABLE, (), (), False, RETIRED_REASON))
            continue
        judged = judge(facts)
        items.append(
            Item(
                key=key,
                phase=phase,
                title=title,
                status=judged.status,
                evidence=judged.evidence,
                next_steps=judged.steps if judged.status == NOT_MET else (),
                required=phase == RETIRED or (not retired and PHASE_RANK[phase] <= rank),
                reason=judged.reason,
            )
        )
    report = Report(service, service.phase, datetime.fromtimestamp(now, UTC), tuple(items))
    if report.required:
        return report
    reason = DISCOVERY_REASON if rank == 0 and not retired else NOTHING_APPLIES
    return Report(report.service, report.phase, report.computed_at, report.items, reason)


def _steps_json(steps) -> list[dict]:
    return [{"text": step.text, "href": step.href} for step in steps]


def report_json(report: Report) -> dict:
    service = report.service
    return {
        "service": {
            "slug": service.slug,
            "name": service.name,
            "organisation": service.organisation.slug,
            "phase": service.phase,
        },
        "computed_at": report.computed_at.isoformat(),
        "status": report.status,
        "ready": report.ready,
        "reason": report.reason or None,
        "met": report.met_count,
        "required": len(report.required),
        "not_applicable": len(report.not_applicable),
        "next_steps": _steps_json(report.next_steps),
        "items": [
            {
                "key": item.key,
                "phase": item.phase,
                "title": item.title,
                "required": item.required,
                "status": item.status,
                "met": item.met,
                "reason": item.reason or None,
                "evidence": [{"text": e.text, "href": e.href or None} for e in item.evidence],
                "next_step": item.next_step or None,
                "next_steps": _steps_json(item.next_steps),
            }
            for item in report.items
        ],
    }


def organisation_readiness(user, organisation, now: int | None = None) -> list[Report]:
    """The readiness of every service of the organisation and the bodies under it that the
    user works on."""
    from perfplat.registry.services import services_visible_to

    services = (
        services_visible_to(user)
        .filter(organisation_id__in=organisation.descendant_ids())
        .prefetch_related("data_sets")
        .order_by("name")
    )
    now = kpi_services.current_time() if now is None else now
    return [readiness(service, now) for service in services]
