"""Request and response shapes of the publishing API: dashboard versions, their comparison,
assessment snapshots and readiness reports."""

from datetime import date, datetime
from typing import Any

from ninja import Schema


def _who(user) -> str | None:
    return user.email if user is not None else None


class VersionSummaryOut(Schema):
    number: int
    state: str  # draft, in-review, published, superseded, unpublished
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    submitted_by: str | None
    submitted_at: datetime | None
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str  # why it was sent back
    published_at: datetime | None

    @staticmethod
    def resolve_created_by(version) -> str | None:
        return _who(version.created_by)

    @staticmethod
    def resolve_submitted_by(version) -> str | None:
        return _who(version.submitted_by)

    @staticmethod
    def resolve_reviewed_by(version) -> str | None:
        return _who(version.reviewed_by)


class VersionOut(VersionSummaryOut):
    content: dict[str, Any]  # audience, usage, baseline and the ordered modules


class DashboardOut(Schema):
    working: VersionSummaryOut | None  # a draft or a version in review
    published: VersionSummaryOut | None  # what the public sees


class SendBackIn(Schema):
    comment: str


class VersionChangeOut(Schema):
    what: str  # audience, usage, baseline, or "<kind> module “<title>”"
    change: str  # changed, added, removed, moved
    before: Any
    after: Any


class ComparisonOut(Schema):
    older: int
    newer: int
    changes: list[VersionChangeOut]


class AssessmentIn(Schema):
    phase: str  # alpha, beta or live
    assessed_on: date
    outcome: str  # met, not-met or in-progress
    notes: str = ""


class AssessmentPatch(Schema):
    evolution: str


class AssessmentOut(Schema):
    id: int
    service: str
    phase: str
    assessed_on: date
    outcome: str
    notes: str
    metadata: dict[str, Any]  # the service's and dashboard's details when recorded
    kpis: dict[str, Any]  # the KPI API's JSON of the last complete month before the date
    evolution: str
    recorded_by: str | None
    recorded_at: datetime

    @staticmethod
    def resolve_service(snapshot) -> str:
        return snapshot.service.slug

    @staticmethod
    def resolve_recorded_by(snapshot) -> str | None:
        return _who(snapshot.recorded_by)


class EvolutionNoteIn(Schema):
    evolution: str


class EvolutionNoteOut(Schema):
    service: str
    evolution: str  # "" until written
    since: str | None  # the assessment it follows: "the beta assessment of 3 February 2025"
    writable: bool
    refusal: str | None  # why it cannot be written, when it cannot
    updated_at: datetime | None
    updated_by: str | None


class EvidenceOut(Schema):
    text: str
    href: str | None


class StepOut(Schema):
    text: str
    href: str  # the page that does it


class ReadinessItemOut(Schema):
    key: str
    phase: str  # the phase whose assessment first asks for it, or "retired"
    title: str
    required: bool  # asked at the service's phase
    status: str  # "met", "not met" or "not applicable"
    met: bool
    reason: str | None  # why it does not apply, when it does not
    evidence: list[EvidenceOut]
    next_step: str | None  # the next steps' texts, as one sentence
    next_steps: list[StepOut]


class ReadinessServiceOut(Schema):
    slug: str
    name: str
    organisation: str
    phase: str


class ReadinessOut(Schema):
    service: ReadinessServiceOut
    computed_at: datetime
    status: str  # "ready", "not ready", or "not applicable" when nothing is asked
    ready: bool | None  # every item asked (that applies) is met; null when nothing is asked
    reason: str | None  # why nothing is asked, when nothing is
    met: int
    required: int  # the items asked at the service's phase that apply to it
    not_applicable: int  # the items asked at the phase that do not apply, each saying why
    next_steps: list[StepOut]  # of the first item asked that is not met
    items: list[ReadinessItemOut]
