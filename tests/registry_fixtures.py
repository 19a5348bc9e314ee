"""A small registry for tests: two departments (one with an agency), a user of each role, and a
service with a data set in each organisation. Built through the same functions users call."""

from dataclasses import dataclass

import pytest

from perfplat.accounts.models import User
from perfplat.accounts.services import create_user, issue_personal_token
from perfplat.datasets.services import DataSetSettings, create_data_set
from perfplat.registry.services import create_organisation, create_service

PASSWORD = "a-long-test-password-42"


@dataclass
class World:
    department: object
    agency: object
    other: object
    service: object
    agency_service: object
    other_service: object
    data_set: object
    other_data_set: object
    platform_admin: User
    org_admin: User
    editor: User
    agency_editor: User
    other_admin: User
    other_editor: User

    def token(self, user: User) -> str:
        return issue_personal_token(None, user, "tests")[1]


def build_world() -> World:
    department = create_organisation(
        None,
        slug="transport",
        name="Department for Transport",
        abbreviation="DfT",
        type="department",
    )
    agency = create_organisation(
        None,
        slug="licensing",
        name="Licensing Agency",
        abbreviation="LA",
        type="agency",
        parent=department,
    )
    other = create_organisation(None, slug="health", name="Department of Health", type="department")
    service = create_service(
        None, slug="road-tax", name="Tax your vehicle", organisation=department, phase="live"
    )
    agency_service = create_service(
        None, slug="licence-renewal", name="Renew your licence", organisation=agency, phase="beta"
    )
    other_service = create_service(
        None, slug="book-a-jab", name="Book a jab", organisation=other, phase="alpha"
    )
    data_set, _ = create_data_set(
        None, "transactions", service=service, settings=DataSetSettings(published=True)
    )
    other_data_set, _ = create_data_set(None, "transactions", service=other_service)

    def user(email, role, organisation):
        return create_user(None, email, role, organisation=organisation, password=PASSWORD)

    return World(
        department=department,
        agency=agency,
        other=other,
        service=service,
        agency_service=agency_service,
        other_service=other_service,
        data_set=data_set,
        other_data_set=other_data_set,
        platform_admin=user("admin@example.gov.uk", "platform-admin", None),
        org_admin=user("dft-admin@example.gov.uk", "org-admin", department),
        editor=user("dft-editor@example.gov.uk", "editor", department),
        agency_editor=user("la-editor@example.gov.uk", "editor", agency),
        other_admin=user("doh-admin@example.gov.uk", "org-admin", other),
        other_editor=user("doh-editor@example.gov.uk", "editor", other),
    )


@pytest.fixture
def world(db) -> World:
    return build_world()
