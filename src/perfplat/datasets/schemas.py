"""Request and response shapes of the data set management API."""

from datetime import datetime

from ninja import Schema


class DataSetOut(Schema):
    id: int
    name: str
    data_group: str
    data_type: str
    service: str | None
    auto_ids: list[str]
    raw_queries_allowed: bool
    max_age_expected: int | None
    published: bool
    cache_max_age: int | None
    upload_format: str
    last_write_at: datetime | None
    url: str
    standard_type: str
    # How its data arrived in the last 90 days: manual, automatic, mixed or no data.
    source: str
    # Whether its last write is older than max_age_expected (services.freshness).
    stale: bool

    @staticmethod
    def resolve_stale(data_set) -> bool:
        from .services import freshness

        return freshness(data_set).stale

    @staticmethod
    def resolve_service(data_set) -> str | None:
        return data_set.service.slug if data_set.service_id else None

    @staticmethod
    def resolve_url(data_set) -> str:
        return f"/data/{data_set.data_group}/{data_set.data_type}"


class DataSetCreated(DataSetOut):
    token: str


class DataSetIn(Schema):
    data_type: str
    data_group: str | None = None
    name: str | None = None
    auto_ids: list[str] = []
    raw_queries_allowed: bool = False
    max_age_expected: int | None = None
    published: bool = False
    cache_max_age: int | None = None
    upload_format: str = "csv"
    standard_type: str = ""


class DataSetPatch(Schema):
    auto_ids: list[str] | None = None
    raw_queries_allowed: bool | None = None
    max_age_expected: int | None = None
    published: bool | None = None
    cache_max_age: int | None = None
    upload_format: str | None = None


class TokenOut(Schema):
    token: str
    message: str


class MessageOut(Schema):
    status: str
    message: str
