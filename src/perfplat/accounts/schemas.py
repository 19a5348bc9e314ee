"""Request and response shapes of the user API."""

from datetime import datetime

from ninja import Schema


class UserOut(Schema):
    id: int
    email: str
    name: str
    role: str
    organisation: str | None
    is_active: bool
    date_joined: datetime

    @staticmethod
    def resolve_organisation(user) -> str | None:
        return user.organisation.slug if user.organisation_id else None


class UserIn(Schema):
    email: str
    role: str
    organisation: str | None = None
    name: str = ""


class UserPatch(Schema):
    name: str | None = None
    role: str | None = None
    organisation: str | None = None
    is_active: bool | None = None
