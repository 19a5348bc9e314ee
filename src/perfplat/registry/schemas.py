"""Request and response shapes of the organisation and service API."""

from datetime import date, datetime

from ninja import Schema


class OrganisationOut(Schema):
    slug: str
    name: str
    abbreviation: str
    type: str
    parent: str | None
    children: list[str]

    @staticmethod
    def resolve_parent(organisation) -> str | None:
        return organisation.parent.slug if organisation.parent_id else None

    @staticmethod
    def resolve_children(organisation) -> list[str]:
        return sorted(child.slug for child in organisation.children.all())


class OrganisationIn(Schema):
    slug: str
    name: str
    abbreviation: str = ""
    type: str = "department"
    parent: str | None = None


class OrganisationPatch(Schema):
    slug: str | None = None
    name: str | None = None
    abbreviation: str | None = None
    type: str | None = None
    parent: str | None = None


class ServiceOut(Schema):
    slug: str
    name: str
    description: str
    organisation: str
    phase: str
    start_page_url: str
    audience: str
    dashboard_usage: str
    previous_assessment_date: date | None
    next_assessment_date: date | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_organisation(service) -> str:
        return service.organisation.slug


class ServiceIn(Schema):
    slug: str
    name: str
    organisation: str
    description: str = ""
    phase: str = "discovery"
    start_page_url: str = ""
    audience: str = ""
    dashboard_usage: str = ""
    previous_assessment_date: date | None = None
    next_assessment_date: date | None = None


class ServicePatch(Schema):
    slug: str | None = None
    name: str | None = None
    organisation: str | None = None
    description: str | None = None
    phase: str | None = None
    start_page_url: str | None = None
    audience: str | None = None
    dashboard_usage: str | None = None
    previous_assessment_date: date | None = None
    next_assessment_date: date | None = None


class PhaseChangeOut(Schema):
    changed_at: datetime
    from_phase: str
    to_phase: str
    changed_by: str | None

    @staticmethod
    def resolve_changed_by(change) -> str | None:
        return change.changed_by.email if change.changed_by_id else None
